"""The benchmark: generate sources at a scale, run each built layer day by day, report time, rows/s and RSS.

Peak RSS counts this process and its children (the Spark JVM and its Python workers), sampled every
0.2 s, because the JVM is where most memory goes.
"""

from __future__ import annotations

import functools
import threading
import time
from contextlib import contextmanager, suppress
from datetime import date

import psutil
from rich.console import Console
from rich.table import Table

from coretelecoms.settings import Settings

# Real volumes of one day (SOURCES.md), the yardstick for scale 1.0.
REAL_VOLUMES = {"customers": 2_500_000, "call_logs": 379_000, "social_media": 38_000, "web_forms": 279_000}


class PeakRss:
    """Samples the RSS of the process tree in a background thread while a step runs."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def _tree_rss(self) -> int:
        # Only python and java: the JVM forks short-lived helpers (chmod without native Hadoop) whose RSS
        # briefly reports the JVM's own pages and would double-count them.
        me = psutil.Process()
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            with suppress(psutil.Error):
                if proc is me or proc.name().startswith(("python", "java")):
                    total += proc.memory_info().rss
        return total

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._tree_rss())
            self._stop.wait(self.interval)

    @contextmanager
    def watch(self):
        self.peak = self._tree_rss()
        self._stop.clear()
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()


def generated_volumes(manifest: dict) -> dict[str, dict[str, int]]:
    """Records per source and date from the generator's manifest."""
    out: dict[str, dict[str, int]] = {}
    for info in list(manifest["files"].values()) + list(manifest["tables"].values()):
        source = info.get("source", "web_forms")
        out.setdefault(source, {})[str(info.get("date") or "static")] = info["records"]
    return out


def volume_check(manifest: dict, scale: float) -> list[dict]:
    """Generated rows per day against the real volumes times the scale."""
    rows = []
    for source, per_day in generated_volumes(manifest).items():
        if source not in REAL_VOLUMES:
            continue
        expected = REAL_VOLUMES[source] * scale
        for day, n in sorted(per_day.items()):
            rows.append(
                {
                    "source": source,
                    "date": day,
                    "rows": n,
                    "expected": round(expected),
                    "deviation_pct": round(100 * (n - expected) / expected, 2),
                }
            )
    return rows


def landed_records(entries, volumes: dict[str, dict[str, int]], run_date: date) -> int:
    """Records in what a landing run copied (landing counts files, not rows): from the manifest, the
    day's volume of each source that landed something, or its static file's (customers, agents)."""
    total = 0
    for e in entries:
        per_day = volumes.get(e.source, {})
        if e.files:
            total += per_day.get(str(run_date), per_day.get("static", 0))
    return total


def run_bronze_landed(s: Settings, run_date: date):
    """Bronze over what the landing step just landed, as `run_layers` would run it but without landing
    again, so the bench's bronze figure is ingestion only."""
    from coretelecoms.bronze import run_bronze
    from coretelecoms.cli import print_run
    from coretelecoms.context import RunContext
    from coretelecoms.runner import LayerRun, run_recorded

    ctx = RunContext.create(s, "bronze")
    began = time.perf_counter()
    entries = run_recorded(ctx, "bronze", functools.partial(run_bronze, land=False), run_date)
    run = LayerRun("bronze", run_date, ctx.run_id, time.perf_counter() - began, entries)
    print_run(run)
    return run


def run_bench(s: Settings, *, scale: float, days: int, seed: int, console: Console) -> dict:
    from coretelecoms.cli import generate_sources, layer_progress, run_layers
    from coretelecoms.runner import available_chain

    steps = []
    rss = PeakRss()
    began = time.perf_counter()
    with rss.watch():
        manifest = generate_sources(s, scale=scale, start=s.generator.start, days=days, seed=seed, messy=0.0)
    gen_seconds = time.perf_counter() - began
    gen_rows = sum(i["records"] for i in manifest["files"].values()) + sum(
        i["records"] for i in manifest["tables"].values()
    )
    steps.append(
        {
            "step": "generate",
            "date": None,
            "seconds": round(gen_seconds, 2),
            "rows": gen_rows,
            "rows_per_s": round(gen_rows / gen_seconds),
            "peak_rss_mb": rss.peak // 2**20,
        }
    )
    dates = sorted({date.fromisoformat(i["date"]) for i in manifest["files"].values() if i.get("date")})
    volumes = generated_volumes(manifest)

    def measure(step: str, layer: str, run_date: date, rebuild: bool = False) -> bool:
        with rss.watch():
            if layer == "bronze":
                shown.start(layer, run_date)
                run = run_bronze_landed(s, run_date)
                shown.done()
            else:
                run = run_layers(s, [layer], [run_date], rebuild=rebuild, shown=shown)[0]
        rows = landed_records(run.entries, volumes, run_date) if layer == "landing" else run.rows_out
        steps.append(
            {
                "step": step,
                "date": str(run_date),
                "seconds": round(run.seconds, 2),
                "rows": rows,
                "rows_per_s": round(rows / max(run.seconds, 1e-9)),
                "peak_rss_mb": rss.peak // 2**20,
                "failed": run.failed,
            }
        )
        return not run.failed

    chain = available_chain()
    if "bronze" in chain:
        chain = ["landing", *chain]
    ok = True
    with layer_progress(len(dates) * len(chain) + ("gold" in chain)) as shown:
        for run_date in dates:
            ok = all(measure(layer, layer, run_date) for layer in chain)
            if not ok:
                break
        if ok and "gold" in chain:  # the rebuild target: every day's silver recomputed into gold at once
            measure("gold --rebuild", "gold", dates[-1], rebuild=True)
    checks = volume_check(manifest, scale)
    table = Table(title=f"Benchmark: scale {scale}, {days} days")
    for col in ("step", "date", "seconds", "rows", "rows/s", "peak RSS MB"):
        table.add_column(col, justify="left" if col in ("step", "date") else "right")
    for st in steps:
        table.add_row(
            st["step"],
            str(st["date"] or "-"),
            f"{st['seconds']:.1f}",
            f"{st['rows']:,}",
            f"{st['rows_per_s']:,}",
            f"{st['peak_rss_mb']:,}",
        )
    console.print(table)
    vt = Table(title="Generated volumes vs real volumes × scale")
    for col in ("source", "date", "rows", "expected", "deviation %"):
        vt.add_column(col)
    for v in checks:
        vt.add_row(
            v["source"], v["date"], f"{v['rows']:,}", f"{v['expected']:,}", f"{v['deviation_pct']:+.2f}"
        )
    console.print(vt)
    return {
        "scale": scale,
        "days": days,
        "seed": seed,
        "machine": {"cpus": psutil.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "steps": steps,
        "volumes": checks,
    }
