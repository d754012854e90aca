"""Gold end to end on a three-day silver scenario (see conftest): SCD2, late arrivals, point in time,
lifecycle, channel hopping, idempotent re-runs, rebuild equality and the quality gate.

Tests run in file order on one shared lake: the re-run, delete, rebuild and planted-duplicate tests come last
(the rebuild is compared with the state the delete left).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime

from gold_scenario import C1, C2, C3, D1, D2, D3, content, versions
from pyspark.sql import functions as F

from coretelecoms.gold import TABLES, checks
from coretelecoms.ops.maintenance import run_maintenance
from coretelecoms.quality.gx import QualityGate, docs_index
from coretelecoms.silver.tables import TABLES as SILVER

FACT = "gold.fct_complaint"


def facts(sc) -> dict:
    return {r["source_complaint_id"]: r for r in sc.ctx.lake.read(FACT).collect()}


def versions_of(sc, table: str, key: str, value) -> list:
    return sc.ctx.lake.read(table).filter(F.col(key) == value).orderBy("valid_from").collect()


def entry(sc, day: date, table: str):
    return next(e for e in sc.entries[day] if e.source == table)


def test_every_run_succeeds_and_the_gate_passes(scenario):
    for day, entries in scenario.entries.items():
        assert {e.source for e in entries} == set(TABLES)
        assert [e for e in entries if e.status == "failed"] == [], day
    gated = {
        e.source: json.loads(e.details)["expectations"] for e in scenario.entries[D3] if e.status == "ok"
    }
    assert set(gated) >= {FACT, "gold.fct_complaint_lifecycle", "gold.mart_customer_risk"}
    assert all(g["passed"] for g in gated.values())  # "success" is false where a warning counted rows
    fact = gated[FACT]["expectations"]
    assert fact["complaint_sk_unique"]["success"] and fact["customer_sk_resolves"]["success"]
    assert fact["fact_rows_equal_silver_rows"]["success"]
    # Open complaints have no resolution date; only S3, resolved without one, is counted.
    assert fact["resolved_complaints_have_a_resolution_date"] == {
        "success": False,
        "failed": 1,
        "gate": False,
    }
    assert "resolution_date_key_on_unknown_member" not in fact
    assert docs_index(scenario.ctx.settings).exists()


def test_address_change_makes_a_new_version_and_facts_keep_the_version_of_their_time(scenario):
    old, new = versions_of(scenario, "gold.dim_customer", "customer_id", C1)
    assert old["address"].startswith("1 Old Road") and old["state_code"] == "TX"
    assert new["address"].startswith("9 New Avenue") and new["state_code"] == "CO"
    assert (old["valid_from"], old["valid_to"], old["is_current"]) == (
        datetime(1900, 1, 1),
        datetime(2025, 11, 21),
        False,
    )
    assert (new["valid_from"], new["valid_to"], new["is_current"]) == (
        datetime(2025, 11, 21),
        datetime(9999, 12, 31),
        True,
    )
    assert new["observed_from"] == D2 and old["observed_from"] == D1
    assert len(versions_of(scenario, "gold.dim_customer", "customer_id", C2)) == 1
    f = facts(scenario)
    assert f["K1"]["customer_sk"] == old["customer_sk"]  # 2025-11-19, before the move
    assert f["K2"]["customer_sk"] == new["customer_sk"]  # 2025-11-21 12:00, after it


def test_late_arriving_customer_is_repointed_from_the_unknown_member_and_counted(scenario):
    day1 = {r["source_complaint_id"]: r for r in scenario.snapshots[D1]["fact"]}
    assert day1["W1"]["customer_sk"] == -1
    (c3,) = versions_of(scenario, "gold.dim_customer", "customer_id", C3)
    # First seen on day 2, but its first version is valid from 1900: the day-1 complaint resolves to it.
    assert c3["valid_from"] == datetime(1900, 1, 1) and c3["observed_from"] == D2
    assert facts(scenario)["W1"]["customer_sk"] == c3["customer_sk"]
    details = json.loads(entry(scenario, D2, FACT).details)
    assert details["late_arriving_repointed"]["customer_id"] == 1
    assert details["facts_on_unknown_member"] == {"customer_sk": 0, "agent_sk": 0}
    day1_details = json.loads(entry(scenario, D1, FACT).details)
    assert day1_details["facts_on_unknown_member"] == {"customer_sk": 1, "agent_sk": 0}


def test_agent_experience_is_taken_point_in_time(scenario):
    agents = scenario.ctx.lake.read("gold.dim_agent")
    experience = {r["agent_sk"]: r["experience"] for r in agents.collect()}
    f = facts(scenario)
    assert experience[f["K1"]["agent_sk"]] == "Junior"  # before the promotion
    assert experience[f["K2"]["agent_sk"]] == "Senior"  # after it
    assert experience[f["S1"]["agent_sk"]] == "Mid-Level"
    assert len(versions_of(scenario, "gold.dim_agent", "agent_id", 1001)) == 2


def test_fact_keys_measures_and_lineage(scenario):
    f = facts(scenario)
    k1, w1, s2 = f["K1"], f["W1"], f["S2"]
    assert (k1["channel"], k1["channel_key"], k1["category_key"]) == ("call", 1, 4)
    assert (k1["request_date_key"], k1["resolution_date_key"]) == (20251119, 20251119)
    assert k1["call_duration_seconds"] == 600 and abs(k1["resolution_hours"] - 10 / 60) < 1e-6
    assert k1["is_resolved"] and k1["sla_met"]
    assert (w1["resolution_status"], w1["resolution_hours"], w1["is_resolved"], w1["sla_met"]) == (
        "Resolved",
        96.0,
        True,
        False,
    )
    assert w1["resolution_date_key"] == 20251122 and w1["channel_key"] == 2 and w1["drop_date"] == D3
    assert w1["_source_file"].endswith("web_form_request_2025_11_22.csv") and w1["_source_record"] == 1
    assert w1["_source_date"] == D3
    assert s2["channel_key"] == 12 and s2["resolution_date_key"] == -1 and not s2["sla_met"]
    expected_sk = (
        scenario.ctx.spark.range(1).select(F.xxhash64(F.lit("web"), F.lit("W1")).alias("k")).first()["k"]
    )
    assert w1["complaint_sk"] == expected_sk
    s3 = f["S3"]  # resolved without a resolution date: resolved, no resolution time, SLA unknown -> not met
    assert (s3["is_resolved"], s3["resolution_date_key"], s3["resolution_hours"]) == (True, -1, None)
    assert len(f) == 7


def test_lifecycle_of_a_complaint_through_three_drops(scenario):
    rows = scenario.ctx.lake.read("gold.fct_complaint_lifecycle").collect()
    by_sk = {r["complaint_sk"]: r for r in rows}
    f = facts(scenario)
    w1 = by_sk[f["W1"]["complaint_sk"]]
    assert (
        w1["first_seen_date"],
        w1["first_backlog_date"],
        w1["first_in_progress_date"],
        w1["first_resolved_date"],
    ) == (
        D1,
        D1,
        D2,
        D3,
    )
    assert w1["first_blocked_date"] is None and w1["last_seen_date"] == D3
    assert (
        w1["days_backlog_to_in_progress"],
        w1["days_in_progress_to_resolved"],
        w1["days_seen_to_resolved"],
    ) == (1, 1, 2)
    assert w1["days_open"] == 4  # requested 2025-11-18, resolved 2025-11-22
    assert (w1["is_open"], w1["current_status"], w1["status_changes"]) == (False, "Resolved", 2)
    s1 = by_sk[f["S1"]["complaint_sk"]]  # seen on day 1 only, still open
    assert (s1["is_open"], s1["last_seen_date"], s1["days_open"]) == (True, D1, (D1 - date(2025, 10, 1)).days)
    # A complaint that did not change is not rewritten: S1's row is still the one day 1 wrote.
    assert s1["_updated_at"] < w1["_updated_at"]


def test_risk_mart_flags_channel_hopping(scenario):
    mart = {r["customer_id"]: r for r in scenario.ctx.lake.read("gold.mart_customer_risk").collect()}
    c2 = mart[C2]  # Facebook 2025-11-20 08:00, then a call 26 h later
    assert c2["is_channel_hopper"] and c2["channel_hops_90d"] == 1 and c2["channels_used_90d"] == 2
    assert c2["as_of_date"] == D3 and c2["complaints_total"] == 3 and c2["open_complaints"] == 3
    assert not mart[C1]["is_channel_hopper"]  # two calls: one channel
    assert all(0 <= r["risk_score"] <= 100 for r in mart.values())
    assert mart[C2]["risk_tier"] in {"medium", "high", "critical"}


def test_aggregates_add_up_to_the_fact(scenario):
    lake = scenario.ctx.lake
    daily = lake.read("gold.agg_daily_complaints")
    assert daily.agg(F.sum("complaints")).first()[0] == 7
    (row,) = daily.filter("date_key = 20251121 AND channel_key = 1 AND category_key = 1").collect()
    assert (row["complaint_category"], row["complaints"], row["in_progress"], row["call_minutes_mean"]) == (
        "Technician Support",
        1,
        1,
        10.0,
    )
    (web,) = daily.filter("date_key = 20251118").collect()
    assert (web["resolved"], web["resolution_rate"], web["resolution_hours_p50"], web["sla_rate"]) == (
        1,
        1.0,
        96.0,
        0.0,
    )
    agents = lake.read("gold.agg_agent_performance")
    assert agents.agg(F.sum("handled")).first()[0] == 7
    assert {r["month_key"] for r in agents.collect()} == {202510, 202511}


def test_rerunning_a_date_is_a_no_op(scenario):
    before_versions = versions(scenario.ctx)
    before = {t: content(scenario.ctx, t) for t in TABLES}
    entries = scenario.run(D3)
    assert versions(scenario.ctx) == before_versions, "a re-run must not commit"
    assert {e.status for e in entries} == {"skipped"}
    assert {t: content(scenario.ctx, t) for t in TABLES} == before


def test_a_complaint_deleted_in_silver_leaves_the_fact_and_its_lifecycle(scenario):
    lake = scenario.ctx.lake
    life = "gold.fct_complaint_lifecycle"
    sk = facts(scenario)["S3"]["complaint_sk"]
    assert lake.read(life).filter(F.col("complaint_sk") == sk).count() == 1
    lake.delete("silver.social_complaints", "complaint_id = 'S3'")
    entries = {e.source: e for e in scenario.run(D3)}
    assert [e for e in entries.values() if e.status == "failed"] == []
    assert "S3" not in facts(scenario)
    assert json.loads(entries[FACT].details)["deleted"] == 1
    assert json.loads(entries[life].details)["deleted"] == 1
    assert lake.read(life).filter(F.col("complaint_sk") == sk).count() == 0
    assert lake.read(life).count() == lake.read(FACT).count()


def test_rebuild_from_silver_gives_identical_tables(scenario):
    before = {t: content(scenario.ctx, t) for t in TABLES}
    entries = scenario.run(D3, rebuild=True)
    assert [e for e in entries if e.status == "failed"] == []
    for table in TABLES:
        assert content(scenario.ctx, table) == before[table], table


def test_maintenance_runs_the_full_table_suites(scenario):
    """Daily runs check whole tables at the batch's cost; maintenance runs the suites that read every row."""
    ctx = dataclasses.replace(scenario.ctx, run_id="maintenance-suites")
    entries = {e.source: e for e in run_maintenance(ctx)}
    checked = [t for t in (*[s.table for s in SILVER], *TABLES) if t in entries]
    assert {FACT, "gold.fct_complaint_lifecycle", "gold.dim_customer", "silver.call_logs"} <= set(checked)
    for table in checked:
        details = json.loads(entries[table].details)
        assert entries[table].status == "ok", (table, entries[table].error)
        assert details["expectations"]["suite"] == f"{table}.table" and details["expectations"]["passed"]
    metrics = ctx.lake.read("_quality.metrics").filter("run_id = 'maintenance-suites'")
    assert {(r["stage"], r["kind"]) for r in metrics.collect()} == {("table", "expectation")}
    assert sorted(r[0] for r in metrics.select("table_name").distinct().collect()) == sorted(checked)
    latest = QualityGate(ctx.settings).latest_results()
    assert all(latest[f"{t}.table"]["run_name"] == "maintenance-suites" for t in checked)


