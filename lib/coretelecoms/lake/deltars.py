"""Delta through delta-rs, for machines without the delta-spark jars (laptops, CI).

Writes stage through Parquet: Spark writes the frame to a local staging folder (in its tasks, streaming)
and delta-rs reads those files as a stream of record batches, so neither the JVM nor Python holds a whole
table at once (collecting a 2.5M-row dimension with `toArrow()` ran a 4 GB driver out of heap). The change
feed goes the other way, delta-rs -> Parquet -> Spark. Staging needs the driver and the executors to share a
file system, which holds for local Spark, the only place this engine runs (clusters have delta-spark).

Reads list the live files of the snapshot with `file_uris()` and hand exactly those to Spark's Parquet
reader: a Delta folder read as plain Parquet would also return the files that MERGE and overwrite removed.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, Transaction, WriterProperties, write_deltalake
from deltalake.exceptions import DeltaError, TableNotFoundError
from pyspark.sql import DataFrame
from pyspark.sql.pandas.types import from_arrow_schema

from coretelecoms.lake.engine import CDF_PROPERTY, DeltaEngine, TableStats, Txn, WriteResult

# Row groups of this many rows: Spark reads a Parquet file in parallel only across row groups, and
# delta-rs's default (about a million rows) left a day's file in one group, read by one task on one core.
ROW_GROUP_ROWS = 65_536
WRITER = WriterProperties(max_row_group_size=ROW_GROUP_ROWS)


def _plain(table: pa.Table) -> pa.Table:
    """Cast types Spark and delta-rs disagree on: delta-rs merges expect plain strings on the way in;
    Spark cannot take the view strings or unsigned ints (CDF's `_commit_version`) delta-rs returns."""
    fields = []
    for f in table.schema:
        if pa.types.is_large_string(f.type) or pa.types.is_string_view(f.type):
            f = f.with_type(pa.string())
        elif pa.types.is_large_binary(f.type) or pa.types.is_binary_view(f.type):
            f = f.with_type(pa.binary())
        elif pa.types.is_unsigned_integer(f.type):
            f = f.with_type(pa.int64())
        fields.append(f)
    return table.cast(pa.schema(fields))


def _stage_root(spark) -> Path:
    local = spark.sparkContext.getConf().get("spark.local.dir", None)
    root = Path(local.split(",")[0] if local else tempfile.gettempdir()) / "delta-rs-stage"
    root.mkdir(parents=True, exist_ok=True)
    return root


class Staged:
    """A frame written to Parquet by Spark: its row count and a fresh stream of its record batches."""

    def __init__(self, folder: Path) -> None:
        self.dataset = pads.dataset(str(folder), format="parquet")
        self.num_rows = self.dataset.count_rows()

    def reader(self) -> pa.RecordBatchReader:
        return self.dataset.scanner().to_reader()


# Safe concurrent commits on S3: delta-rs writes the next `_delta_log/N.json` with `If-None-Match: *`, so of
# two writers racing for version N one gets 412, reloads and retries on N+1, and no commit is lost. delta-rs
# 1.x dropped the DynamoDB locking provider (it logs "no longer supports S3DynamoDBLogStores" and ignores
# AWS_S3_LOCKING_PROVIDER), and S3 has had conditional writes since 2024, so conditional put is the one way;
# it is set explicitly rather than left to a default that has changed between releases.
# delta-spark coordinates through DynamoDB instead (S3DynamoDBLogStore, deploy/sparkconf.py): the two
# protocols do not see each other, so one lake is written by one engine at a time.
S3_COMMIT_OPTIONS = {"conditional_put": "etag"}


def _commit(txn: Txn | None) -> CommitProperties | None:
    if txn is None:
        return None
    return CommitProperties(app_transactions=[Transaction(app_id=txn.app_id, version=txn.version)])


class DeltaRsEngine(DeltaEngine):
    name = "delta-rs"
    # Each write carries its own transaction; delta-spark's are session settings, so it writes one at a time.
    concurrent_writes = True

    def __init__(self, spark, root: str, storage_options: dict[str, str] | None = None) -> None:
        super().__init__(spark, root, storage_options)
        if self.root.startswith(("s3://", "s3a://")):
            given = {k.lower().removeprefix("aws_") for k in self.storage_options}
            if "conditional_put" not in given:
                self.storage_options = {**self.storage_options, **S3_COMMIT_OPTIONS}
        # Spark writes timestamps to Parquet as INT96 by default, which Arrow reads back as naive
        # nanoseconds; microseconds with the UTC flag keep both the instant and Delta's precision.
        spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")

    @contextmanager
    def _staged(self, df: DataFrame) -> Iterator[Staged]:
        folder = Path(tempfile.mkdtemp(prefix="write-", dir=_stage_root(self.spark)))
        try:
            df.write.mode("overwrite").parquet(str(folder / "data"))
            yield Staged(folder / "data")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _table(self, table: str, version: int | None = None) -> DeltaTable:
        return DeltaTable(self.path(table), version=version, storage_options=self.storage_options or None)

    def exists(self, table: str) -> bool:
        return DeltaTable.is_deltatable(self.path(table), storage_options=self.storage_options or None)

    def version(self, table: str) -> int | None:
        try:
            return self._table(table).version()
        except TableNotFoundError:
            return None

    def read(self, table: str, version: int | None = None) -> DataFrame:
        dt = self._table(table, version)
        schema = from_arrow_schema(pa.schema(dt.schema().to_arrow()), prefer_timestamp_ntz=True)
        uris = dt.file_uris()
        if not uris:
            return self.spark.createDataFrame([], schema)
        return (
            self.spark.read.schema(schema)
            .option("basePath", self.path(table))
            .parquet(*uris)
            .select(*[f"`{name}`" for name in schema.names])
        )

    def _snapshot(self, table: str) -> DeltaTable | None:
        try:
            return self._table(table)
        except TableNotFoundError:
            return None

    def _once(
        self, table: str, txn: Txn | None, write: Callable[[DeltaTable | None], WriteResult]
    ) -> WriteResult:
        """Run `write` against one snapshot, checked for `txn` first, so the check is part of the commit.

        The pre-checks in the public methods only save staging work. Between them and the commit another
        process may commit the same application transaction; delta-rs then rebases our commit over that
        one, sees the same app id in it and refuses ("Concurrent transaction"), or loses the race for
        version 0 of a new table. Either way the transaction is now committed, by the other writer: a skip.
        """
        dt = self._snapshot(table)
        if dt is not None and txn is not None:
            done = dt.transaction_version(txn.app_id)
            if done is not None and done >= txn.version:
                return WriteResult(False, dt.version())
        try:
            return write(dt)
        except DeltaError:
            if txn is not None and self.already_committed(table, txn):
                return WriteResult(False, self.version(table))
            raise

    def _write(self, table: str, data: Staged, mode: str, partition_by, predicate, txn) -> WriteResult:
        def write(dt: DeltaTable | None) -> WriteResult:
            # A new table is created with mode "error": if another writer created it since our snapshot,
            # this fails instead of appending to a table whose transactions were never checked.
            write_deltalake(
                dt if dt is not None else self.path(table),
                data.reader(),
                mode=mode if dt is not None else "error",
                partition_by=partition_by if dt is None else None,
                predicate=predicate,
                schema_mode="merge" if predicate is None else None,
                configuration={CDF_PROPERTY: "true"},
                storage_options=(self.storage_options or None) if dt is None else None,
                writer_properties=WRITER,
                commit_properties=_commit(txn),
            )
            return WriteResult(True, self.version(table), {"num_added_rows": data.num_rows})

        return self._once(table, txn, write)

    def append(self, table, df, *, partition_by=None, txn=None) -> WriteResult:
        if self.already_committed(table, txn):
            return WriteResult(False, self.version(table))
        with self._staged(df) as data:
            return self._write(table, data, "append", partition_by, None, txn)

    def overwrite(self, table, df, *, predicate=None, partition_by=None, txn=None) -> WriteResult:
        if self.already_committed(table, txn):
            return WriteResult(False, self.version(table))
        if predicate is not None and not self.exists(table):
            predicate = None  # nothing to replace yet
        with self._staged(df) as data:
            return self._write(table, data, "overwrite", partition_by, predicate, txn)

    def merge(
        self,
        table,
        df,
        *,
        keys,
        update_condition=None,
        update=True,
        insert=True,
        delete_not_matched_by_source=False,
        partition_by=None,
        txn=None,
    ) -> WriteResult:
        if self.already_committed(table, txn):
            return WriteResult(False, self.version(table))
        if not insert and not self.exists(table):
            return WriteResult(False, None)
        with self._staged(df) as data:
            if not self.exists(table):
                result = self._write(table, data, "append", partition_by, None, txn)
                if result.committed:
                    result.metrics = {"num_target_rows_inserted": data.num_rows}
                return result

            def write(dt: DeltaTable | None) -> WriteResult:
                on = " AND ".join(f"t.{k} = s.{k}" for k in keys)
                merger = (dt or self._table(table)).merge(
                    source=data.reader(),
                    predicate=on,
                    source_alias="s",
                    target_alias="t",
                    merge_schema=True,
                    writer_properties=WRITER,
                    commit_properties=_commit(txn),
                )
                if update:
                    merger = merger.when_matched_update_all(predicate=update_condition)
                if insert:
                    merger = merger.when_not_matched_insert_all()
                if delete_not_matched_by_source:
                    merger = merger.when_not_matched_by_source_delete()
                metrics = merger.execute()
                return WriteResult(True, self.version(table), metrics)

            return self._once(table, txn, write)

    def delete(self, table, predicate, *, txn=None) -> WriteResult:
        def write(dt: DeltaTable | None) -> WriteResult:
            metrics = (dt or self._table(table)).delete(
                predicate, writer_properties=WRITER, commit_properties=_commit(txn)
            )
            return WriteResult(True, self.version(table), metrics)

        return self._once(table, txn, write)

    def history(self, table, limit=None) -> list[dict[str, Any]]:
        return [
            {
                "version": h.get("version"),
                "timestamp": h.get("timestamp"),
                "operation": h.get("operation"),
                "metrics": h.get("operationMetrics", {}),
            }
            for h in self._table(table).history(limit)
        ]

    def optimize(self, table, zorder_by=None) -> dict[str, Any]:
        dt = self._table(table)
        if zorder_by:
            return dt.optimize.z_order(zorder_by, writer_properties=WRITER)
        return dt.optimize.compact(writer_properties=WRITER)

    def vacuum(self, table, retention_hours) -> list[str]:
        return self._table(table).vacuum(
            retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False
        )

    def changes(self, table, start_version, end_version=None) -> DataFrame:
        dt = self._table(table)
        reader = dt.load_cdf(
            starting_version=start_version, ending_version=end_version, allow_out_of_range=True
        )
        batches = pa.RecordBatchReader.from_stream(reader)
        schema = _plain(batches.schema.empty_table()).schema
        spark_schema = from_arrow_schema(schema, prefer_timestamp_ntz=True)
        folder = Path(tempfile.mkdtemp(prefix="changes-", dir=_stage_root(self.spark)))
        # The frame is read lazily, so the staged files live until the process ends.
        atexit.register(shutil.rmtree, folder, True)
        rows = 0
        with pq.ParquetWriter(folder / "part-0.parquet", schema) as out:
            for batch in batches:
                if batch.num_rows:
                    out.write_table(_plain(pa.Table.from_batches([batch])))
                    rows += batch.num_rows
        if not rows:
            return self.spark.createDataFrame([], spark_schema)
        return self.spark.read.schema(spark_schema).parquet(str(folder))

    def log_stats(self, table: str, columns: list[str] = (), version: int | None = None) -> TableStats:
        """From the add actions' statistics; a file written without them (none of ours) is counted by Spark."""
        actions = pa.table(self._table(table, version).get_add_actions(flatten=True))
        wanted = ["num_records", *[f"null_count.{c}" for c in columns]]
        if actions.num_rows and any(n not in actions.column_names or actions[n].null_count for n in wanted):
            return super().log_stats(table, columns, version)
        sums = {n: int(pc.sum(actions[n]).as_py() or 0) if actions.num_rows else 0 for n in wanted}
        return TableStats(sums["num_records"], {c: sums[f"null_count.{c}"] for c in columns})

    def file_count(self, table) -> int:
        return len(self._table(table).file_uris())

    def txn_version(self, table, app_id) -> int | None:
        return self._table(table).transaction_version(app_id)
