"""Delta through delta-spark (the JVM classes the emr-spark-8.2.0 image bundles: Delta 4.2.0): native, distributed MERGE.

Operations are Delta SQL on `delta.\`<path>\``, so the delta-spark Python package is not needed, only
the jars. Application transactions use Delta's own idempotent-write options.

Versions line up with delta-rs: the change feed is a table property of the creating commit (not a later
ALTER TABLE, which would add a version and leave version 0 without a feed), and a write's metrics are its
commit's `operationMetrics` (`numOutputRows`, `numTargetRowsUpdated`, ...), what the callers read.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from pyspark.sql import DataFrame

from coretelecoms.lake.engine import CDF_PROPERTY, DeltaEngine, Txn, WriteResult

TXN_APP_CONF = "spark.databricks.delta.write.txnAppId"
TXN_VERSION_CONF = "spark.databricks.delta.write.txnVersion"
RETENTION_CHECK_CONF = "spark.databricks.delta.retentionDurationCheck.enabled"


class DeltaSparkEngine(DeltaEngine):
    name = "delta-spark"

    def _ref(self, table: str) -> str:
        return f"delta.`{self.path(table)}`"

    @contextmanager
    def _session_conf(self, confs: dict[str, str]):
        """Set session confs for the statements in the block, then put back what was there."""
        before = {key: self.spark.conf.get(key, None) for key in confs}
        for key, value in confs.items():
            self.spark.conf.set(key, value)
        try:
            yield
        finally:
            for key, value in before.items():
                if value is None:
                    self.spark.conf.unset(key)
                else:
                    self.spark.conf.set(key, value)

    def _txn_conf(self, txn: Txn | None):
        """SQL statements (MERGE, DELETE) take the application transaction from session confs."""
        if txn is None:
            return self._session_conf({})
        return self._session_conf({TXN_APP_CONF: txn.app_id, TXN_VERSION_CONF: str(txn.version)})

    def _committed(self, table: str, before: int | None, txn: Txn | None) -> WriteResult:
        """The commit a write made, with its operation metrics (the names DESCRIBE HISTORY shows);
        not committed, no metrics, when the version did not move: Delta checks the application transaction
        inside its commit and skips a write whose version it already holds (another writer got there
        between our pre-check and the commit), and its conflict check fails one of two concurrent ones."""
        last = self.history(table, limit=1)[0]
        moved = before is None or last["version"] > before
        return WriteResult(moved or txn is None, last["version"], last["metrics"] if moved else {})

    def exists(self, table: str) -> bool:
        jvm = self.spark.sparkContext._jvm
        return bool(jvm.io.delta.tables.DeltaTable.isDeltaTable(self.spark._jsparkSession, self.path(table)))

    def version(self, table: str) -> int | None:
        if not self.exists(table):
            return None
        return self.spark.sql(f"DESCRIBE HISTORY {self._ref(table)} LIMIT 1").first()["version"]

    def read(self, table: str, version: int | None = None) -> DataFrame:
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        return reader.load(self.path(table))

    def _writer(self, df: DataFrame, mode: str, new: bool, partition_by, txn: Txn | None):
        """A DataFrame writer. On a new table, `delta.*` writer options become table properties of the
        creating commit (Delta's data source passes them as the table configuration), so the change feed
        starts at version 0; partitioning, as with delta-rs, is set only then."""
        writer = df.write.format("delta").mode(mode).option("mergeSchema", "true")
        if new:
            writer = writer.option(CDF_PROPERTY, "true")
            if partition_by:
                writer = writer.partitionBy(*partition_by)
        if txn is not None:
            writer = writer.option("txnAppId", txn.app_id).option("txnVersion", txn.version)
        return writer

    def _once(self, table: str, txn: Txn | None, write: Callable[[int | None], None]) -> WriteResult:
        """Run one write; of two writers committing the same application transaction at once, Delta's
        conflict check fails the later with ConcurrentTransactionException: the other one holds it now."""
        before = self.version(table)
        try:
            write(before)
        except Exception as exc:
            raced = "ConcurrentTransaction" in f"{type(exc).__name__} {exc}"
            if raced and txn is not None and self.already_committed(table, txn):
                return WriteResult(False, self.version(table))
            raise
        return self._committed(table, before, txn)

    def append(self, table, df, *, partition_by=None, txn=None) -> WriteResult:
        if self.already_committed(table, txn):
            return WriteResult(False, self.version(table))

        def write(before: int | None) -> None:
            self._writer(df, "append", before is None, partition_by, txn).save(self.path(table))

        return self._once(table, txn, write)

    def overwrite(self, table, df, *, predicate=None, partition_by=None, txn=None) -> WriteResult:
        if self.already_committed(table, txn):
            return WriteResult(False, self.version(table))

        def write(before: int | None) -> None:
            writer = self._writer(df, "overwrite", before is None, partition_by, txn)
            if predicate is not None and before is not None:
                writer = writer.option("replaceWhere", predicate)
            writer.save(self.path(table))

        return self._once(table, txn, write)

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
        if not self.exists(table):
            return (
                self.append(table, df, partition_by=partition_by, txn=txn) if insert else WriteResult(False)
            )
        view = f"merge_source_{abs(hash((table, id(df))))}"
        df.createOrReplaceTempView(view)
        on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
        clauses = []
        if update:
            cond = f" AND ({update_condition})" if update_condition else ""
            clauses.append(f"WHEN MATCHED{cond} THEN UPDATE SET *")
        if insert:
            clauses.append("WHEN NOT MATCHED THEN INSERT *")
        if delete_not_matched_by_source:
            clauses.append("WHEN NOT MATCHED BY SOURCE THEN DELETE")
        sql = f"MERGE WITH SCHEMA EVOLUTION INTO {self._ref(table)} t USING {view} s ON {on} " + " ".join(
            clauses
        )

        def write(before: int | None) -> None:
            with self._txn_conf(txn):
                self.spark.sql(sql).collect()

        try:
            return self._once(table, txn, write)
        finally:
            self.spark.catalog.dropTempView(view)

    def delete(self, table, predicate, *, txn=None) -> WriteResult:
        if self.already_committed(table, txn):
            return WriteResult(False, self.version(table))

        def write(before: int | None) -> None:
            with self._txn_conf(txn):
                self.spark.sql(f"DELETE FROM {self._ref(table)} WHERE {predicate}").collect()

        return self._once(table, txn, write)

    def history(self, table, limit=None) -> list[dict[str, Any]]:
        sql = f"DESCRIBE HISTORY {self._ref(table)}" + (f" LIMIT {int(limit)}" if limit else "")
        return [
            {
                "version": r["version"],
                "timestamp": int(r["timestamp"].timestamp() * 1000),
                "operation": r["operation"],
                "metrics": dict(r["operationMetrics"] or {}),
            }
            for r in self.spark.sql(sql).collect()
        ]

    def optimize(self, table, zorder_by=None) -> dict[str, Any]:
        """OPTIMIZE's metrics (`numFilesAdded`, `numFilesRemoved`, ...), named as delta-rs names them."""
        zorder = f" ZORDER BY ({', '.join(zorder_by)})" if zorder_by else ""
        row = self.spark.sql(f"OPTIMIZE {self._ref(table)}{zorder}").first()
        return (row.asDict(recursive=True).get("metrics") or {}) if row else {}

    def vacuum(self, table, retention_hours) -> list[str]:
        """A real VACUUM answers with the table path only, so a DRY RUN lists the files first.

        Short retentions are an explicit operator choice here, so Delta's safety check is lifted for these
        two statements only. A file that ages past the cutoff between the two is removed but not listed."""
        sql = f"VACUUM {self._ref(table)} RETAIN {int(retention_hours)} HOURS"
        with self._session_conf({RETENTION_CHECK_CONF: "false"}):
            removed = [r["path"] for r in self.spark.sql(f"{sql} DRY RUN").collect()]
            self.spark.sql(sql).collect()
        return removed

    def changes(self, table, start_version, end_version=None) -> DataFrame:
        reader = (
            self.spark.read.format("delta")
            .option("readChangeFeed", "true")
            .option("startingVersion", start_version)
        )
        if end_version is not None:
            reader = reader.option("endingVersion", end_version)
        return reader.load(self.path(table))

    def file_count(self, table) -> int:
        return int(self.spark.sql(f"DESCRIBE DETAIL {self._ref(table)}").first()["numFiles"])

    def txn_version(self, table, app_id) -> int | None:
        # Delta's snapshot keeps the latest SetTransaction per app id. `forTableWithSnapshot` returns a
        # fresh snapshot with the same signature across Delta 3.x and 4.x, unlike `DeltaLog.update`.
        jvm = self.spark.sparkContext._jvm
        log_and_snapshot = jvm.org.apache.spark.sql.delta.DeltaLog.forTableWithSnapshot(
            self.spark._jsparkSession, self.path(table)
        )
        version = log_and_snapshot._2().transactions().get(app_id)
        return int(version.get()) if version.isDefined() else None
