"""Rule actions on real silver runs (warn, drop, quarantine, fail, on_orphan), exactly-once after a crash,
and static sources that only change when a changed snapshot arrives. Great Expectations is off here."""

from __future__ import annotations

import json

import pytest
import yaml
from silver_support import D1, D2, agent, call, customer, rows_of, uid

from coretelecoms.ops import ledger
from coretelecoms.silver import run_silver

SILVER = [
    "silver.agents",
    "silver.customers",
    "silver.call_logs",
    "silver.complaint_status_history",
    "silver.quarantine",
]


def edit_rules(rules_dir, table, change):
    path = rules_dir / f"{table}.yml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def entry_of(entries, source):
    e = next(e for e in entries if e.source == source)
    return e, json.loads(e.details)


def test_warn_drop_quarantine_and_on_orphan_quarantine(ctx, bronze, rules_dir):
    def change(data):
        data["on_orphan"] = "quarantine"
        data["rules"].append(
            {"name": "no_router_calls", "expr": "complaint_category <> 'Router Delivery'", "action": "drop"}
        )

    edit_rules(rules_dir, "silver.call_logs", change)
    bronze.drop("agents", [agent(1)], D1)
    bronze.drop("customers", [customer(1), customer(2), customer(3)], D1)
    bronze.drop(
        "call_logs",
        [
            call(1, 1),  # valid
            call(2, 2, agent_id="1100"),  # unknown agent, out of range: quarantined (orphan)
            call(3, 3, complaint_category="Router Delivery"),  # dropped
            call(1, 4, complaint_category="Billing"),  # quarantined
            call(77, 5),  # unknown customer: quarantined (orphan)
            call(3, 6, call_end_time="2025-08-02 14:00:00"),  # ends before it starts: quarantined
            call(2, 7, call_logs_generation_date="2025-11-19"),  # warn only: kept and counted
        ],
        D1,
    )
    entries = run_silver(ctx, D1, rules_dir=rules_dir, expectations=False)
    entry, d = entry_of(entries, "call_logs")
    assert entry.status == "warn"
    assert (d["rows_in"], d["upserted"], d["quarantined"], d["dropped_by_rule"], d["warned"]) == (
        7,
        2,
        4,
        1,
        1,
    )
    assert d["rows_in"] == d["upserted"] + d["unchanged"] + d["quarantined"] + d["dropped"]
    assert entry.rejected == 5
    # 4 of 7 quarantined is over quality.quarantine_warn_share (0.2): the entry says so.
    assert d["quarantine_share"] == round(4 / 7, 4)
    assert entry.error.startswith("quarantined 4 of 7 rows (over quality.quarantine_warn_share = 0.2)")
    kept = rows_of(ctx.lake, "silver.call_logs", "_source_record", "customer_known", "agent_known")
    assert kept == [(1, True, True), (7, True, True)]
    quarantined = {r["_source_record"]: r["rule_names"] for r in ctx.lake.read("silver.quarantine").collect()}
    assert quarantined == {
        2: ["agent_id_in_range", "agent_known"],
        4: ["complaint_category_in_domain"],
        5: ["customer_known"],
        6: ["call_ends_after_start"],
    }
    metrics = {
        r["rule"]: r
        for r in ctx.lake.read("_quality.metrics").collect()
        if r["table_name"] == "silver.call_logs"
    }
    assert (metrics["no_router_calls"]["action"], metrics["no_router_calls"]["rows_failed"]) == ("drop", 1)
    assert (
        metrics["drop_date_matches_delivery"]["action"],
        metrics["drop_date_matches_delivery"]["rows_failed"],
    ) == ("warn", 1)
    assert (metrics["agent_known"]["action"], metrics["agent_known"]["rows_failed"]) == ("quarantine", 1)
    assert metrics["call_id_present"]["success"] is True and metrics["call_id_present"]["rows_checked"] == 7


def test_a_fail_rule_stops_silver_before_anything_is_written(ctx, bronze, rules_dir):
    bronze.drop("agents", [agent(1)], D1)
    bronze.drop("customers", [customer(1)], D1)
    bronze.drop("call_logs", [call(1, 1)], D1)
    assert all(e.status != "failed" for e in run_silver(ctx, D1, rules_dir=rules_dir, expectations=False))
    before = {t: (ctx.lake.version(t), rows_of(ctx.lake, t)) for t in SILVER if ctx.lake.exists(t)}

    def change(data):
        data["rules"].append(
            {"name": "no_blocked_calls", "expr": "resolution_status <> 'Blocked'", "action": "fail"}
        )

    edit_rules(rules_dir, "silver.call_logs", change)
    bronze.drop("customers", [customer(1, name="new name"), customer(2)], D2)
    bronze.drop("call_logs", [call(1, 2, "Blocked"), call(1, 3)], D2)
    entries = run_silver(ctx.for_layer("silver"), D2, rules_dir=rules_dir, expectations=False)
    entry, _ = entry_of(entries, "call_logs")
    assert entry.status == "failed"
    assert "no_blocked_calls" in entry.error and "broken by 1 of 2 rows" in entry.error
    customers, _ = entry_of(entries, "customers")
    assert customers.status == "failed" and customers.error.startswith(
        "not written: silver stopped before committing"
    )
    after = {t: (ctx.lake.version(t), rows_of(ctx.lake, t)) for t in SILVER if ctx.lake.exists(t)}
    assert after == before  # silver unchanged: customers were valid but were not written either
    failed = ledger.read(ctx).filter("status = 'failed'").select("source").collect()
    assert {r["source"] for r in failed} >= {"call_logs", "customers"}


