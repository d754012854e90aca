"""The gate journal `_ops.unchecked`: what a run has committed, or is about to, but not yet checked.

A layer appends one row per table, before the quality checks that follow its commits: the ledger entry it
will record and the metrics it has already computed (silver's row rules and batch expectations), plus the
application transaction whose presence proves the commit landed. The run's own `_ops.runs` entries close
those rows. A run killed between a commit and its checks leaves rows no ledger entry closes; the layer's
next run finishes that run's gate (`pending`): it validates the tables now, and records the entries and
metrics under the killed run's id, as the killed run would have, noting who finished them.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from pyspark.sql import functions as F
from pyspark.sql import types as T

from coretelecoms.context import RunContext
from coretelecoms.ops import ledger
from coretelecoms.ops.ledger import LedgerEntry
from coretelecoms.quality.metrics import Metric, append_metrics
from coretelecoms.secrets import redact

TABLE = "_ops.unchecked"

SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType()),
        T.StructField("layer", T.StringType()),
        T.StructField("table_name", T.StringType()),
        T.StructField("entry", T.StringType()),
        T.StructField("metrics", T.StringType()),
        T.StructField("txn_app", T.StringType()),
        T.StructField("txn_version", T.LongType()),
        T.StructField("written_at", T.TimestampNTZType()),
    ]
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Unchecked:
    """One table a run committed (or is committing) and has not checked yet."""

    table: str
    entry: LedgerEntry
    metrics: list[Metric] = field(default_factory=list)
    txn_app: str | None = None  # the commit landed when the table holds this transaction at txn_version
    txn_version: int | None = None
    run_id: str = ""

    def landed(self, lake) -> bool:
        if self.txn_app is None:
            return lake.exists(self.table)
        done = lake.txn_version(self.table, self.txn_app) if lake.exists(self.table) else None
        return done is not None and done >= (self.txn_version or 0)

    @property
    def run_date(self) -> date | None:
        return self.entry.run_date


def _entry_json(e: LedgerEntry) -> str:
    values = dataclasses.asdict(e)
    values["error"], values["details"] = redact(values["error"]), redact(values["details"])
    return json.dumps(values, default=str)


def _entry(text: str) -> LedgerEntry:
    v = json.loads(text)
    v["run_date"] = date.fromisoformat(v["run_date"]) if v["run_date"] else None
    for k in ("started_at", "ended_at"):
        v[k] = datetime.fromisoformat(v[k]) if v[k] else None
    return LedgerEntry(**v)


def _metric(v: dict) -> Metric:
    return Metric(**(v | {"recorded_at": datetime.fromisoformat(v["recorded_at"])}))


def write(ctx: RunContext, rows: list[Unchecked]) -> None:
    """Append this run's unchecked tables in one commit."""
    if not rows:
        return
    now = _now()
    data = [
        {
            "run_id": ctx.run_id,
            "layer": ctx.layer,
            "table_name": u.table,
            "entry": _entry_json(u.entry),
            "metrics": json.dumps([dataclasses.asdict(m) for m in u.metrics], default=str),
            "txn_app": u.txn_app,
            "txn_version": u.txn_version,
            "written_at": now,
        }
        for u in rows
    ]
    ctx.lake.append(TABLE, ctx.spark.createDataFrame(data, SCHEMA))


def pending(ctx: RunContext) -> list[Unchecked]:
    """This layer's journal rows that no ledger entry of their run closes: runs killed before their gate."""
    if not ctx.lake.exists(TABLE):
        return []
    rows = ctx.lake.read(TABLE).filter(F.col("layer") == ctx.layer)
    closed = ledger.read(ctx).filter(F.col("layer") == ctx.layer).select("run_id", "source").distinct()
    rows = rows.withColumn("source", F.get_json_object("entry", "$.source"))
    out = []
    for r in rows.join(closed, ["run_id", "source"], "left_anti").orderBy("written_at").collect():
        out.append(
            Unchecked(
                table=r["table_name"],
                entry=_entry(r["entry"]),
                metrics=[_metric(m) for m in json.loads(r["metrics"])],
                txn_app=r["txn_app"],
                txn_version=r["txn_version"],
                run_id=r["run_id"],
            )
        )
    return out


def finish(ctx: RunContext, run_id: str, rows: list[Unchecked]) -> None:
    """Record a killed run's metrics and ledger entries under its own id, noting which run finished them."""
    if not rows:
        return
    killed = dataclasses.replace(ctx, run_id=run_id)
    run_date = rows[0].run_date
    append_metrics(ctx.lake, ctx.spark, run_id, run_date, [m for u in rows for m in u.metrics])
    entries = []
    for u in rows:
        details = json.loads(u.entry.details or "{}")
        details["gate_finished_by"] = ctx.run_id
        u.entry.details = json.dumps(details, default=str)
        u.entry.ended_at = _now()
        entries.append(u.entry)
    ledger.record(killed, entries)


def by_run(rows: list[Unchecked]) -> dict[str, list[Unchecked]]:
    out: dict[str, list[Unchecked]] = {}
    for u in rows:
        out.setdefault(u.run_id, []).append(u)
    return out
