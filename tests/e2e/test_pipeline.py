"""The whole chain on generated, messy sources: sources -> bronze -> silver -> gold -> Snowflake (fakesnow)."""

from __future__ import annotations

from typer.testing import CliRunner

from coretelecoms.cli import app
from coretelecoms.gold import TABLES as GOLD_TABLES
from coretelecoms.ops import ledger
from coretelecoms.ops.erasure import erase_customer, traces
from coretelecoms.publish.warehouse import connect, fetch
from coretelecoms.runner import DAILY_CHAIN, layer_function

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
