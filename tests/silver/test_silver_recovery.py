"""A silver run killed between its commits and its whole-table checks: the next run finishes its gate.

Each test builds the same bronze drops in two lakes: one silver run there runs clean, the other is killed at
the test's point (a BaseException, as a kill -9 skips every `except Exception`), then re-run. Tables,
`_quality.metrics` rows and the ledger must come out as the clean lake's (a clean run, then a re-run).
"""

from __future__ import annotations

import json

import pytest
from silver_support import D1, Bronze, agent, call, customer, make_ctx, social, web

import coretelecoms.silver as silver_layer
from coretelecoms.ops import journal, ledger
from coretelecoms.quality.metrics import TABLE as METRICS
from coretelecoms.silver import TABLES, run_silver

SILVER = [s.table for s in TABLES] + ["silver.complaint_status_history", "silver.quarantine"]
AUDIT = {"_updated_at", "_run_id", "quarantined_at", "changed_at"}


class Killed(BaseException):
    """What a kill -9 is to the code after it: nothing else of the run happens."""


def drops(bronze: Bronze) -> None:
    bronze.drop("agents", [agent(1), agent(2, experience="intern")], D1)
    bronze.drop("customers", [customer(1), customer(2, email="not-an-email")], D1)
    bronze.drop("call_logs", [call(1, 1), call(99, 2), call(2, 3, complaint_category="Billing")], D1)
    bronze.drop("social_media", [social(1, 1)], D1)
    bronze.drop("web_forms", [web(2, 1), web(1, 2, request_date="not a date")], D1)


def content(lake, table: str) -> list[tuple]:
    df = lake.read(table)
    cols = sorted(c for c in df.columns if c not in AUDIT)
    return sorted((tuple(map(str, r)) for r in df.select(*cols).collect()), key=str)


def metrics(lake) -> list[tuple]:
    df = lake.read(METRICS)
    cols = ["table_name", "stage", "kind", "rule", "action", "rows_checked", "rows_failed", "success"]
    return sorted(tuple(map(str, r)) for r in df.select(*cols).collect())


def ledger_rows(ctx) -> list[tuple]:
    cols = ["layer", "source", "run_date", "files", "rows_in", "rows_out", "rejected", "status"]
    return sorted(tuple(map(str, r)) for r in ledger.read(ctx).select(*cols).collect())


@pytest.fixture(scope="module")
def clean(spark, tmp_path_factory):
    ctx = make_ctx(spark, tmp_path_factory.mktemp("clean"))
    drops(Bronze(spark, ctx.lake))
    run_silver(ctx, D1)
    run_silver(ctx.for_layer("silver"), D1)  # what the re-run after a kill is compared with
    return ctx


@pytest.fixture
def lakes(spark, tmp_path, clean):
    killed = make_ctx(spark, tmp_path / "killed")
    drops(Bronze(spark, killed.lake))
    return clean, killed


def test_a_run_killed_after_its_commits_has_its_gate_finished_by_the_next_run(lakes, monkeypatch):
    clean, killed = lakes

    def kill():
        raise Killed

    monkeypatch.setattr(silver_layer, "AFTER_COMMITS", kill)
    with pytest.raises(Killed):
        run_silver(killed, D1)
    monkeypatch.setattr(silver_layer, "AFTER_COMMITS", None)
    # The data is in; the gate's records are not.
    assert not killed.lake.exists(ledger.TABLE) and not killed.lake.exists(METRICS)
    assert sorted(u.table for u in journal.pending(killed)) == sorted(s.table for s in TABLES)

    rerun = killed.for_layer("silver")
    entries = run_silver(rerun, D1)
    assert {e.status for e in entries} == {"skipped"}  # nothing new: the killed run's work is recorded...
    finished = ledger.read(killed).filter(f"run_id = '{killed.run_id}'").collect()
    assert len(finished) == len(TABLES)  # ...under the killed run's id, by the re-run
    assert {json.loads(r["details"])["gate_finished_by"] for r in finished} == {rerun.run_id}
    assert all("commit" in json.loads(r["details"])["expectations"] for r in finished)
    assert journal.pending(rerun.for_layer("silver")) == []

    for table in SILVER:
        assert content(killed.lake, table) == content(clean.lake, table), table
    assert metrics(killed.lake) == metrics(clean.lake)
    assert ledger_rows(killed) == ledger_rows(clean)


def test_a_run_killed_between_two_tables_commits_is_finished_and_redone(lakes, monkeypatch):
    clean, killed = lakes
    real_commit = silver_layer.commit

    def commit(ctx, plan):
        if plan.spec.table == "silver.call_logs":
            raise Killed
        return real_commit(ctx, plan)

    monkeypatch.setattr(silver_layer, "commit", commit)
    with pytest.raises(Killed):
        run_silver(killed, D1)
    monkeypatch.setattr(silver_layer, "commit", real_commit)
    assert not killed.lake.exists("silver.call_logs")

    run_silver(killed.for_layer("silver"), D1)
    by_source = {
        r["source"]: r["status"] for r in ledger.read(killed).filter(f"run_id = '{killed.run_id}'").collect()
    }
    # The dimensions landed and were checked; the complaint tables did not land and were redone.
    assert by_source["agents"] in ("ok", "warn") and by_source["customers"] in ("ok", "warn")
    assert {by_source[s] for s in ("call_logs", "social_complaints", "web_complaints")} == {"failed"}
    for table in SILVER:
        assert content(killed.lake, table) == content(clean.lake, table), table
    assert metrics(killed.lake) == metrics(clean.lake)
