"""A gold run killed between its commits and its quality gate: no committed row escapes the gate.

The same silver day is built in two lakes; gold runs clean in one (then re-runs), and in the other is killed
at the test's point (a BaseException: a kill -9 runs no `except Exception` and records nothing), then re-run.
"""

from __future__ import annotations

import json

import pytest
from gold_scenario import D1, DAY1, content, make_ctx
from silverlake import SilverLake

import coretelecoms.gold as gold_layer
from coretelecoms.gold import TABLES, run_gold
from coretelecoms.ops import journal, ledger
from coretelecoms.quality.metrics import TABLE as METRICS

FACT = "gold.fct_complaint"


class Killed(BaseException):
    pass


def kill():
    raise Killed


def metrics(lake) -> list[tuple]:
    cols = ["table_name", "stage", "kind", "rule", "action", "rows_checked", "rows_failed", "success"]
    return sorted(tuple(map(str, r)) for r in lake.read(METRICS).select(*cols).collect())


def ledger_rows(ctx) -> list[tuple]:
    cols = ["layer", "source", "run_date", "files", "rows_in", "rows_out", "rejected", "status"]
    return sorted(tuple(map(str, r)) for r in ledger.read(ctx).select(*cols).collect())


def lake_with_silver(spark, root):
    ctx = make_ctx(spark, root)
    SilverLake(spark, ctx.lake).day(D1, **DAY1)
    return ctx


@pytest.fixture(scope="module")
def clean(spark, tmp_path_factory):
    ctx = lake_with_silver(spark, tmp_path_factory.mktemp("gold-clean"))
    run_gold(ctx, D1)
    run_gold(ctx.for_layer("gold"), D1)  # what the re-run after a kill is compared with
    return ctx


def killed_at(spark, tmp_path, monkeypatch, hook: str):
    ctx = lake_with_silver(spark, tmp_path)
    monkeypatch.setattr(gold_layer, hook, kill)
    with pytest.raises(Killed):
        run_gold(ctx, D1)
    monkeypatch.setattr(gold_layer, hook, None)
    assert not ctx.lake.exists(ledger.TABLE) and not ctx.lake.exists(METRICS)  # the gate never ran
    return ctx


def test_a_run_killed_after_its_journal_is_finished_as_it_would_have_finished(
    spark, tmp_path, monkeypatch, clean
):
    killed = killed_at(spark, tmp_path, monkeypatch, "AFTER_JOURNAL")
    rerun = killed.for_layer("gold")
    entries = run_gold(rerun, D1)
    assert {e.status for e in entries} == {"skipped"}
    finished = ledger.read(killed).filter(f"run_id = '{killed.run_id}'").collect()
    assert len(finished) == len(TABLES)
    assert {json.loads(r["details"])["gate_finished_by"] for r in finished} == {rerun.run_id}
    assert journal.pending(rerun) == []
    # The fact's batch suite checked the killed run's rows, under its id.
    batch = (
        killed.lake.read(METRICS)
        .filter(f"table_name = '{FACT}' AND stage = 'batch' AND rule = 'customer_sk_resolves'")
        .collect()
    )
    assert [(r["run_id"], r["rows_checked"] > 0) for r in batch] == [(killed.run_id, True)]
    for table in TABLES:
        assert content(killed, table) == content(clean, table), table
    assert metrics(killed.lake) == metrics(clean.lake)
    assert ledger_rows(killed) == ledger_rows(clean)


def test_a_run_killed_before_its_journal_has_its_commits_checked_by_the_next_run(
    spark, tmp_path, monkeypatch, clean
):
    killed = killed_at(spark, tmp_path, monkeypatch, "AFTER_STEPS")
    rerun = killed.for_layer("gold")
    entries = {e.source: e for e in run_gold(rerun, D1)}
    # Nothing new to write, but every table holds commits no gate saw: all are checked now.
    assert {e.status for e in entries.values()} == {"ok"}
    for e in entries.values():
        d = json.loads(e.details)
        assert d["unchecked_commits"][0] == 0 and d["expectations"]["passed"], e.source
        assert e.rows_out == 0
    for table in TABLES:
        assert content(killed, table) == content(clean, table), table
    assert metrics(killed.lake) == metrics(clean.lake)
    # Checked once: the next run finds nothing unchecked.
    again = run_gold(rerun.for_layer("gold"), D1)
    assert {e.status for e in again} == {"skipped"}
