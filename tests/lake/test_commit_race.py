"""delta-rs: a commit racing another process's commit of the same application transaction is refused.

The contract case `the_transaction_check_is_part_of_the_commit` covers a pre-check that passed too early;
these put the other writer's commit exactly between our snapshot and our commit, for an existing table and
for a table neither writer has created yet.
"""

from __future__ import annotations

import pytest

from coretelecoms.lake.contract import content, df, rows
from coretelecoms.lake.deltars import DeltaRsEngine
from coretelecoms.lake.engine import Txn


def writers_racing(spark, root, monkeypatch, their_ids, their_txn) -> tuple[DeltaRsEngine, list]:
    """Two engines on one lake; the other one commits `their_ids` under `their_txn` right after our next
    write takes its snapshot. Returns our engine and the list their commit's result lands in."""
    ours, theirs = DeltaRsEngine(spark, root), DeltaRsEngine(spark, root)
    snapshot = DeltaRsEngine._snapshot
    raced = []

    def snapshot_then_they_commit(self, table):
        taken = snapshot(self, table)
        if self is ours and not raced:
            raced.append(theirs.append("bronze.x", df(spark, rows(their_ids)), txn=their_txn))
        return taken

    monkeypatch.setattr(DeltaRsEngine, "_snapshot", snapshot_then_they_commit)
    return ours, raced


@pytest.mark.parametrize("exists", [True, False], ids=["existing-table", "new-table"])
def test_the_other_writer_commits_between_our_snapshot_and_our_commit(spark, tmp_path, monkeypatch, exists):
    root = str(tmp_path / "lake")
    if exists:
        DeltaRsEngine(spark, root).append("bronze.x", df(spark, rows([1])))
    ours, raced = writers_racing(spark, root, monkeypatch, [2], Txn("bronze.x/race", 0))
    result = ours.append("bronze.x", df(spark, rows([2])), txn=Txn("bronze.x/race", 0))
    assert raced and raced[0].committed
    assert not result.committed
    assert content(ours, "bronze.x") == sorted((rows([1]) if exists else []) + rows([2]))
    assert ours.txn_version("bronze.x", "bronze.x/race") == 0


def test_a_race_on_another_transaction_still_commits(spark, tmp_path, monkeypatch):
    """Only the same application transaction is a conflict: two different batches both land."""
    root = str(tmp_path / "lake")
    DeltaRsEngine(spark, root).append("bronze.x", df(spark, rows([1])))
    ours, raced = writers_racing(spark, root, monkeypatch, [3], Txn("bronze.x/race", 1))
    assert ours.append("bronze.x", df(spark, rows([2])), txn=Txn("bronze.x/other", 0)).committed
    assert raced and raced[0].committed
    assert content(ours, "bronze.x") == sorted(rows([1, 2, 3]))
