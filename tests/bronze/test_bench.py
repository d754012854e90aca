"""The benchmark times landing and bronze as separate steps, and bronze does not land again."""

from __future__ import annotations

import io

from pyspark.sql import functions as F
from rich.console import Console

from coretelecoms import runner
from coretelecoms.bench import run_bench
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
