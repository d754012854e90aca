"""`coretelecoms status` reads the run ledger; `run all --force` reruns what the ledger shows as done."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from typer.testing import CliRunner

from coretelecoms import runner as runner_mod
from coretelecoms.cli import app
from coretelecoms.context import RunContext
from coretelecoms.lake import engine_for
from coretelecoms.ops import ledger
from coretelecoms.ops.ledger import LedgerEntry
from coretelecoms.settings import load_settings

cli = CliRunner()
D1, D2 = date(2025, 11, 20), date(2025, 11, 21)


@pytest.fixture
def ctx(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "220")
    monkeypatch.delenv("CORETELECOMS_ENV", raising=False)
    settings = load_settings("local")
    return RunContext(settings, spark, engine_for(spark, settings.lake.root, "delta-rs"), "test")


def at(hh: int, mm: int, ss: float = 0) -> datetime:
    return datetime(2025, 11, 21, hh, mm, int(ss), int(ss % 1 * 1_000_000))


def record(ctx, layer: str, run_id: str, *entries: LedgerEntry) -> None:
    ledger.record(RunContext(ctx.settings, ctx.spark, ctx.lake, layer, run_id), list(entries))


def row_of(output: str, run_id: str) -> list[str]:
    lines = [ln.split() for ln in output.splitlines() if run_id in ln.split()[1:2]]
    assert len(lines) == 1, output
    return lines[0]


def test_status_shows_the_latest_run_per_layer_and_date(ctx):
    record(
        ctx,
        "bronze",
        "bronze-a",
        LedgerEntry("customers", D1, rows_out=100, started_at=at(10, 0), ended_at=at(10, 0, 5)),
        LedgerEntry(
            "call_logs", D1, rows_out=50, rejected=3, started_at=at(10, 0, 1), ended_at=at(10, 0, 12.5)
        ),
    )
    record(
        ctx,
        "silver",
        "silver-old",
        LedgerEntry("customers", D1, status="failed", error="boom", started_at=at(9, 0), ended_at=at(9, 1)),
    )
    record(
        ctx,
        "silver",
        "silver-new",
        LedgerEntry("customers", D1, rows_out=140, started_at=at(11, 0), ended_at=at(11, 0, 30)),
    )
    record(
        ctx,
        "gold",
        "gold-b",
        LedgerEntry("dim_agent", D2, rows_out=7, started_at=at(12, 0), ended_at=at(12, 0, 2)),
        LedgerEntry(
            "fct_complaint",
            D2,
            status="failed",
            error="OSError: disk full",
            started_at=at(12, 0, 2),
            ended_at=at(12, 0, 4),
        ),
    )

    result = cli.invoke(app, ["status"])

    assert result.exit_code == 0, result.output
    assert row_of(result.output, "bronze-a") == ["2025-11-20", "bronze-a", "150", "3", "12.5", "ok"]
    assert row_of(result.output, "silver-new") == ["2025-11-20", "silver-new", "140", "0", "30.0", "ok"]
    assert "silver-old" not in result.output  # superseded by the later run of the same layer and date
    gold = row_of(result.output, "gold-b")
    assert gold == ["2025-11-21", "gold-b", "7", "0", "4.0", "failed"]
    assert "gold-b fct_complaint: OSError: disk full" in result.output  # the error, below the table
    # Newest date first.
    assert result.output.index("gold-b") < result.output.index("bronze-a")


def test_run_all_skips_completed_dates_unless_force(ctx, monkeypatch):
    calls: list[tuple[str, date]] = []

    def fake_layer(layer):
        def run(layer_ctx, run_date):
            calls.append((layer, run_date))
            entries = [LedgerEntry("x", run_date, rows_out=1)]
            ledger.record(layer_ctx, entries)
            return entries

        return run

    monkeypatch.setattr(runner_mod, "layer_function", fake_layer)
    chain = runner_mod.DAILY_CHAIN

    first = cli.invoke(app, ["run", "all", "--date", "2025-11-20"])
    assert first.exit_code == 0, first.output
    assert calls == [(layer, D1) for layer in chain]

    calls.clear()
    again = cli.invoke(app, ["run", "all", "--date", "2025-11-20"])
    assert again.exit_code == 0 and calls == []
    assert all(f"{layer} 2025-11-20: already completed" in again.output for layer in chain)

    forced = cli.invoke(app, ["run", "all", "--date", "2025-11-20", "--force"])
    assert forced.exit_code == 0, forced.output
    assert calls == [(layer, D1) for layer in chain] and "already completed" not in forced.output
    runs = ledger.read(ctx).filter("layer = 'bronze'").select("run_id").distinct().count()
    assert runs == 2


NO_SPARK = """
import sys, time
from typer.testing import CliRunner
from coretelecoms.cli import app
began = time.perf_counter()
for command in ("status", "tables"):
    result = CliRunner().invoke(app, [command], terminal_width=80)
    assert result.exit_code == 0, result.output
    print(result.output)
from pyspark import SparkContext
from pyspark.sql import SparkSession
print("SPARK", SparkContext._active_spark_context is not None or SparkSession._instantiatedSession is not None)
print("SECONDS", time.perf_counter() - began)
"""


def test_status_and_tables_start_no_spark_and_fit_80_columns(ctx, monkeypatch):
    import os
    import subprocess
    import sys

    long_id = "publish-20251121T235959-abcdef"
    record(
        ctx,
        "publish",
        long_id,
        LedgerEntry("gold.fct_complaint", D2, rows_out=1_234_567, started_at=at(12, 0), ended_at=at(12, 9)),
    )
    ctx.lake.append("gold.fct_complaint_lifecycle", ctx.spark.createDataFrame([(1,), (2,)], "k int"))
    monkeypatch.setenv("COLUMNS", "80")
    done = subprocess.run(
        [sys.executable, "-c", NO_SPARK], capture_output=True, text=True, env=os.environ, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "SPARK False" in done.stdout  # neither command started a JVM or a session
    lines = done.stdout.split("SPARK")[0].splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(long_id in line and "1,234,567" in line for line in lines)  # whole run id, on its row
    assert any(line.split()[:4] == ["gold.fct_complaint_lifecycle", "0", "2", "1"] for line in lines if line)
    assert any(line.split()[:3] == ["_ops.runs", "0", "1"] for line in lines if line)