def test_a_broken_rule_file_fails_the_run_with_a_clear_message(ctx, bronze, rules_dir):
    (rules_dir / "silver.agents.yml").write_text(
        "table: silver.agents\nrules:\n  - name: x\n    action: maybe\n"
    )
    bronze.drop("agents", [agent(1)], D1)
    entries = run_silver(ctx, D1, rules_dir=rules_dir, expectations=False)
    assert {e.status for e in entries} == {"failed"}
    assert "silver.agents.yml: rules[0] ('x').action: Input should be" in entries[0].error
    assert not ctx.lake.exists("silver.agents")


def test_a_run_that_dies_before_its_table_write_is_completed_exactly_once(ctx, bronze, monkeypatch):
    bronze.drop("call_logs", [call(1, 1), call(2, 2, complaint_category="Billing")], D1)
    real_append = ctx.lake.append

    def dying_append(table, *args, **kwargs):
        if table == "silver.call_logs":  # the table write, after quarantine and history
            raise OSError("the driver died")
        return real_append(table, *args, **kwargs)

    monkeypatch.setattr(ctx.lake, "append", dying_append)
    with pytest.raises(OSError, match="the driver died"):
        run_silver(ctx, D1, expectations=False)
    monkeypatch.setattr(ctx.lake, "append", real_append)
    assert ctx.lake.count("silver.quarantine") == 1 and ctx.lake.count("silver.complaint_status_history") == 1
    assert not ctx.lake.exists("silver.call_logs")
    assert ledger.read(ctx).filter("source = 'call_logs' AND status = 'failed'").count() == 1

    bronze.drop("call_logs", [call(3, 3)], D2)  # new data arrives before the retry
    retry = run_silver(ctx.for_layer("silver"), D1, expectations=False)
    _, d = entry_of(retry, "call_logs")
    assert d["bronze_versions"]["read_to"] == 0  # exactly the range of the run that died
    assert ctx.lake.count("silver.quarantine") == 1 and ctx.lake.count("silver.complaint_status_history") == 1
    assert rows_of(ctx.lake, "silver.call_logs", "customer_id") == [(uid(1),)]

    later = run_silver(ctx.for_layer("silver"), D2, expectations=False)
    _, d = entry_of(later, "call_logs")
    assert (d["bronze_versions"]["read_from"], d["rows_in"], d["inserted"]) == (1, 1, 1)
    assert rows_of(ctx.lake, "silver.call_logs", "customer_id") == [(uid(1),), (uid(3),)]
    assert ctx.lake.count("silver.quarantine") == 1 and ctx.lake.count("silver.complaint_status_history") == 2


def test_static_sources_change_only_when_a_changed_snapshot_arrives(ctx, bronze):
    bronze.drop("customers", [customer(1), customer(2)], D1)
    run_silver(ctx, D1, expectations=False)
    v1, rows1 = ctx.lake.version("silver.customers"), rows_of(ctx.lake, "silver.customers")
    bronze.drop("call_logs", [call(1, 1)], D2)  # another source moves on; customers do not
    run_silver(ctx.for_layer("silver"), D2, expectations=False)
    assert (ctx.lake.version("silver.customers"), rows_of(ctx.lake, "silver.customers")) == (v1, rows1)

    bronze.drop("customers", [customer(1), customer(2)], D2)  # the same snapshot delivered again
    entries = run_silver(ctx.for_layer("silver"), D2, expectations=False)
    _, d = entry_of(entries, "customers")
    assert (d["rows_in"], d["upserted"], d["unchanged"]) == (2, 0, 2)
    assert rows_of(ctx.lake, "silver.customers") == rows1  # content and lineage untouched

    bronze.drop("customers", [customer(1, email="NEW.ADDRESS@Hotmai.com"), customer(2)], D2)
    entries = run_silver(ctx.for_layer("silver"), D2, expectations=False)
    _, d = entry_of(entries, "customers")
    assert (d["rows_in"], d["updated"], d["unchanged"]) == (2, 1, 1)
    emails = dict(rows_of(ctx.lake, "silver.customers", "customer_id", "email"))
    assert emails[uid(1)] == "new.address@hotmail.com"


