"""A re-delivered drop replaces it: status history records only real changes of content."""

from __future__ import annotations

import datetime as dt

from silver_support import D1, Bronze, agent, call, customer, make_ctx

from coretelecoms.silver import run_silver

HISTORY = "silver.complaint_status_history"


def test_an_identical_redelivery_with_an_in_file_duplicate_replays_no_transitions(spark, tmp_path):
    ctx = make_ctx(spark, tmp_path)
    bronze = Bronze(spark, ctx.lake)
    bronze.drop("agents", [agent(1)], D1)
    bronze.drop("customers", [customer(1), customer(2)], D1)
    day1 = [call(1, 1, "Backlog"), call(1, 1, "Blocked"), call(2, 2, "Backlog")]  # call 1 twice in the file
    bronze.drop("call_logs", day1, D1)
    run_silver(ctx, D1, expectations=False)
    first = sorted(((r["old_status"], r["new_status"]) for r in ctx.lake.read(HISTORY).collect()), key=str)
    assert first == [("Backlog", "Blocked"), (None, "Backlog"), (None, "Backlog")]

    later = dt.datetime(2025, 11, 21, 5, 0)
    file = "landing/call_logs/v2-0123456789ab/call_logs_2025-11-20.csv"
    bronze.drop("call_logs", day1, D1, file=file, at=later)  # the same file delivered again
    run_silver(ctx.for_layer("silver"), D1, expectations=False)
    assert ctx.lake.read(HISTORY).count() == 3

    # a re-delivery that really changes a status records that change once, from silver's status
    changed = [call(1, 1, "Backlog"), call(1, 1, "Resolved"), call(2, 2, "Backlog")]
    bronze.drop("call_logs", changed, D1, file=file.replace("v2-", "v3-"), at=later + dt.timedelta(hours=1))
    run_silver(ctx.for_layer("silver"), D1, expectations=False)
    rows = ctx.lake.read(HISTORY).collect()
    assert len(rows) == 4
    assert [(r["old_status"], r["new_status"]) for r in rows if r["new_status"] == "Resolved"] == [
        ("Blocked", "Resolved")
    ]
