"""`_ops.publish_state`: the last gold version each table published, written only after Snowflake committed.

A crash between the two leaves the old version here, so the next run republishes the same slice; the MERGE
on keys makes that harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pyspark.sql import types as T

from coretelecoms.context import RunContext

TABLE = "_ops.publish_state"
SCHEMA = T.StructType(
    [
        T.StructField("table_name", T.StringType()),
        T.StructField("published_version", T.LongType()),
        T.StructField("rows_published", T.LongType()),
        T.StructField("method", T.StringType()),
        T.StructField("run_id", T.StringType()),
        T.StructField("published_at", T.TimestampNTZType()),
    ]
)


def published_versions(ctx: RunContext) -> dict[str, int]:
    if not ctx.lake.exists(TABLE):
        return {}
    return {r["table_name"]: r["published_version"] for r in ctx.lake.read(TABLE).collect()}


def mark_published(ctx: RunContext, table: str, version: int, rows: int, method: str) -> None:
    row = (table, version, rows, method, ctx.run_id, datetime.now(UTC).replace(tzinfo=None))
    ctx.lake.merge(TABLE, ctx.spark.createDataFrame([row], SCHEMA), keys=["table_name"])