def test_change_feed_reads_keep_wall_clock_times_whatever_the_session_time_zone(spark, ctx, bronze):
    bronze.drop("call_logs", [call(1, 1)], D1)
    run_silver(ctx, D1, expectations=False)
    bronze.drop("call_logs", [call(2, 2)], D2)  # read through the change feed
    zone = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        run_silver(ctx.for_layer("silver"), D2, expectations=False)
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
    silver = dict(rows_of(ctx.lake, "silver.call_logs", "customer_id", "_ingested_at"))
    raw = dict(rows_of(ctx.lake, "bronze.call_logs", "customer_id", "_ingested_at"))
    assert silver == raw and silver[uid(2)].hour == 6


def test_updates_merge_in_slices_new_keys_append_and_both_reconcile(ctx, bronze, monkeypatch):
    import coretelecoms.silver.incremental as incremental

    monkeypatch.setattr(incremental, "CHUNK_ROWS", 2)
    bronze.drop("customers", [customer(i) for i in range(1, 6)], D1)
    entries = run_silver(ctx, D1, expectations=False)
    _, d = entry_of(entries, "customers")
    assert (d["rows_in"], d["inserted"]) == (5, 5)
    assert [h["operation"] for h in ctx.lake.history("silver.customers")] == [
        "WRITE"
    ]  # a new table: appended
    assert ctx.lake.txn_version("silver.customers", "silver.customers<-bronze.customers") == 0

    bronze.drop("customers", [customer(i, name=f"renamed {i}") for i in range(1, 6)] + [customer(6)], D2)
    entries = run_silver(ctx.for_layer("silver"), D2, expectations=False)
    _, d = entry_of(entries, "customers")
    assert (d["rows_in"], d["inserted"], d["updated"], d["unchanged"]) == (6, 1, 5, 0)
    # Newest first: the new key appended last (with the watermark), the 5 updates merged in slices.
    operations = [h["operation"] for h in ctx.lake.history("silver.customers")]
    assert operations[0] == "WRITE" and operations[-1] == "WRITE"
    assert set(operations[1:-1]) == {"MERGE"} and len(operations) - 2 > 1
    assert ctx.lake.txn_version("silver.customers", "silver.customers<-bronze.customers") == 1
    assert ctx.lake.count("silver.customers") == 6
    assert dict(rows_of(ctx.lake, "silver.customers", "customer_id", "name"))[uid(3)] == "Renamed 3"


def test_a_clean_first_run_leaves_an_empty_quarantine_with_its_schema(ctx, bronze):
    from coretelecoms.quality.quarantine import SCHEMA

    bronze.drop("agents", [agent(1)], D1)
    bronze.drop("customers", [customer(1), customer(2)], D1)
    bronze.drop("call_logs", [call(1, 1), call(2, 2)], D1)
    entries = run_silver(ctx, D1, expectations=False)
    assert entry_of(entries, "call_logs")[1]["quarantined"] == 0
    quarantine = ctx.lake.read("silver.quarantine")
    assert quarantine.count() == 0
    assert [(f.name, f.dataType) for f in quarantine.schema] == [(f.name, f.dataType) for f in SCHEMA]
    # A later run that quarantines appends to the table the first run created.
    bronze.drop("call_logs", [call(1, 3, complaint_category="Billing")], D2)
    run_silver(ctx, D2, expectations=False)
    assert rows_of(ctx.lake, "silver.quarantine", "_source_record") == [(1,)]


def test_a_batch_mostly_quarantined_is_warn_in_the_ledger_and_in_status(ctx, bronze, monkeypatch):
    from coretelecoms.ops.overview import latest_runs, ledger_rows

    bronze.drop("agents", [agent(1)], D1)
    bronze.drop("customers", [customer(i) for i in range(1, 6)], D1)
    # 1 of 5 quarantined (20 %): not over the default share, so the run is ok.
    calls = [call(i, i) for i in range(1, 5)] + [call(5, 5, complaint_category="Billing")]
    bronze.drop("call_logs", calls, D1)
    entry, d = entry_of(run_silver(ctx, D1, expectations=False), "call_logs")
    assert (entry.status, entry.error, d["quarantined"]) == ("ok", None, 1)
    # A lower threshold, and a day where 2 of 4 rows are quarantined.
    monkeypatch.setattr(ctx.settings.quality, "quarantine_warn_share", 0.25)
    bad = [call(1, 1, complaint_category="Billing"), call(2, 2, complaint_category="Billing")]
    bronze.drop("call_logs", [call(3, 3), call(4, 4), *bad], D2)
    entry, d = entry_of(run_silver(ctx, D2, expectations=False), "call_logs")
    assert entry.status == "warn" and d["quarantine_share"] == 0.5
    assert "quarantined 2 of 4 rows (over quality.quarantine_warn_share = 0.25)" in entry.error
    # The ledger keeps it, and `status` (latest_runs) shows the run as warn with the reason.
    day2 = [r for r in ledger_rows(ctx.settings) if r["run_date"] == D2]
    assert {r["source"]: r["status"] for r in day2}["call_logs"] == "warn"
    (run,) = latest_runs(day2)
    assert run.error is None and run.warning.startswith("call_logs: quarantined 2 of 4 rows")
