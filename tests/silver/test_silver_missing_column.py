"""A column missing from a delivery is "not delivered", not NULL: silver keeps what earlier drops said.

A day's web-form table without `resolution_date` must not erase the resolutions of complaints resolved on
earlier drops (their resolution hours and SLA depend on it); the rows are counted by a warn rule.
"""

from __future__ import annotations

import json

from silver_support import D1, D2, web

from coretelecoms.quality.metrics import TABLE as METRICS
from coretelecoms.silver import run_silver

RESOLVED_AT = "2025-05-20 22:07:41"


def resolutions(lake) -> dict[str, tuple]:
    rows = lake.read("silver.web_complaints").collect()
    return {
        r["customer_id"][-1]: (
            r["resolution_status"],
            None if r["resolution_date"] is None else str(r["resolution_date"]),
            None if r["resolved_at"] is None else str(r["resolved_at"]),
            r["resolution_hours"],
        )
        for r in rows
    }


def day_two(bronze):
    # W1 still Resolved, W2 now Resolved, W3 new: the table came without its resolution_date column.
    bronze.drop(
        "web_forms",
        [web(1, 1, "Resolved"), web(2, 2, "Resolved"), web(3, 3, "Backlog")],
        D2,
        missing=["resolution_date"],
    )


def test_a_missing_column_keeps_the_stored_values_and_flags_the_rows(ctx, bronze):
    bronze.drop("web_forms", [web(1, 1, "Resolved"), web(2, 2, "Backlog")], D1)
    run_silver(ctx, D1, expectations=False)
    before = resolutions(ctx.lake)
    assert before["1"][1:3] == (RESOLVED_AT, RESOLVED_AT) and before["1"][3] == 24.0

    day_two(bronze)
    entries = {e.source: e for e in run_silver(ctx.for_layer("silver"), D2, expectations=False)}
    after = resolutions(ctx.lake)
    assert after["1"] == before["1"]  # resolved on day 1: kept, not erased to NULL
    # W2 resolved today but its date was not delivered, and it never had one: no resolution time yet.
    assert after["2"] == ("Resolved", None, None, None)
    assert after["3"] == ("Backlog", None, None, None)
    web_entry = entries["web_complaints"]
    assert web_entry.status == "warn"
    assert json.loads(web_entry.details)["rules_broken"]["all_columns_delivered"] == 3
    metric = (
        ctx.lake.read(METRICS).filter("rule = 'all_columns_delivered'").select("rows_checked", "rows_failed")
    )
    assert [tuple(r) for r in metric.collect()] == [(3, 3)]


def test_within_one_batch_the_earlier_delivery_of_the_same_key_is_kept(ctx, bronze):
    bronze.drop("web_forms", [web(1, 1, "Resolved"), web(2, 2, "Backlog")], D1)
    day_two(bronze)
    run_silver(ctx, D2, expectations=False)  # both drops in one batch: day 2 wins, day 1's date stays
    got = resolutions(ctx.lake)
    assert got["1"] == ("Resolved", RESOLVED_AT, RESOLVED_AT, 24.0)
    assert got["2"] == ("Resolved", None, None, None)
