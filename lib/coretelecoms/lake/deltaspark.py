"""Delta through delta-spark (the JVM classes EMR 7.x bundles): native, distributed MERGE.

Operations are Delta SQL on `delta.\`<path>\``, so the delta-spark Python package is not needed, only
the jars. Application transactions use Delta's own idempotent-write options.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

from pyspark.sql import DataFrame

from coretelecoms.lake.engine import DeltaEngine, Txn, WriteResult

TXN_APP_CONF = "spark.databricks.delta.write.txnAppId"
TXN_VERSION_CONF = "spark.databricks.delta.write.txnVersion"


class DeltaSparkEngine(DeltaEngine):
    name = "delta-spark"

    def _ref(self, table: str) -> str:
        return f"delta.`{self.path(table)}`"

    @contextmanager
    def _txn_conf(self, txn: Txn | None):
        """SQL statements (MERGE, DELETE) take the application transaction from session confs."""
        if txn is None:
            yield
            return
        self.spark.conf.set(TXN_APP_CONF, txn.app_id)
        self.spark.conf.set(TXN_VERSION_CONF, str(txn.version))
        try:
            yield
        finally:
            self.spark.conf.unset(TXN_APP_CONF)
            self.spark.conf.unset(TXN_VERSION_CONF)

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

    def _writer(self, df: DataFrame, mode: str, partition_by, txn: Txn | None):
        writer = df.write.format("delta").mode(mode).option("mergeSchema", "true")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        if txn is not None:
            writer = writer.option("txnAppId", txn.app_id).option("txnVersion", txn.version)
        return writer

    def _create_properties(self, table: str) -> None:
        self.spark.sql(
            f"ALTER TABLE {self._ref(table)} SET TBLPROPERTIES (delta.enableChangeDataFeed = true)"
        )

    def append(self, table, df, *, partition_by=None, txn=None) -> WriteResult:
        if self.already_committed(table, txn):
            return WriteResult(False, self.version(table))
        new = not self.exists(table)
        self._writer(df, "append", partition_by, txn).save(self.path(table))
        if new:
            self._create_properties(table)
        return WriteResult(True, self.version(table))

    def overwrite(self, table, df, *, predicate=None, partition_by=None, txn=None) -> WriteResult:
        if self.already_committed(table, txn):
            return WriteResult(False, self.version(table))
        new = not self.exists(table)
        writer = self._writer(df, "overwrite", partition_by, txn)
        if predicate is not None and not new:
            writer = writer.option("replaceWhere", predicate)
        writer.save(self.path(table))
        if new:
            self._create_properties(table)
        return WriteResult(True, self.version(table))

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
        try:
            with self._txn_conf(txn):
                metrics = self.spark.sql(sql).first().asDict()
        finally:
            self.spark.catalog.dropTempView(view)
        return WriteResult(True, self.version(table), metrics)

    def delete(self, table, predicate, *, txn=None) -> WriteResult:
        if self.already_committed(table, txn):
            return WriteResult(False, self.version(table))
        with self._txn_conf(txn):
            row = self.spark.sql(f"DELETE FROM {self._ref(table)} WHERE {predicate}").first()
        return WriteResult(True, self.version(table), row.asDict() if row else {})

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
        zorder = f" ZORDER BY ({', '.join(zorder_by)})" if zorder_by else ""
        row = self.spark.sql(f"OPTIMIZE {self._ref(table)}{zorder}").first()
        return row.asDict(recursive=True) if row else {}

    def vacuum(self, table, retention_hours) -> list[str]:
        # Short retentions are an explicit operator choice here, so Delta's safety check is lifted.
        self.spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
        rows = self.spark.sql(f"VACUUM {self._ref(table)} RETAIN {int(retention_hours)} HOURS").collect()
        return [r[0] for r in rows]

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
        # Delta's snapshot keeps the latest SetTransaction per app id.
        jvm = self.spark.sparkContext._jvm
        log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(self.spark._jsparkSession, self.path(table))
        txns = log.update(False, jvm.scala.Option.empty(), jvm.scala.Option.empty()).transactions()
        version = txns.get(app_id)
        return int(version.get()) if version.isDefined() else None
