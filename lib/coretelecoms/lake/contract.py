"""The Delta engine contract: each operation behaves the same on delta-rs and delta-spark.

Each case takes a SparkSession and an engine on an empty lake root, and raises AssertionError when the engine
breaks the contract. The test suite runs every case against every engine it has (tests/lake/
test_delta_contract.py); `coretelecoms emr smoke` runs the same cases against delta-spark on the cluster,
where the jars are (jobs/smoke.py). Kept in the package, not in tests/, so the cluster has them. Tables
are named in a real layer (`bronze.x`) because an s3:// lake is listed layer prefix by layer prefix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pyspark.sql import functions as F
from pyspark.sql import types as T

from coretelecoms.lake.engine import Txn

SCHEMA = T.StructType(
    [
        T.StructField("id", T.LongType()),
        T.StructField("name", T.StringType()),
        T.StructField("amount", T.DoubleType()),
        T.StructField("day", T.StringType()),
        T.StructField("seen_at", T.TimestampNTZType()),
    ]
)
TS = dt.datetime(2025, 11, 20, 8, 30)


def rows(ids, name="a", day="2025-11-20", amount=1.0):
    return [(i, f"{name}{i}", amount * i, day, TS) for i in ids]


def df(spark, data):
    return spark.createDataFrame(data, SCHEMA)


def content(lake, table, version=None):
    return sorted(tuple(r) for r in lake.read(table, version).select(*SCHEMA.names).collect())


def append_creates_then_adds_and_read_keeps_types(spark, lake):
    assert not lake.exists("bronze.x") and lake.version("bronze.x") is None
    lake.append("bronze.x", df(spark, rows([1, 2])), partition_by=["day"])
    lake.append("bronze.x", df(spark, rows([3], day="2025-11-21")))
    assert lake.version("bronze.x") == 1
    out = lake.read("bronze.x")
    assert out.schema["seen_at"].dataType == T.TimestampNTZType()
    assert out.columns == SCHEMA.names
    assert content(lake, "bronze.x") == sorted(rows([1, 2]) + rows([3], day="2025-11-21"))
    assert lake.list_tables() == ["bronze.x"]


def read_an_older_version(spark, lake):
    lake.append("bronze.x", df(spark, rows([1])))
    lake.append("bronze.x", df(spark, rows([2])))
    assert content(lake, "bronze.x", version=0) == rows([1])
    assert lake.count("bronze.x") == 2


def reads_after_merge_never_see_removed_files(spark, lake):
    lake.append("bronze.x", df(spark, rows(range(1, 101))))
    result = lake.merge("bronze.x", df(spark, rows(range(51, 151), name="b")), keys=["id"])
    assert result.committed
    got = lake.read("bronze.x")
    assert got.count() == 150
    assert got.filter("name LIKE 'b%'").count() == 100
    assert got.groupBy("id").count().filter("count > 1").count() == 0


def merge_updates_only_when_condition_holds(spark, lake):
    lake.append("bronze.x", df(spark, rows([1, 2], amount=10.0)))
    incoming = df(spark, [(1, "new1", 5.0, "2025-11-21", TS), (2, "new2", 50.0, "2025-11-21", TS)])
    lake.merge("bronze.x", incoming, keys=["id"], update_condition="s.amount > t.amount")
    by_id = {r["id"]: r["name"] for r in lake.read("bronze.x").collect()}
    assert by_id == {1: "a1", 2: "new2"}


def merge_insert_only_and_delete_not_matched_by_source(spark, lake):
    lake.append("bronze.x", df(spark, rows([1, 2, 3])))
    lake.merge("bronze.x", df(spark, rows([3, 4], name="z")), keys=["id"], update=False)
    assert content(lake, "bronze.x") == sorted(rows([1, 2, 3]) + rows([4], name="z"))
    lake.merge("bronze.x", df(spark, rows([2, 4], name="y")), keys=["id"], delete_not_matched_by_source=True)
    assert content(lake, "bronze.x") == rows([2, 4], name="y")


def merge_into_missing_table_creates_it(spark, lake):
    lake.merge("bronze.new", df(spark, rows([7])), keys=["id"])
    assert content(lake, "bronze.new") == rows([7])


def overwrite_with_predicate_replaces_only_matching_rows(spark, lake):
    lake.append("bronze.x", df(spark, rows([1, 2]) + rows([3], day="2025-11-21")), partition_by=["day"])
    lake.overwrite(
        "bronze.x", df(spark, rows([9], day="2025-11-21", name="n")), predicate="day = '2025-11-21'"
    )
    assert content(lake, "bronze.x") == sorted(rows([1, 2]) + rows([9], day="2025-11-21", name="n"))
    lake.overwrite("bronze.x", df(spark, rows([5])))
    assert content(lake, "bronze.x") == rows([5])


def delete(spark, lake):
    lake.append("bronze.x", df(spark, rows([1, 2, 3])))
    lake.delete("bronze.x", "id >= 2")
    assert content(lake, "bronze.x") == rows([1])


def history_is_newest_first_with_operations(spark, lake):
    lake.append("bronze.x", df(spark, rows([1])))
    lake.merge("bronze.x", df(spark, rows([1, 2])), keys=["id"])
    lake.delete("bronze.x", "id = 2")
    history = lake.history("bronze.x")
    assert [h["version"] for h in history] == [2, 1, 0]
    assert [h["operation"] for h in history] == ["DELETE", "MERGE", "WRITE"]
    assert len(lake.history("bronze.x", limit=1)) == 1


def idempotent_commit_replay_is_skipped(spark, lake):
    batch = df(spark, rows([1, 2]))
    first = lake.append("bronze.x", batch, txn=Txn("bronze.x/ckpt", 0))
    replay = lake.append("bronze.x", batch, txn=Txn("bronze.x/ckpt", 0))
    assert first.committed and not replay.committed
    assert lake.txn_version("bronze.x", "bronze.x/ckpt") == 0
    assert lake.count("bronze.x") == 2
    lake.append("bronze.x", df(spark, rows([3])), txn=Txn("bronze.x/ckpt", 1))
    assert not lake.merge(
        "bronze.x", df(spark, rows([3])), keys=["id"], txn=Txn("bronze.x/ckpt", 1)
    ).committed
    assert not lake.overwrite("bronze.x", df(spark, rows([3])), txn=Txn("bronze.x/ckpt", 0)).committed
    assert lake.count("bronze.x") == 3
    assert lake.txn_version("bronze.x", "other") is None


def change_feed_between_versions(spark, lake):
    lake.append("bronze.x", df(spark, rows([1, 2])))
    lake.merge("bronze.x", df(spark, rows([2, 3], name="m")), keys=["id"])
    lake.delete("bronze.x", "id = 1")
    feed = lake.changes("bronze.x", 1)
    got = sorted((r["id"], r["_change_type"], r["_commit_version"]) for r in feed.collect())
    assert got == [
        (1, "delete", 2),
        (2, "update_postimage", 1),
        (2, "update_preimage", 1),
        (3, "insert", 1),
    ]
    first_only = lake.changes("bronze.x", 0, 0)
    assert sorted(r["_change_type"] for r in first_only.collect()) == ["insert", "insert"]


def optimize_compacts_and_vacuum_removes_unreferenced_files(spark, lake):
    for i in range(4):
        lake.append("bronze.x", df(spark, rows([i])).coalesce(1))
    before = content(lake, "bronze.x")
    assert lake.file_count("bronze.x") == 4
    lake.optimize("bronze.x")
    assert lake.file_count("bronze.x") == 1
    assert content(lake, "bronze.x") == before
    lake.optimize("bronze.x", zorder_by=["id"])
    removed = lake.vacuum("bronze.x", retention_hours=0)
    assert len(removed) >= 4
    assert content(lake, "bronze.x") == before


def schema_evolves_additively_on_append(spark, lake):
    lake.append("bronze.x", df(spark, rows([1])))
    wider = df(spark, rows([2])).withColumn("extra", F.lit("e"))
    lake.append("bronze.x", wider)
    got = {r["id"]: r["extra"] for r in lake.read("bronze.x").collect()}
    assert got == {1: None, 2: "e"}


def the_transaction_check_is_part_of_the_commit(spark, lake):
    """A writer whose pre-check ran before another writer committed the same application transaction
    (two processes racing) is refused by the commit itself: one copy of the rows, never two."""
    lake.append("bronze.x", df(spark, rows([1])))
    stale = type(lake).already_committed
    lake.already_committed = lambda table, txn: (
        False
    )  # the check both writers passed, before either committed
    try:
        assert lake.append("bronze.x", df(spark, rows([2])), txn=Txn("bronze.x/race", 0)).committed
        for write in (
            lambda: lake.append("bronze.x", df(spark, rows([2])), txn=Txn("bronze.x/race", 0)),
            lambda: lake.merge("bronze.x", df(spark, rows([2, 9])), keys=["id"], txn=Txn("bronze.x/race", 0)),
            lambda: lake.delete("bronze.x", "id = 1", txn=Txn("bronze.x/race", 0)),
        ):
            assert not write().committed
    finally:
        del lake.already_committed
    assert type(lake).already_committed is stale
    assert content(lake, "bronze.x") == sorted(rows([1]) + rows([2]))


def log_stats_count_rows_and_nulls_of_the_live_snapshot(spark, lake):
    lake.append("bronze.x", df(spark, rows([1, 2, 3])))
    lake.append("bronze.x", df(spark, [(4, None, None, "2025-11-21", TS)]))
    lake.merge("bronze.x", df(spark, [(1, None, 5.0, "2025-11-20", TS)]), keys=["id"])  # rewrites a file
    stats = lake.log_stats("bronze.x", ["id", "name", "amount"])
    assert (stats.rows, stats.nulls) == (4, {"id": 0, "name": 2, "amount": 1})


CASES: tuple[Callable, ...] = (
    append_creates_then_adds_and_read_keeps_types,
    read_an_older_version,
    reads_after_merge_never_see_removed_files,
    merge_updates_only_when_condition_holds,
    merge_insert_only_and_delete_not_matched_by_source,
    merge_into_missing_table_creates_it,
    overwrite_with_predicate_replaces_only_matching_rows,
    delete,
    history_is_newest_first_with_operations,
    idempotent_commit_replay_is_skipped,
    the_transaction_check_is_part_of_the_commit,
    change_feed_between_versions,
    optimize_compacts_and_vacuum_removes_unreferenced_files,
    schema_evolves_additively_on_append,
    log_stats_count_rows_and_nulls_of_the_live_snapshot,
)
