"""GDPR erasure removes every trace of one customer from the lake and the warehouse, and nothing else."""

from __future__ import annotations

import json

import pytest

from coretelecoms.context import RunContext
from coretelecoms.lake import engine_for
from coretelecoms.ops.erasure import AUDIT_TABLE, ErasureError, erase_customer, traces
from coretelecoms.publish import run_publish
from coretelecoms.publish.warehouse import connect, fetch
from coretelecoms.settings import load_settings

GONE = "5a9f0c12-3d6e-4e7b-a1c4-b8e2d0f7a619"
KEPT = "e03b9d47-1111-4e7b-a1c4-000000000001"


def complaint_id(customer: str, n: int) -> str:
    return f"Mar097{n}K{customer.replace('-', '')}4417abcdef123Kgd"


@pytest.fixture
def ctx(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    settings = load_settings("local")
    return RunContext(settings, spark, engine_for(spark, settings.lake.root, "delta-rs"), "erasure")


def build_lake(ctx):
    s = ctx.spark
    ctx.lake.append(
        "bronze.call_logs",
        s.createDataFrame(
            [(complaint_id(c, 1), c, None) for c in (GONE, KEPT)] + [("x", "y", f"broken,{GONE},row")],
            "call_id string, customer_id string, _corrupt_record string",
        ),
    )
    ctx.lake.append(
        "silver.customers",
        s.createDataFrame(
            [(GONE, "Ann Lee", "ann@x.com"), (KEPT, "Bo Kim", "bo@y.com")],
            "customer_id string, name string, email string",
        ),
    )
    ctx.lake.append(
        "silver.call_logs",
        s.createDataFrame(
            [(complaint_id(c, i), c, 60) for c in (GONE, KEPT) for i in (1, 2)],
            "call_id string, customer_id string, call_duration_seconds int",
        ),
    )
    ctx.lake.append(
        "silver.complaint_status_history",
        s.createDataFrame(
            [(complaint_id(c, 1), "Backlog", "Resolved") for c in (GONE, KEPT)],
            "complaint_id string, old_status string, new_status string",
        ),
    )
    ctx.lake.append(
        "silver.quarantine",
        s.createDataFrame(
            [
                ("silver.web_complaints", json.dumps({"customer_id": GONE, "request_id": "?"})),
                ("silver.web_complaints", "{}"),
            ],
            "table_name string, raw_record string",
        ),
    )
    ctx.lake.append(
        "gold.dim_customer",
        s.createDataFrame(
            [(-1, None, "Unknown"), (11, GONE, "Ann Lee"), (12, GONE, "Ann Lee-Smith"), (21, KEPT, "Bo Kim")],
            "customer_sk bigint, customer_id string, name string",
        ),
    )
    ctx.lake.append(
        "gold.fct_complaint",
        s.createDataFrame(
            [
                (101, 11, complaint_id(GONE, 1), 60, 1.5),
                (102, 12, complaint_id(GONE, 2), 60, 2.5),
                (201, 21, complaint_id(KEPT, 1), 60, 3.5),
            ],
            "complaint_sk bigint, customer_sk bigint, source_complaint_id string, call_duration_seconds int, "
            "resolution_hours double",
        ),
    )
    ctx.lake.append(
        "gold.fct_complaint_lifecycle",
        s.createDataFrame([(101, 3), (102, 4), (201, 5)], "complaint_sk bigint, days_open int"),
    )
    ctx.lake.append(
        "gold.mart_customer_risk",
        s.createDataFrame([(GONE, 80.0), (KEPT, 10.0)], "customer_id string, risk_score double"),
    )


def test_erasure_leaves_no_trace_in_lake_or_warehouse(ctx):
    build_lake(ctx)
    run_publish(ctx)
    before_kept = traces(ctx, KEPT)
    assert traces(ctx, GONE)  # the customer is everywhere to begin with

    result = erase_customer(ctx.for_layer("erasure"), GONE, request_id="REQ-42")

    assert traces(ctx, GONE) == {}
    assert traces(ctx, KEPT) == before_kept  # nobody else touched
    assert result["deleted"] == {
        "bronze.call_logs": 2,
        "gold.dim_customer": 2,
        "gold.fct_complaint": 2,
        "gold.fct_complaint_lifecycle": 2,
        "gold.mart_customer_risk": 1,
        "silver.call_logs": 2,
        "silver.complaint_status_history": 1,
        "silver.customers": 1,
        "silver.quarantine": 1,
    }
    assert result["warehouse"] == "deletes published"
    with connect(ctx.settings.warehouse, "test") as conn:
        assert fetch(conn, f"SELECT COUNT(*) FROM DIM_CUSTOMER WHERE CUSTOMER_ID = '{GONE}'") == [(0,)]
        assert fetch(conn, f"SELECT COUNT(*) FROM MART_CUSTOMER_RISK WHERE CUSTOMER_ID = '{GONE}'") == [(0,)]
        assert fetch(conn, "SELECT COUNT(*) FROM FCT_COMPLAINT") == [(1,)]
        assert fetch(conn, "SELECT COUNT(*) FROM FCT_COMPLAINT_LIFECYCLE") == [(1,)]
    audit = ctx.lake.read(AUDIT_TABLE).collect()
    assert [a["request_id"] for a in audit] == ["REQ-42"] and audit[0]["rows_deleted"] == 14
    assert GONE not in str(audit) and GONE.replace("-", "") not in str(audit)
    # the erased rows survive only in older versions, which VACUUM removes after the retention
    assert ctx.lake.read("silver.customers", version=0).filter(f"customer_id = '{GONE}'").count() == 1


def test_erasure_refuses_anything_but_a_uuid(ctx):
    with pytest.raises(ErasureError, match="lower-case UUID"):
        erase_customer(ctx, "' OR 1=1 --")


def test_erase_exits_1_when_the_warehouse_deletes_fail(ctx, monkeypatch):
    from typer.testing import CliRunner

    from coretelecoms.cli import app

    build_lake(ctx)
    run_publish(ctx)
    monkeypatch.setenv("COLUMNS", "200")
    # The warehouse is now a Snowflake account that is not configured: the deletes cannot be published.
    monkeypatch.setenv("CORETELECOMS__WAREHOUSE__KIND", "snowflake")
    result = CliRunner().invoke(app, ["erase", "--customer-id", GONE, "--request-id", "REQ-7"])

    assert result.exit_code == 1, result.output
    assert "the lake is erased but the warehouse is not" in result.output
    assert "warehouse.account is not set" in result.output
    assert traces(ctx, GONE) == {}  # the lake part stands
    audit = ctx.lake.read(AUDIT_TABLE).collect()
    assert [a["request_id"] for a in audit] == ["REQ-7"] and audit[0]["warehouse"].startswith("failed: ")
    with connect(ctx.settings.warehouse, "test") as conn:  # still there, as the exit code says
        assert fetch(conn, f"SELECT COUNT(*) FROM DIM_CUSTOMER WHERE CUSTOMER_ID = '{GONE}'") == [(2,)]
