"""The whole chain on generated, messy sources: sources -> bronze -> silver -> gold -> Snowflake (fakesnow)."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from coretelecoms.bronze import SOURCES
from coretelecoms.cli import app
from coretelecoms.context import RunContext
from coretelecoms.gold import TABLES as GOLD_TABLES
from coretelecoms.lake import engine_for
from coretelecoms.landing.registry import TABLE as LANDED
from coretelecoms.ops import ledger
from coretelecoms.ops.erasure import erase_customer, traces
from coretelecoms.publish.warehouse import connect, fetch
from coretelecoms.runner import DAILY_CHAIN, layer_function
from coretelecoms.settings import load_settings

COMPLAINTS = ("silver.call_logs", "silver.social_complaints", "silver.web_complaints")


def test_every_complaint_reaches_the_fact_and_the_warehouse(lakehouse):
    lake = lakehouse.ctx.lake
    silver_rows = sum(lake.count(t) for t in COMPLAINTS)
    assert lake.count("gold.fct_complaint") == silver_rows > 0
    with connect(lakehouse.settings.warehouse, "test") as conn:
        assert fetch(conn, "SELECT COUNT(*) FROM FCT_COMPLAINT")[0][0] == silver_rows
        assert (
            fetch(conn, "SELECT COUNT(*) FROM DIM_CUSTOMER WHERE IS_CURRENT")[0][0]
            == lake.read("gold.dim_customer").filter("is_current").count()
        )


def test_every_layer_and_date_completed_in_the_ledger(lakehouse):
    ctx = lakehouse.context("check")
    for layer, run_date, _ in lakehouse.ledger:
        assert ledger.completed(ctx, layer, run_date), (layer, run_date)


def test_rerunning_a_date_changes_no_table(lakehouse):
    ctx = lakehouse.context("rerun")
    names = [t for t in ctx.lake.list_tables() if t.split(".")[0] in ("bronze", "silver", "gold")]
    before = {t: ctx.lake.version(t) for t in names}

    for layer in DAILY_CHAIN:
        entries = layer_function(layer)(ctx.for_layer(layer), lakehouse.dates[-1])
        assert all(e.status != "failed" for e in entries), (layer, entries)
    assert {t: ctx.lake.version(t) for t in names} == before


def gold_content(lake) -> dict[str, list[tuple]]:
    """Every gold table's rows without the audit columns, sorted."""
    out = {}
    for table in GOLD_TABLES:
        df = lake.read(table)
        cols = sorted(c for c in df.columns if c not in ("_run_id", "_updated_at"))
        out[table] = sorted((tuple(r) for r in df.select(*cols).collect()), key=repr)
    return out


def test_cli_gold_rebuild_yields_identical_tables(lakehouse_copy, monkeypatch):
    lake = lakehouse_copy.ctx.lake
    before = gold_content(lake)
    versions = {t: lake.version(t) for t in GOLD_TABLES}
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, ["run", "gold", "--rebuild", "--date", str(lakehouse_copy.dates[-1])])
    assert result.exit_code == 0, result.output
    assert lake.version("gold.fct_complaint") > versions["gold.fct_complaint"], "the rebuild rewrote the fact"
    assert gold_content(lake) == before


def test_cli_quality_check_runs_the_full_suites_and_fails_on_a_stored_duplicate(lakehouse_copy, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    lake = lakehouse_copy.ctx.lake
    result = CliRunner().invoke(app, ["quality", "check"])
    assert result.exit_code == 0, result.output
    for table in ("silver.call_logs", "gold.fct_complaint", "gold.mart_customer_risk"):
        assert f"{table}.table" in result.output
    # A row stored twice by no run of today: no daily commit check reads it, the full suite does.
    lake.append("silver.call_logs", lake.read("silver.call_logs").limit(1))
    result = CliRunner().invoke(app, ["quality", "check", "--table", "silver.call_logs"])
    assert result.exit_code == 1, result.output
    assert "call_id_unique" in result.output and "gold.fct_complaint" not in result.output
    result = CliRunner().invoke(app, ["quality", "check", "--table", "silver.nope"])
    assert result.exit_code == 2 and "no table suite for silver.nope" in result.output


def test_erasure_leaves_no_trace_of_a_real_customer(lakehouse_copy):
    ctx = lakehouse_copy.ctx
    customer = ctx.lake.read("silver.call_logs").filter("customer_known").select("customer_id").first()[0]
    assert traces(ctx, customer)
    result = erase_customer(ctx.for_layer("erasure"), customer)
    assert result["warehouse"] == "deletes published"
    assert traces(ctx, customer) == {}
    with connect(lakehouse_copy.settings.warehouse, "test") as conn:
        assert fetch(conn, f"SELECT COUNT(*) FROM DIM_CUSTOMER WHERE CUSTOMER_ID = '{customer}'") == [(0,)]
        hexid = customer.replace("-", "")
        assert fetch(
            conn, f"SELECT COUNT(*) FROM FCT_COMPLAINT WHERE SOURCE_COMPLAINT_ID LIKE '%{hexid}%'"
        ) == [(0,)]


def test_a_moved_lake_and_sources_rerun_every_layer_with_no_new_rows(lakehouse, tmp_path, monkeypatch):
    """A lake and its sources copied elsewhere (a restore, a bucket change, a data-dir move): every layer
    re-runs and finds nothing new, because lineage, checkpoint transactions and the landing registry hold
    keys relative to their roots, never the old absolute paths."""
    moved = tmp_path / "moved"
    for part in ("lake", "warehouse", "sources"):
        # The Postgres server is not a folder to move: the copy reads the same database.
        shutil.copytree(lakehouse.data_dir / part, moved / part, ignore=shutil.ignore_patterns("postgres"))
    monkeypatch.setenv("CORETELECOMS__SOURCES__POSTGRES__PGDATA", lakehouse.settings.sources.postgres.pgdata)
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(moved))
    settings = load_settings("local")
    assert settings.lake.root.startswith(str(moved))
    spark = lakehouse.ctx.spark
    ctx = RunContext(settings, spark, engine_for(spark, settings.lake.root, "delta-rs"), "moved")
    names = [t for t in ctx.lake.list_tables() if t.split(".")[0] in ("bronze", "silver", "gold")]
    before = {t: ctx.lake.version(t) for t in names}
    with connect(settings.warehouse, "test") as conn:
        facts = fetch(conn, "SELECT COUNT(*) FROM FCT_COMPLAINT")[0][0]

    offered = 0
    for layer in DAILY_CHAIN:
        entries = layer_function(layer)(ctx.for_layer(layer), lakehouse.dates[-1])
        assert all(e.status != "failed" for e in entries), (layer, entries)
        if layer == "bronze":
            assert {e.source: e.rows_out for e in entries} == dict.fromkeys(SOURCES, 0)
            offered = sum(len(json.loads(e.details)["already_ingested"]) for e in entries)
    # The stream's checkpoint knew the files by their old paths, so it offered them again (all but the
    # 0-byte ones, which Spark's file scan drops); bronze recognised each by its key.
    assert 0 < offered <= ctx.lake.read(LANDED).count()
    assert {t: ctx.lake.version(t) for t in names} == before
    with connect(settings.warehouse, "test") as conn:
        assert fetch(conn, "SELECT COUNT(*) FROM FCT_COMPLAINT")[0][0] == facts
