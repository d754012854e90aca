"""Silver day by day over bronze written through the lake module: typed tables, re-runs that change nothing,
a status change on a later drop, duplicates resolved by the ordering rule, exact reconciliation, orphans.

One scenario (module fixture) runs silver three times; the tests read what each run left behind. Great
Expectations is off here (tests/silver/test_silver_gates.py covers it) to keep the suite fast.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pyspark.sql import types as T
from silver_support import D1, D2, Bronze, agent, call, customer, make_ctx, rows_of, social, uid, web

from coretelecoms.ops import ledger
from coretelecoms.silver import run_silver

TABLES = [
    "silver.agents",
    "silver.customers",
    "silver.call_logs",
    "silver.social_complaints",
    "silver.web_complaints",
]
ALL = [*TABLES, "silver.complaint_status_history", "silver.quarantine"]


def snapshot(lake):
    return {t: (lake.version(t), rows_of(lake, t)) for t in ALL if lake.exists(t)}


def details(entries) -> dict[str, dict]:
    return {e.source: json.loads(e.details) for e in entries}


@pytest.fixture(scope="module")
def days(spark, tmp_path_factory):
    ctx = make_ctx(spark, tmp_path_factory.mktemp("silver-days"))
    bronze = Bronze(spark, ctx.lake)
    bronze.drop("agents", [agent(1), agent(2, experience="intern"), agent(3, experience="Mid-level")], D1)
    bronze.drop("customers", [customer(i) for i in range(1, 6)] + [customer(5)], D1)
    day1_calls = [
        call(1, 1, "Resolved"),
        call(2, 2, " in-progress "),
        call(3, 3, "Backlog"),
        call(99, 4),  # unknown customer
        call(4, 5, agent_id="999"),  # unknown agent
        call(3, 3, "Backlog"),  # the same record delivered twice in the file
        call(5, 7, complaint_category="Billing"),  # outside the domain
        call(5, 8, call_start_time="2025-02-30 10:15:00", complaint_category=" "),  # two rules broken
    ]
    bronze.drop("call_logs", day1_calls, D1)
    bronze.drop("social_media", [social(1, 1), social(2, 2, "Backlog")], D1)
    bronze.drop("web_forms", [web(1, 1), web(4, 2, "Resolved")], D1)
    out = {"ctx": ctx}
    out["run1"] = run_silver(ctx, D1, expectations=False)
    out["after1"] = snapshot(ctx.lake)
    rerun = ctx.for_layer("silver")
    out["rerun"] = run_silver(rerun, D1, expectations=False)
    out["after_rerun"] = snapshot(ctx.lake)

    d2 = "2025-11-21"
    # The day-1 file delivered again (same content, ingested later): nothing changes.
    bronze.drop("call_logs", [call(2, 2, " in-progress ")], D1, at=dt.datetime(2025, 11, 21, 5, 0))
    bronze.drop(
        "call_logs",
        [
            call(3, 3, "Resolved", call_logs_generation_date=d2),  # Backlog -> Resolved
            call(7, 10, "Backlog", call_logs_generation_date=d2),
            call(6, 9, "Blocked", call_logs_generation_date=d2),
            call(7, 10, "In-Progress", call_logs_generation_date=d2),  # later record of the same call
            call(8, 11, "Resolved", call_logs_generation_date=d2),
        ],
        D2,
    )
    bronze.drop(
        "call_logs",
        [call(8, 11, "Blocked", call_logs_generation_date=d2)],
        D2,
        file="landing/call_logs/call_logs_2025-11-21 (1).csv",
    )  # ingested later: wins
    day2 = ctx.for_layer("silver")
    out["ctx2"] = day2
    out["run2"] = run_silver(day2, D2, expectations=False)
    out["after2"] = snapshot(ctx.lake)
    return out


def test_first_run_writes_every_table_typed_with_lineage(days):
    lake = days["ctx"].lake
    assert all(e.status in ("ok", "warn") for e in days["run1"]), [(e.source, e.error) for e in days["run1"]]
    types = {
        f.name: f.dataType for t in TABLES for f in lake.read(t).schema.fields if t == "silver.call_logs"
    }
    assert types["agent_id"] == T.IntegerType()
    assert types["call_start_time"] == types["call_end_time"] == types["resolved_at"] == T.TimestampNTZType()
    assert types["call_duration_seconds"] == T.IntegerType()
    assert types["resolution_hours"] == T.DoubleType()
    assert types["drop_date"] == T.DateType()
    assert types["customer_known"] == types["agent_known"] == T.BooleanType()
    for t in TABLES:
        cols = lake.read(t).columns
        assert cols[-6:] == [
            "_source_file",
            "_source_record",
            "_source_date",
            "_ingested_at",
            "_updated_at",
            "_run_id",
        ], t
    customers = {f.name: f.dataType for f in lake.read("silver.customers").schema.fields}
    assert customers["date_of_birth"] == customers["signup_date"] == T.DateType()
    assert customers["email_is_valid"] == T.BooleanType()
    agents = rows_of(lake, "silver.agents", "agent_id", "experience")
    assert agents == [(1001, "Junior"), (1002, "Intern"), (1003, "Mid-Level")]
    assert lake.count("silver.customers") == 5
    assert len(days["after1"]["silver.call_logs"][1]) == 5
    assert rows_of(lake, "silver.social_complaints", "media_channel", "resolution_status") == [
        ("Twitter", "Backlog"),
        ("Twitter", "Resolved"),
    ]


def test_rerun_for_the_same_date_changes_nothing_and_commits_nothing(days):
    assert days["after_rerun"] == days["after1"]
    assert {e.status for e in days["rerun"]} == {"skipped"}
    assert all("nothing new" in json.loads(e.details)["reason"] for e in days["rerun"])


def test_day_one_reconciles_exactly(days):
    d = details(days["run1"])["call_logs"]
    assert (d["rows_in"], d["inserted"], d["updated"], d["unchanged"], d["quarantined"], d["dropped"]) == (
        8,
        5,
        0,
        0,
        2,
        1,
    )
    assert d["superseded_in_batch"] == 1 and d["dropped_by_rule"] == 0
    for e in days["run1"]:
        x = json.loads(e.details)
        assert x["rows_in"] == x["upserted"] + x["unchanged"] + x["quarantined"] + x["dropped"], e.source
        assert x["reconciled"] is True
        assert (e.rows_in, e.rows_out, e.rejected) == (
            x["rows_in"],
            x["upserted"],
            x["quarantined"] + x["dropped_by_rule"],
        )


def test_quarantine_keeps_the_raw_record_with_every_rule_broken(days):
    lake = days["ctx"].lake
    rows = {r["_source_record"]: r for r in lake.read("silver.quarantine").collect()}
    assert set(rows) == {7, 8}
    assert rows[7]["rule_names"] == ["complaint_category_in_domain"]
    assert rows[8]["rule_names"] == ["complaint_category_present", "call_start_time_parses"]
    raw = json.loads(rows[8]["raw_record"])
    assert raw["call_start_time"] == "2025-02-30 10:15:00" and raw["complaint_category"] == " "
    assert raw["_source_file"] == rows[8]["_source_file"] == "landing/call_logs/call_logs_2025-11-20.csv"
    assert {r["table_name"] for r in rows.values()} == {"silver.call_logs"}
    assert {r["_run_id"] for r in rows.values()} == {days["ctx"].run_id}


def test_orphans_are_kept_flagged_and_counted(days):
    lake = days["ctx"].lake
    flags = {
        r["customer_id"]: (r["customer_known"], r["agent_known"], r["agent_id"])
        for r in lake.read("silver.call_logs").collect()
    }
    assert flags[uid(99)] == (False, True, 1001)
    assert flags[uid(4)] == (True, False, 999)
    assert flags[uid(1)] == (True, True, 1001)
    d = details(days["run1"])["call_logs"]
    assert d["orphans"] == {"unknown_customer": 1, "unknown_agent": 1}
    assert d["rules_broken"]["customer_known"] == 1 and d["rules_broken"]["agent_id_in_range"] == 1
    metrics = {
        (r["table_name"], r["rule"]): r
        for r in lake.read("_quality.metrics").collect()
        if r["run_id"] == days["ctx"].run_id and r["kind"] == "rule"
    }
    m = metrics[("silver.call_logs", "customer_known")]
    assert (m["action"], m["rows_checked"], m["rows_failed"], m["success"]) == ("warn", 8, 1, False)


def test_status_change_on_a_later_drop_updates_the_row_and_appends_history(days):
    lake = days["ctx"].lake
    ctx2 = days["ctx2"]
    rows = {r["customer_id"]: r for r in lake.read("silver.call_logs").collect()}
    changed = rows[uid(3)]
    assert changed["resolution_status"] == "Resolved"
    assert changed["drop_date"] == D2 and changed["_source_date"] == D2
    assert changed["resolved_at"] == dt.datetime(2025, 8, 2, 14, 43, 9) and changed["resolution_hours"] == 0.2
    assert changed["_run_id"] == ctx2.run_id
    history = lake.read("silver.complaint_status_history")
    got = sorted(
        (
            (r["complaint_id"][8:40], r["old_status"], r["new_status"], r["drop_date"])
            for r in history.filter(f"_run_id = '{ctx2.run_id}'").collect()
        ),
        key=str,
    )
    key = {n: uid(n).replace("-", "") for n in (3, 6, 7, 8)}
    assert got == sorted(
        [
            (key[3], "Backlog", "Resolved", D2),
            (key[6], None, "Blocked", D2),
            (key[7], None, "Backlog", D2),
            (key[7], "Backlog", "In-Progress", D2),
            (key[8], None, "Resolved", D2),
            (key[8], "Resolved", "Blocked", D2),
        ],
        key=str,
    )
    assert history.filter("channel <> 'call'").count() == 4  # day 1: first statuses of social and web
    feed = lake.changes("silver.call_logs", days["after1"]["silver.call_logs"][0] + 1)
    kinds = sorted(
        (r["_change_type"], r["resolution_status"])
        for r in feed.filter(f"customer_id = '{uid(3)}'").collect()
    )
    assert kinds == [("update_postimage", "Resolved"), ("update_preimage", "Backlog")]


def test_duplicates_within_a_batch_resolve_by_drop_then_ingest_then_record(days):
    lake = days["ctx"].lake
    status = {r["customer_id"]: r["resolution_status"] for r in lake.read("silver.call_logs").collect()}
    assert status[uid(7)] == "In-Progress"  # same file: the higher record number wins
    assert status[uid(8)] == "Blocked"  # same drop date: the later ingest wins
    assert status[uid(2)] == "In-Progress"  # re-delivered, identical: left alone
    assert lake.read("silver.call_logs").groupBy("call_id").count().filter("count > 1").count() == 0


def test_day_two_reconciles_exactly_and_leaves_static_tables_alone(days):
    d = details(days["run2"])
    c = d["call_logs"]
    assert (c["rows_in"], c["inserted"], c["updated"], c["unchanged"], c["quarantined"], c["dropped"]) == (
        7,
        3,
        1,
        1,
        0,
        2,
    )
    assert c["history_rows"] == 6
    assert c["bronze_versions"]["read_from"] == 1
    for source in ("agents", "customers", "social_complaints", "web_complaints"):
        assert "nothing new" in d[source]["reason"]
    for t in ("silver.agents", "silver.customers", "silver.social_complaints", "silver.web_complaints"):
        assert days["after2"][t] == days["after1"][t], t
    unchanged = {r["customer_id"]: r["_run_id"] for r in days["ctx"].lake.read("silver.call_logs").collect()}
    assert unchanged[uid(2)] == days["ctx"].run_id  # still the day-1 row


def test_every_run_appends_one_ledger_entry_per_table(days):
    runs = ledger.read(days["ctx"]).filter("layer = 'silver'").collect()
    per_run: dict[str, set] = {}
    for r in runs:
        per_run.setdefault(r["run_id"], set()).add(r["source"])
    assert len(per_run) == 3
    assert all(
        s == {"agents", "customers", "call_logs", "social_complaints", "web_complaints"}
        for s in per_run.values()
    )
    assert ledger.completed(days["ctx"], "silver", D2)
