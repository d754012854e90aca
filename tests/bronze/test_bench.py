"""The benchmark times landing and bronze as separate steps, and bronze does not land again."""

from __future__ import annotations

import io

from pyspark.sql import functions as F
from rich.console import Console

from coretelecoms import runner
from coretelecoms.bench import run_bench, summarize
from coretelecoms.context import RunContext
from coretelecoms.ops import ledger
from coretelecoms.settings import load_settings
from coretelecoms.sources import stop


def test_bench_reports_landing_and_bronze_separately(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CORETELECOMS__LAKE__DELTA_ENGINE", "delta-rs")
    monkeypatch.setattr(runner, "available_chain", lambda: ["bronze"])  # silver and later: not timed here
    s = load_settings("local")
    try:
        report = run_bench(s, scale=0.002, days=1, seed=5, console=Console(file=io.StringIO()))
        ctx = RunContext.create(s, "check", spark)
        landing_runs = (
            ledger.read(ctx).filter(F.col("layer") == "landing").select("run_id").distinct().count()
        )
    finally:
        stop(s.sources.postgres.pgdata)

    steps = report["steps"]
    assert [st["step"] for st in steps] == ["generate", "landing", "bronze"]
    assert len({tuple(sorted(st)) for st in steps[1:]}) == 1  # one JSON shape for every layer step
    landing, bronze = steps[1], steps[2]
    assert landing["date"] == bronze["date"] == s.generator.start.isoformat()
    assert not landing["failed"] and not bronze["failed"]
    # Day one lands every source: the customers file, the agents sheet and the day's three drops.
    generated = steps[0]["rows"]
    assert landing["rows"] == bronze["rows"] == generated
    for st in (landing, bronze):
        assert st["seconds"] > 0 and st["peak_rss_mb"] > 0
        assert abs(st["rows_per_s"] * st["seconds"] - st["rows"]) <= 0.01 * st["rows"]  # seconds is rounded
    assert landing_runs == 1  # bronze ingested what the landing step landed, without landing again
    for st in (landing, bronze):  # the peak split into the JVM's share and Python's
        assert st["jvm_rss_mb"] > 0 and st["python_rss_mb"] > 0
        assert st["peak_rss_mb"] - 1 <= st["jvm_rss_mb"] + st["python_rss_mb"] <= st["peak_rss_mb"]
    summary = report["summary"]
    assert summary["first_load_seconds"] == round(landing["seconds"] + bronze["seconds"], 2)
    assert summary["later_day_seconds"] is None  # one day: no later day, no growth ratio
    assert summary["last_to_day2"]["bronze"]["ratio"] is None
    assert summary["jvm_heap_max_mb"] > 1000  # conf/local.yaml: spark.driver.memory 3584m


def _step(step, day, seconds, rss=100):
    return {"step": step, "date": day, "seconds": seconds, "peak_rss_mb": rss, "jvm_rss_mb": rss - 10}


def test_the_summary_gives_each_day_end_to_end_and_the_growth_from_day_2():
    steps = [_step("generate", None, 50.0, rss=900)]
    for day, (silver, gold) in {
        "d1": (30.0, 20.0),
        "d2": (10.0, 8.0),
        "d3": (11.0, 8.5),
        "d4": (12.0, 9.0),
    }.items():
        steps += [
            _step("silver", day, silver, rss=300),
            _step("gold", day, gold, rss=400 if day == "d3" else 200),
        ]
    steps.append(_step("gold --rebuild", "d4", 40.0, rss=999))
    out = summarize(steps)
    assert out["end_to_end_by_day"] == {"d1": 50.0, "d2": 18.0, "d3": 19.5, "d4": 21.0}
    assert out["first_load_seconds"] == 108.5  # neither generating nor the rebuild is part of a day
    assert out["later_day_seconds"] == 21.0
    assert out["last_to_day2"]["silver"] == {"day2": 10.0, "last": 12.0, "ratio": 1.2}
    assert out["last_to_day2"]["gold"]["ratio"] == 1.12
    assert out["last_to_day2"]["end to end"]["ratio"] == 1.17
    assert (out["peak_rss_mb"], out["peak_jvm_rss_mb"]) == (400, 390)  # the daily steps' peak
