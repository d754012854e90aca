"""The run ledger `_ops.runs`: one row per layer, source and date of every run.

Backfills read it to skip work already done; `coretelecoms status` reads it to show what happened.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from coretelecoms.context import RunContext
from coretelecoms.secrets import redact

TABLE = "_ops.runs"

SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType()),
        T.StructField("layer", T.StringType()),
        T.StructField("source", T.StringType()),
        T.StructField("run_date", T.DateType()),
        T.StructField("files", T.LongType()),
        T.StructField("rows_in", T.LongType()),
        T.StructField("rows_out", T.LongType()),
        T.StructField("rejected", T.LongType()),
        T.StructField("started_at", T.TimestampNTZType()),
        T.StructField("ended_at", T.TimestampNTZType()),
        T.StructField("status", T.StringType()),
        T.StructField("error", T.StringType()),
        T.StructField("details", T.StringType()),
    ]
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class LedgerEntry:
    """One source's outcome in one run. `details` is free JSON text for layer-specific counts."""

    source: str
    run_date: date | None
    files: int = 0
    rows_in: int = 0
    rows_out: int = 0
    rejected: int = 0
    status: str = "ok"
    error: str | None = None
    details: str | None = None
    started_at: datetime = field(default_factory=_now)
    ended_at: datetime | None = None


def record(ctx: RunContext, entries: list[LedgerEntry]) -> None:
    """Append entries for this run (one commit). Error and details text is redacted here, the one way
    into the ledger, whoever wrote the entry, and in the entries themselves, which the console and the
    job log print next."""
    if not entries:
        return
    rows = []
    for e in entries:
        e.error, e.details = redact(e.error), redact(e.details)
        values = asdict(e)
        values["ended_at"] = values["ended_at"] or _now()
        rows.append({"run_id": ctx.run_id, "layer": ctx.layer, **values})
    ctx.lake.append(TABLE, ctx.spark.createDataFrame(rows, SCHEMA))


def read(ctx: RunContext) -> DataFrame:
    return ctx.lake.read(TABLE) if ctx.lake.exists(TABLE) else ctx.spark.createDataFrame([], SCHEMA)


def completed(ctx: RunContext, layer: str, run_date: date) -> bool:
    """True when every entry of the latest run of `layer` for `run_date` succeeded."""
    runs = read(ctx).filter((F.col("layer") == layer) & (F.col("run_date") == run_date))
    latest = runs.orderBy(F.col("started_at").desc()).select("run_id").first()
    if latest is None:
        return False
    statuses = {r["status"] for r in runs.filter(F.col("run_id") == latest["run_id"]).collect()}
    return statuses <= {"ok", "warn", "skipped"}
