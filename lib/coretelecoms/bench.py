"""The benchmark: generate sources at a scale, run each built layer day by day, report time, rows/s and RSS.

Peak RSS counts this process and its children (the Spark JVM and its Python workers), sampled every
0.2 s, because the JVM is where most memory goes; the report splits the peak into the JVM's share and
Python's (the driver with its Arrow buffers, and the Spark workers), and gives the JVM's heap limit.

The summary shows growth: each day's end-to-end seconds, the first load (every layer run of every day),
and per layer the ratio of the last day's seconds to day 2's (flat history costs stay near 1).
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
# The steps of one day, landing to publish (the --rebuild step is not part of a day).
DAILY_STEPS = ("landing", "bronze", "silver", "gold", "publish")


class PeakRss:
    """Samples the RSS of the process tree in a background thread while a step runs."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0
        self.split = {"jvm": 0, "python": 0}  # the shares at the peak
        self._stop = threading.Event()

    def _tree_rss(self) -> dict[str, int]:
        # Only python and java: the JVM forks short-lived helpers (chmod without native Hadoop) whose RSS
        # briefly reports the JVM's own pages and would double-count them.
        me = psutil.Process()
        out = {"jvm": 0, "python": 0}
        for proc in [me, *me.children(recursive=True)]:
            with suppress(psutil.Error):
                name = "python" if proc is me else proc.name()
                if name.startswith(("python", "java")):
                    out["jvm" if name.startswith("java") else "python"] += proc.memory_info().rss
        return out

    def _sample(self) -> None:
        now = self._tree_rss()
        if sum(now.values()) > self.peak:
            self.peak, self.split = sum(now.values()), now

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    @contextmanager
    def watch(self):
        self.peak = 0
        self._sample()
        self._stop.clear()
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()

    def figures(self) -> dict[str, int]:
        """The last watch's peak and its JVM and Python shares, in MiB."""
        return {
            "peak_rss_mb": self.peak // 2**20,
            "jvm_rss_mb": self.split["jvm"] // 2**20,
            "python_rss_mb": self.split["python"] // 2**20,
        }


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
            **rss.figures(),
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
                **rss.figures(),
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
    growth = summarize(steps)
    growth["jvm_heap_max_mb"] = jvm_heap_max_mb(s)
    print_report(console, scale, days, steps, growth, checks)
    return {
        "scale": scale,
        "days": days,
        "seed": seed,
        "machine": {"cpus": psutil.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "steps": steps,
        "summary": growth,
        "volumes": checks,
    }


def summarize(steps: list[dict]) -> dict:
    """Per-day end-to-end seconds (landing to publish), the first load (all of them), the later day (the
    last), and per layer the last day's seconds over day 2's (None with fewer than three days: day 2 is
    the first day whose history is not empty, the baseline growth is measured from)."""
    daily = [st for st in steps if st["step"] in DAILY_STEPS]
    days = sorted({st["date"] for st in daily})
    by_day = {d: round(sum(st["seconds"] for st in daily if st["date"] == d), 2) for d in days}
    layers = [name for name in DAILY_STEPS if any(st["step"] == name for st in daily)]
    seconds = {name: {st["date"]: st["seconds"] for st in daily if st["step"] == name} for name in layers}
    seconds["end to end"] = by_day

    def ratio(per_day: dict) -> float | None:
        if len(days) < 3 or not per_day.get(days[1]) or days[-1] not in per_day:
            return None
        return round(per_day[days[-1]] / per_day[days[1]], 2)

    peak = max(daily or steps, key=lambda st: st["peak_rss_mb"], default=None)
    return {
        "end_to_end_by_day": by_day,
        "first_load_seconds": round(sum(by_day.values()), 2),
        "later_day_seconds": by_day[days[-1]] if len(days) > 1 else None,
        "last_to_day2": {
            name: {
                "day2": per_day.get(days[1]) if len(days) > 1 else None,
                "last": per_day.get(days[-1]) if days else None,
                "ratio": ratio(per_day),
            }
            for name, per_day in seconds.items()
        },
        "peak_rss_mb": peak["peak_rss_mb"] if peak else 0,
        "peak_jvm_rss_mb": peak.get("jvm_rss_mb", 0) if peak else 0,
        "peak_python_rss_mb": peak.get("python_rss_mb", 0) if peak else 0,
    }


def jvm_heap_max_mb(s: Settings) -> int | None:
    """The driver JVM's heap limit (-Xmx, what spark.driver.memory sets), read from the running JVM."""
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        return None
    return int(spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory()) // 2**20


def print_report(console: Console, scale: float, days: int, steps, growth: dict, checks) -> None:
    table = Table(title=f"Benchmark: scale {scale}, {days} days")
    cols = ("step", "date", "seconds", "rows", "rows/s", "peak RSS MB", "JVM MB", "Python MB")
    for col in cols:
        table.add_column(col, justify="left" if col in ("step", "date") else "right")
    for st in steps:
        table.add_row(
            st["step"],
            str(st["date"] or "-"),
            f"{st['seconds']:.1f}",
            f"{st['rows']:,}",
            f"{st['rows_per_s']:,}",
            f"{st['peak_rss_mb']:,}",
            f"{st['jvm_rss_mb']:,}",
            f"{st['python_rss_mb']:,}",
        )
    console.print(table)
    gt = Table(title="Growth: the last day against day 2")
    for col in ("layer", "day 2 s", "last day s", "last / day 2"):
        gt.add_column(col, justify="left" if col == "layer" else "right")
    for name, g in growth["last_to_day2"].items():
        gt.add_row(name, _num(g["day2"]), _num(g["last"]), _num(g["ratio"], "{:.2f}"))
    console.print(gt)
    console.print(
        f"first load (every layer, every day): {growth['first_load_seconds']:.1f} s; later day "
        f"(the last, end to end): {_num(growth['later_day_seconds'])} s; peak RSS "
        f"{growth['peak_rss_mb']:,} MB (JVM {growth['peak_jvm_rss_mb']:,}, Python and Arrow "
        f"{growth['peak_python_rss_mb']:,}; JVM heap limit {_num(growth['jvm_heap_max_mb'], '{:,}')} MB)"
    )
    vt = Table(title="Generated volumes vs real volumes × scale")
    for col in ("source", "date", "rows", "expected", "deviation %"):
        vt.add_column(col)
    for v in checks:
        vt.add_row(
            v["source"], v["date"], f"{v['rows']:,}", f"{v['expected']:,}", f"{v['deviation_pct']:+.2f}"
        )
    console.print(vt)


def _num(value, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)
