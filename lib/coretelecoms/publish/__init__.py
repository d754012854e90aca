"""Publish the gold star schema to Snowflake, incrementally and exactly once.

For each gold table (dimensions before facts): the slice that changed since the last published Delta version
(its change feed; the whole table on the first publish) is staged, MERGEd on the keys, and only then is
the new version recorded in `_ops.publish_state`. A first publish is a full refresh: TRUNCATE + COPY (or, through
the Spark connector, TRUNCATE + INSERT from the staging table) in one transaction, which keeps grants
(ALTER TABLE … SWAP would drop them). Every publish ends with a
reconciliation of row count and checksums between gold and Snowflake; a mismatch fails the job.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from coretelecoms import progress
from coretelecoms.context import RunContext
from coretelecoms.ops.ledger import LedgerEntry, record
from coretelecoms.publish import loaders, state
from coretelecoms.publish.catalog import CATALOG, PublishedTable
from coretelecoms.publish.ddl import ensure_table
from coretelecoms.publish.reconcile import reconcile
from coretelecoms.publish.warehouse import connect, query_tag
from coretelecoms.secrets import error_text

CDF_COLUMNS = ["_change_type", "_commit_version", "_commit_timestamp"]


def changed_slice(ctx: RunContext, table: PublishedTable, since: int, until: int) -> DataFrame:
    """The latest change per key between two versions, with a deleted flag."""
    feed = ctx.lake.changes(table.name, since, until).filter(F.col("_change_type") != "update_preimage")
    latest = Window.partitionBy(*table.keys).orderBy(
        F.col("_commit_version").desc(), (F.col("_change_type") == "delete").asc()
    )
    return (
        feed.withColumn("_rank", F.row_number().over(latest))
        .filter("_rank = 1")
        .withColumn(loaders.DELETED, F.col("_change_type") == "delete")
        .drop("_rank", *CDF_COLUMNS)
    )


def stage_table(cur, table: PublishedTable, staging: str) -> None:
    cur.execute(f"CREATE OR REPLACE TRANSIENT TABLE {staging} LIKE {table.target}")
    cur.execute(f"ALTER TABLE {staging} ADD COLUMN {loaders.DELETED} BOOLEAN")


def replace_from_staging(cur, table: PublishedTable, staging: str, schema) -> None:
    """A full refresh from the staging table in one transaction; TRUNCATE keeps the target's grants."""
    cols = ", ".join(c.upper() for c in schema.names)
    cur.execute("BEGIN")
    cur.execute(f"TRUNCATE TABLE {table.target}")
    cur.execute(f"INSERT INTO {table.target} ({cols}) SELECT {cols} FROM {staging}")
    cur.execute("COMMIT")
    cur.execute(f"DROP TABLE IF EXISTS {staging}")


def merge_staging(cur, table: PublishedTable, staging: str, schema) -> None:
    cur.execute(loaders.merge_sql(table.target, staging, table.keys, schema.names))
    cur.execute(f"DROP TABLE IF EXISTS {staging}")


def publish_table(
    ctx: RunContext,
    conn: Any,
    table: PublishedTable,
    published: int | None,
    *,
    after_warehouse_commit: Callable[[str], None] | None = None,
) -> LedgerEntry:
    cfg = ctx.settings.warehouse
    entry = LedgerEntry(source=table.name, run_date=None)
    latest = ctx.lake.version(table.name)
    if latest is None:
        entry.status, entry.error = "skipped", "gold table does not exist yet"
        return entry
    if published is not None and published >= latest:
        entry.details = json.dumps({"version": latest, "up_to_date": True})
        return entry
    schema = ctx.lake.read(table.name).schema
    added = ensure_table(conn, cfg.schema_name, table.target, schema)
    full = published is None or table.snapshot
    data = ctx.lake.read(table.name, latest) if full else changed_slice(ctx, table, published + 1, latest)
    method = cfg.method
    staging = f"{table.target}__STAGING"
    work_dir = ctx.settings.data_dir / "tmp" / "publish"
    cur = conn.cursor()
    try:
        if method == "spark-connector":
            if full:
                data = data.withColumn(loaders.DELETED, F.lit(False))
            data = data.cache()
            rows = data.count()
            if rows or full:
                stage_table(cur, table, staging)
                options = loaders.spark_connector_options(cfg, query_tag("publish", ctx.run_id))
                loaders.write_with_spark_connector(data, options, staging)
                if full:
                    replace_from_staging(cur, table, staging, schema)
                else:
                    merge_staging(cur, table, staging, schema)
            data.unpersist()
        elif full:
            location, rows = loaders.stage_slice(conn, cfg, data, table.target, ctx.run_id, work_dir)
            cur.execute("BEGIN")
            cur.execute(f"TRUNCATE TABLE {table.target}")
            cur.execute(loaders.copy_sql(table.target, location))
            cur.execute("COMMIT")
        else:
            location, rows = loaders.stage_slice(conn, cfg, data, table.target, ctx.run_id, work_dir)
            if rows:
                stage_table(cur, table, staging)
                cur.execute(loaders.copy_sql(staging, location))
                merge_staging(cur, table, staging, schema)
    finally:
        cur.close()
    if after_warehouse_commit:
        after_warehouse_commit(table.name)
    state.mark_published(ctx, table.name, latest, rows, method)
    entry.rows_in = entry.rows_out = rows
    entry.details = json.dumps(
        {
            "version": latest,
            "from_version": published,
            "full_refresh": full,
            "method": method,
            "columns_added": added,
        }
    )
    return entry


def run_publish(
    ctx: RunContext,
    run_date: date | None = None,
    *,
    catalog: tuple[PublishedTable, ...] = CATALOG,
    after_warehouse_commit: Callable[[str], None] | None = None,
) -> list[LedgerEntry]:
    """Publish every catalogued gold table that changed, then reconcile each one."""
    cfg = ctx.settings.warehouse
    if cfg.method == "spark-connector":
        loaders.require_spark_connector(ctx.spark)  # before anything is read, written or connected
    entries: list[LedgerEntry] = []
    published = state.published_versions(ctx)
    with connect(cfg, query_tag("publish", ctx.run_id)) as conn:
        for table in catalog:
            try:
                began = time.perf_counter()
                progress.report(table.name)
                entry = publish_table(
                    ctx, conn, table, published.get(table.name), after_warehouse_commit=after_warehouse_commit
                )
                timing = {"publish_seconds": round(time.perf_counter() - began, 2)}
                if entry.status == "ok":
                    began = time.perf_counter()
                    problems = reconcile(ctx, conn, table)
                    timing["reconcile_seconds"] = round(time.perf_counter() - began, 2)
                    if problems:
                        entry.status, entry.error = "failed", "reconciliation failed: " + "; ".join(problems)
                entry.details = json.dumps({**json.loads(entry.details or "{}"), **timing})
            except Exception as exc:
                entry = LedgerEntry(source=table.name, run_date=run_date, status="failed", error=_safe(exc))
            entry.run_date = run_date
            entries.append(entry)
            if entry.status == "failed":
                break
    record(ctx, entries)
    return entries


def _safe(exc: Exception) -> str:
    """One line for the ledger: connector errors can be long, and are redacted like every error."""
    return error_text(exc, first_line=True)
