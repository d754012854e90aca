"""`run all --start --end` is a resumable backfill: after a failure it skips what the ledger shows as done."""

from __future__ import annotations

from typer.testing import CliRunner

from coretelecoms.cli import app
from coretelecoms.context import RunContext
from coretelecoms.lake import engine_for
from coretelecoms.ops import ledger
from coretelecoms.settings import load_settings
from coretelecoms.sources import dsn, generate, local_postgres, stop

runner = CliRunner()
D1, D2 = "2025-11-20", "2025-11-21"


def test_backfill_resumes_after_a_forced_failure(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    settings = load_settings("local")
    generate(
        tmp_path / "sources",
        scale=0.001,
        days=2,
        seed=5,
        pg_dsn=dsn(local_postgres(settings.sources.postgres.pgdata)),
    )
    # Publishing to a Snowflake account that is not configured fails on the first date.
    monkeypatch.setenv("CORETELECOMS__WAREHOUSE__KIND", "snowflake")
    failed = runner.invoke(app, ["run", "all", "--start", D1, "--end", D2])
    assert failed.exit_code == 1, failed.output
    assert "warehouse.account is not set" in failed.output

    ctx = RunContext(settings, spark, engine_for(spark, settings.lake.root, "delta-rs"), "check")
    from datetime import date

    d1, d2 = date.fromisoformat(D1), date.fromisoformat(D2)
    assert [ledger.completed(ctx, layer, d1) for layer in ("bronze", "silver", "gold", "publish")] == [
        True,
        True,
        True,
        False,
    ]
    assert not ledger.completed(ctx, "bronze", d2)  # the backfill stopped at the failure

    monkeypatch.delenv("CORETELECOMS__WAREHOUSE__KIND")
    resumed = runner.invoke(app, ["run", "all", "--start", D1, "--end", D2])
    assert resumed.exit_code == 0, resumed.output
    for layer in ("bronze", "silver", "gold"):
        assert f"{layer} {D1}: already completed" in resumed.output
    assert all(
        ledger.completed(ctx, layer, d) for layer in ("bronze", "silver", "gold", "publish") for d in (d1, d2)
    )
    bronze_runs = (
        ledger.read(ctx).filter(f"layer = 'bronze' AND run_date = '{D1}'").select("run_id").distinct()
    )
    assert bronze_runs.count() == 1  # day one's bronze ran once, not twice
    stop(settings.sources.postgres.pgdata)
