"""GDPR erasure: remove one customer and their complaints from every lake table and from Snowflake.

A customer appears by id (`customer_id`), inside complaint ids (every channel's id embeds the customer
uuid without hyphens), inside raw text kept for audit (`raw_record`, `_corrupt_record`, `_rescued_data`)
and, in gold, through surrogate keys. Deletes create new Delta versions; the old files stay until VACUUM
passes the retention, which `coretelecoms run maintenance` does. Snowflake follows through the normal
publish: the deletes travel in gold's change feed. The audit entry records counts, never the id.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

from pyspark.sql import functions as F
from pyspark.sql import types as T

from coretelecoms.context import RunContext
from coretelecoms.ops.ledger import LedgerEntry

AUDIT_TABLE = "_ops.erasure_audit"
COMPLAINT_ID_COLUMNS = ("call_id", "complaint_id", "request_id", "source_complaint_id")
RAW_TEXT_COLUMNS = ("raw_record", "_corrupt_record", "_rescued_data")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

AUDIT_SCHEMA = T.StructType(
    [
        T.StructField("request_id", T.StringType()),
        T.StructField("erased_at", T.TimestampNTZType()),
        T.StructField("rows_deleted", T.LongType()),
        T.StructField("tables", T.StringType()),
        T.StructField("warehouse", T.StringType()),
        T.StructField("run_id", T.StringType()),
    ]
)


class ErasureError(ValueError):
    pass


def _in_list(column: str, values: list) -> str:
    return f"{column} IN ({', '.join(str(int(v)) for v in values)})"


def predicate_for(
    schema: T.StructType, customer_id: str, customer_sks: list[int], complaint_sks: list[int]
) -> str | None:
    """SQL matching every row of a table that carries the customer, or None when the table cannot."""
    hexid = customer_id.replace("-", "")
    names = set(schema.names)
    parts = []
    if "customer_id" in names:
        parts.append(f"customer_id = '{customer_id}'")
    parts += [f"{c} LIKE '%{hexid}%'" for c in COMPLAINT_ID_COLUMNS if c in names]
    parts += [f"({c} LIKE '%{customer_id}%' OR {c} LIKE '%{hexid}%')" for c in RAW_TEXT_COLUMNS if c in names]
    if "customer_sk" in names and customer_sks:
        parts.append(_in_list("customer_sk", customer_sks))
    if "complaint_sk" in names and complaint_sks:
        parts.append(_in_list("complaint_sk", complaint_sks))
    return " OR ".join(parts) or None


def _keys(ctx: RunContext, table: str, key: str, predicate: str | None) -> list[int]:
    if not predicate or not ctx.lake.exists(table):
        return []
    df = ctx.lake.read(table)
    if key not in df.columns:
        return []
    return [
        r[0] for r in df.filter(predicate).select(key).distinct().collect() if r[0] is not None and r[0] >= 0
    ]


def erase_customer(
    ctx: RunContext, customer_id: str, *, request_id: str | None = None, publish: bool = True
) -> dict:
    """Delete the customer everywhere; returns {table: rows deleted} and writes the audit entry."""
    customer_id = customer_id.strip().lower()
    if not UUID.match(customer_id):
        raise ErasureError("customer id must be a lower-case UUID")
    tables = [t for t in ctx.lake.list_tables() if not t.startswith("_")]
    if not tables:
        raise ErasureError(f"no Delta tables under {ctx.lake.root}: nothing erased (check lake.root)")
    # Surrogate keys first: once dim_customer rows are gone, nothing else would say which facts were theirs.
    hexid = customer_id.replace("-", "")
    customer_sks = _keys(ctx, "gold.dim_customer", "customer_sk", f"customer_id = '{customer_id}'")
    fact_pred = " OR ".join(
        [f"source_complaint_id LIKE '%{hexid}%'"]
        + ([_in_list("customer_sk", customer_sks)] if customer_sks else [])
    )
    complaint_sks = _keys(ctx, "gold.fct_complaint", "complaint_sk", fact_pred)
    deleted: dict[str, int] = {}
    for table in tables:
        df = ctx.lake.read(table)
        predicate = predicate_for(df.schema, customer_id, customer_sks, complaint_sks)
        if predicate is None:
            continue
        count = df.filter(predicate).count()
        if count:
            ctx.lake.delete(table, predicate)
            deleted[table] = count
    warehouse = "not published"
    if publish and deleted and any(t.startswith("gold.") for t in deleted):
        from coretelecoms.publish import run_publish, state
        from coretelecoms.secrets import error_text

        if state.published_versions(ctx):
            try:
                entries = run_publish(ctx)
            except Exception as exc:  # cannot connect: the lake is erased, the audit must still say so
                entries = [
                    LedgerEntry(
                        source="*", run_date=None, status="failed", error=error_text(exc, first_line=True)
                    )
                ]
            failed = [e for e in entries if e.status == "failed"]
            warehouse = "failed: " + failed[0].error if failed else "deletes published"
    audit = (
        request_id or f"erasure-{uuid.uuid4().hex[:12]}",
        datetime.now(UTC).replace(tzinfo=None),
        sum(deleted.values()),
        json.dumps(deleted, sort_keys=True),
        warehouse,
        ctx.run_id,
    )
    ctx.lake.append(AUDIT_TABLE, ctx.spark.createDataFrame([audit], AUDIT_SCHEMA))
    return {"request_id": audit[0], "deleted": deleted, "warehouse": warehouse}


def traces(ctx: RunContext, customer_id: str) -> dict[str, int]:
    """Rows in the current version of every table whose text mentions the customer (should be none)."""
    hexid = customer_id.replace("-", "")
    found = {}
    for table in ctx.lake.list_tables():
        df = ctx.lake.read(table)
        text = [F.col(f"`{f.name}`").cast("string") for f in df.schema.fields]
        if not text:
            continue
        blob = F.concat_ws("\u0001", *text)
        n = df.filter(blob.contains(customer_id) | blob.contains(hexid)).count()
        if n:
            found[table] = n
    return found