def test_quality_gate_catches_a_planted_duplicate_key(scenario):
    lake, gate = scenario.ctx.lake, QualityGate(scenario.ctx.settings)
    k1 = lake.read(FACT).filter("source_complaint_id = 'K1'")
    # Written again by another run: the daily commit checks see the extra row in the Delta log's count;
    # the keys they check are the run's own, so the full suite is what names the duplicate key.
    lake.append(FACT, k1)
    results = checks.validate(gate, lake, [FACT], "planted-duplicate")
    assert [r.suite for r in results] == [f"{FACT}.commit", f"{FACT}.batch"]
    failed = {c.name: c for r in results for c in r.gating_failures}
    assert set(failed) == {"fact_rows_equal_silver_rows"}
    assert failed["fact_rows_equal_silver_rows"].observed == lake.read(FACT).count()
    (full,) = checks.validate(gate, lake, [FACT], "maintenance-check", full=True)
    assert full.suite == f"{FACT}.table"
    failed = {c.name: c for c in full.gating_failures}
    assert set(failed) == {"complaint_sk_unique", "fact_rows_equal_silver_rows"}
    assert failed["complaint_sk_unique"].rows_failed == 2


def test_commit_checks_catch_a_duplicate_key_the_run_wrote(scenario):
    lake, gate = scenario.ctx.lake, QualityGate(scenario.ctx.settings)
    rows = lake.read(FACT).count()
    k1 = lake.read(FACT).filter("source_complaint_id = 'K1'")
    stored = k1.count()  # (the test above left one more)
    lake.append(FACT, k1.limit(1).withColumn("_run_id", F.lit("dup")))
    commit = checks.validate(gate, lake, [FACT], "dup")[0]
    failed = {c.name: c for c in commit.gating_failures}
    assert set(failed) == {"complaint_sk_unique", "fact_rows_equal_silver_rows"}
    k1_rows = stored + 1  # every row of the key the run wrote is counted, as GX counts them
    unique = failed["complaint_sk_unique"]
    assert (unique.rows_checked, unique.rows_failed) == (k1_rows, k1_rows)
    assert failed["fact_rows_equal_silver_rows"].observed == rows + 1


