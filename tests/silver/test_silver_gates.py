"""Great Expectations around silver: batch and table suites for every table, gating failures that leave
silver unchanged, the Data Docs site, and the quality metrics history."""

from __future__ import annotations

import dataclasses
import json
import re

import yaml
from silver_support import D1, agent, call, customer, social, web

from coretelecoms.ops.table_suites import run_table_suites
from coretelecoms.quality import QualityGate, docs_index
from coretelecoms.silver import TABLES, run_silver

SUITES = sorted(f"{s.table}.batch" for s in TABLES)  # a daily run's; the .table suites run in maintenance
FULL = sorted(f"{s.table}.{stage}" for s in TABLES for stage in ("batch", "table"))


def drops(bronze):
    bronze.drop("agents", [agent(1), agent(2, experience="intern")], D1)
    bronze.drop("customers", [customer(1), customer(2, email="x1y2ann.lee0a0@GmaiL.om")], D1)
    bronze.drop("call_logs", [call(1, 1), call(99, 2), call(2, 3, complaint_category="Billing")], D1)
    bronze.drop("social_media", [social(1, 1)], D1)
    bronze.drop("web_forms", [web(2, 1)], D1)


def test_a_run_validates_every_table_and_builds_data_docs(ctx, bronze):
    drops(bronze)
    entries = run_silver(ctx, D1)
    assert {e.status for e in entries} <= {"ok", "warn"}, [(e.source, e.error) for e in entries]
    details = {e.source: json.loads(e.details) for e in entries}
    assert details["call_logs"]["expectations"]["batch"]["failed"] == [
        "customer_known"
    ]  # counted, not gating
    # The whole table after the commit: the log's count and key NULLs, the run's keys unique.
    assert details["call_logs"]["expectations"]["commit"]["failed"] == []
    assert details["agents"]["expectations"] == {
        "batch": {
            "success": True,
            "seconds": details["agents"]["expectations"]["batch"]["seconds"],
            "failed": [],
        },
        "commit": {
            "success": True,
            "seconds": details["agents"]["expectations"]["commit"]["seconds"],
            "failed": [],
        },
    }

    index = docs_index(ctx.settings)
    assert index == ctx.settings.data_dir / "lake" / "_quality" / "data_docs" / "index.html"
    assert details["customers"]["data_docs"] == str(index)
    html = index.read_text()
    for suite in SUITES:
        page = "expectations/" + suite.replace(".", "/") + ".html"
        assert page in html, suite
        assert (index.parent / page).is_file()
    # every suite's latest validation is this run's, listed on the index with its page
    latest = QualityGate(ctx.settings).latest_results()
    assert sorted(latest) == SUITES
    assert {v["run_name"] for v in latest.values()} == {ctx.run_id}
    assert (
        latest["silver.call_logs.batch"]["success"] is False
        and latest["silver.agents.batch"]["success"] is True
    )
    pages = set(
        re.findall(
            r"validations/silver/[a-z_]+/(?:batch|table)/" + re.escape(ctx.run_id) + r"/[^'\"]+\.html", html
        )
    )
    assert len(pages) == len(SUITES)
    assert all((index.parent / p).is_file() for p in pages)

    metrics = ctx.lake.read("_quality.metrics").filter(f"run_id = '{ctx.run_id}'")
    kinds = {(r["stage"], r["kind"]) for r in metrics.collect()}
    assert kinds == {("batch", "rule"), ("batch", "expectation"), ("commit", "check")}
    reconcile = {
        (r["table_name"], r["stage"]): (r["rows_checked"], r["success"])
        for r in metrics.filter("rule = 'row_count_reconciles'").collect()
    }
    assert reconcile[("silver.call_logs", "batch")] == (2, True)  # 3 in - 1 quarantined
    assert reconcile[("silver.call_logs", "commit")] == (2, True)
    unique = metrics.filter("table_name = 'silver.call_logs' AND rule = 'call_id_unique'").collect()
    assert {(r["stage"], r["action"], r["success"]) for r in unique} == {
        ("batch", "fail", True),
        ("commit", "fail", True),
    }


def test_the_full_table_suites_run_on_demand_and_count_stored_warnings(ctx, bronze):
    drops(bronze)
    run_silver(ctx, D1)
    check = dataclasses.replace(ctx, run_id="check-1")
    results = run_table_suites(check, D1)
    assert sorted(results) == sorted(s.table for s in TABLES)
    (calls,) = results["silver.call_logs"]
    assert calls.suite == "silver.call_logs.table" and not calls.gating_failures
    assert [c.name for c in calls.results if not c.success] == ["customer_known"]  # a warn rule, counted
    latest = QualityGate(ctx.settings).latest_results()
    assert sorted(latest) == FULL
    assert {latest[f"{s.table}.table"]["run_name"] for s in TABLES} == {"check-1"}
    html = docs_index(ctx.settings).read_text()
    assert "expectations/silver/call_logs/table.html" in html
    metrics = ctx.lake.read("_quality.metrics").filter("run_id = 'check-1'")
    rows = {(r["table_name"], r["rule"]): r for r in metrics.collect()}
    assert {r["stage"] for r in rows.values()} == {"table"}
    assert rows[("silver.call_logs", "row_count_reconciles")]["rows_checked"] == 2
    assert rows[("silver.call_logs", "customer_known")]["rows_failed"] == 1


def test_a_gating_expectation_stops_silver_and_names_it(ctx, bronze, rules_dir):
    path = rules_dir / "silver.call_logs.yml"
    data = yaml.safe_load(path.read_text())
    data["rules"] = [r for r in data["rules"] if r["name"] != "call_id_present"]  # let a NULL key through
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    bronze.drop("agents", [agent(1)], D1)
    bronze.drop("call_logs", [call(1, 1), call(2, 2, call_id="  ")], D1)
    entries = run_silver(ctx, D1, rules_dir=rules_dir)
    by = {e.source: e for e in entries}
    assert by["call_logs"].status == "failed"
    assert (
        "silver.call_logs (batch expectations): expectation 'call_id_not_null' (fail) failed on 1 of 2 rows"
        in (by["call_logs"].error)
    )
    assert by["agents"].status == "failed" and "not written" in by["agents"].error
    assert not ctx.lake.exists("silver.call_logs") and not ctx.lake.exists("silver.agents")
    latest = QualityGate(ctx.settings).latest_results()
    assert latest["silver.call_logs.batch"]["success"] is False  # the failure is in the Data Docs too
    assert docs_index(ctx.settings).is_file()