def test_fact_batch_suite_checks_the_references_of_the_rows_the_run_wrote(scenario):
    lake, gate = scenario.ctx.lake, QualityGate(scenario.ctx.settings)
    dangling = (
        lake.read(FACT)
        .filter("source_complaint_id = 'K1'")
        .limit(1)
        .withColumn("complaint_sk", F.lit(7).cast("long"))
        .withColumn("customer_sk", F.lit(424242).cast("long"))
        .withColumn("_run_id", F.lit("planted-reference"))
    )
    lake.append(FACT, dangling)
    results = {r.stage: r for r in checks.validate(gate, lake, [FACT], "planted-reference")}
    batch = {c.name: c for c in results["batch"].results}
    assert batch["customer_sk_resolves"].rows_checked == 1
    assert batch["customer_sk_resolves"].rows_failed == 1 and not batch["customer_sk_resolves"].success
    assert batch["agent_sk_resolves"].success  # only the planted row is in the batch, and its agent is known
    assert [c.name for c in results["batch"].gating_failures] == ["customer_sk_resolves"]


def test_dimension_suites_pass_then_catch_an_overlapping_version(scenario):
    lake, gate = scenario.ctx.lake, QualityGate(scenario.ctx.settings)
    dims = [
        "gold.dim_customer",
        "gold.dim_agent",
        "gold.dim_date",
        "gold.dim_channel",
        "gold.dim_complaint_category",
    ]
    assert [r.gating_failures for r in checks.validate(gate, lake, dims, "dims-clean")] == [[]] * len(dims)
    # A second current version of C2 overlapping the first.
    c2 = lake.read("gold.dim_customer").filter(F.col("customer_id") == C2)
    lake.append("gold.dim_customer", c2.withColumn("customer_sk", F.lit(42).cast("long")))
    (result,) = checks.validate(gate, lake, ["gold.dim_customer"], "dims-planted")
    failed = {r.name for r in result.gating_failures}
    assert failed == {"one_current_version_per_key", "versions_tile_time"}
