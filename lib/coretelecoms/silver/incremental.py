"""Incremental upsert of one silver table from its bronze table: exactly-once, crash-safe, in two phases.

The watermark lives in the silver table itself: every write of `silver.<t>` carries the Delta application
transaction `silver.<t><-bronze.<b>` at the bronze version it consumed, so `txn_version` says what was
read, and the next run reads bronze's change feed from there (bronze is append-only: inserts only).
Quarantine and status-history writes carry their own transactions at the same bronze version. When a run
dies between those writes and the MERGE, the next run re-reads exactly the same bronze range (the side
tables say how far it went), its side writes are skipped as already committed, and the MERGE completes.

`plan_table` does everything that can fail on data (cleaning, rules, dedupe, comparison with silver)
without writing; `commit` writes. The layer plans every table, validates, and only then commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from coretelecoms.context import RunContext
from coretelecoms.lake import Txn
from coretelecoms.quality.quarantine import quarantine_rows, raw_json, with_raw
from coretelecoms.quality.row_rules import (
    BROKEN,
    FATE,
    KEEP,
    QUARANTINE,
    QualityFailure,
    RuleOutcome,
    apply_rules,
    count_if,
    fail_messages,
    outcome_columns,
    outcome_of,
)
from coretelecoms.quality.rules import Rule, RuleSet
from coretelecoms.silver.complaints import (
    HISTORY_FLAG,
    HISTORY_TABLE,
    flag_known,
    history_flags,
    status_history,
)
from coretelecoms.silver.conform import ntz
from coretelecoms.silver.latest import (
    ACTION,
    INSERT,
    RANK,
    UNCHANGED,
    UPDATE,
    current_state,
    distinct,
    newer,
    newest_first,
    with_action,
    with_current,
)
from coretelecoms.silver.refill import DELIVERED, missing_columns, refill, with_missing
from coretelecoms.silver.tables import LINEAGE, QUARANTINE_TABLE, SilverTable

CHUNK_ROWS = 500_000  # rows per MERGE slice (see `commit`)
MAX_BROADCAST_KEYS = 1_000_000  # up to this many batch rows, their keys are broadcast to find stored rows
ALREADY = "already committed by an earlier run"


class ReconciliationError(RuntimeError):
    """Rows in != rows upserted + unchanged + quarantined + dropped: a bug, never a data problem."""


def app_id(target: str, bronze: str) -> str:
    return f"{target}<-{bronze}"


@dataclass(frozen=True)
class Watermark:
    """Bronze versions: consumed by silver so far, and the last one this run reads (both inclusive)."""

    consumed: int | None
    end: int | None
    latest: int | None

    @property
    def bronze_missing(self) -> bool:
        return self.latest is None

    @property
    def has_news(self) -> bool:
        return self.end is not None and (self.consumed is None or self.end > self.consumed)

    def describe(self) -> dict:
        start = 0 if self.consumed is None else self.consumed + 1
        return {
            "consumed_before": self.consumed,
            "read_from": start,
            "read_to": self.end,
            "bronze_latest": self.latest,
        }


def watermark(lake, spec: SilverTable) -> Watermark:
    latest = lake.version(spec.bronze)
    if latest is None:
        return Watermark(None, None, None)
    consumed = (
        lake.txn_version(spec.table, app_id(spec.table, spec.bronze)) if lake.exists(spec.table) else None
    )
    # A side table ahead of the main table means a run stopped half-way: redo exactly that range.
    ahead = []
    for side in (QUARANTINE_TABLE, HISTORY_TABLE):
        if lake.exists(side):
            v = lake.txn_version(side, app_id(side, spec.bronze))
            if v is not None and (consumed is None or v > consumed):
                ahead.append(v)
    return Watermark(consumed, min(ahead) if ahead else latest, latest)


def read_new(lake, spec: SilverTable, wm: Watermark) -> DataFrame:
    """The bronze rows silver has not consumed: the snapshot on first load, else the change feed."""
    snapshot = lake.read(spec.bronze, version=wm.end)
    if wm.consumed is None:
        return snapshot
    feed = lake.changes(spec.bronze, wm.consumed + 1, wm.end)
    feed = feed.filter(F.col("_change_type") == "insert")
    # Back to the table's own types: a change feed can come back with TIMESTAMP where the table has
    # TIMESTAMP_NTZ (delta-rs via Arrow); the cast in the session time zone restores the wall-clock time.
    return feed.select(
        *[
            (F.col(f"`{f.name}`") if f.name in feed.columns else F.lit(None)).cast(f.dataType).alias(f.name)
            for f in snapshot.schema.fields
        ]
    )


def orphan_rules(on_orphan: str) -> list[Rule]:
    """Unknown customer / agent: counted (warn) by default, quarantined with `on_orphan: quarantine`."""
    action = "quarantine" if on_orphan == "quarantine" else "warn"
    return [
        Rule(
            name="customer_known",
            column="customer_known",
            in_=[True],
            action=action,
            description="the customer exists in silver.customers",
        ),
        Rule(
            name="agent_known",
            column="agent_known",
            in_=[True],
            action=action,
            description="the agent exists in silver.agents",
        ),
    ]


def table_rules(spec: SilverTable, rules: RuleSet) -> RuleSet:
    """The table's rule file plus, for complaint tables, the orphan rules."""
    return rules.with_rules(orphan_rules(rules.on_orphan)) if spec.is_complaint else rules


@dataclass
class Plan:
    """Everything one table's commit needs, computed and counted before anything is written."""

    spec: SilverTable
    rules: RuleSet
    wm: Watermark
    outcome: RuleOutcome
    quarantine: DataFrame | None
    ranked: DataFrame
    history: DataFrame | None
    files: int
    inserted: int
    updated: int
    unchanged: int
    superseded: int
    history_rows: int
    table_existed: bool
    orphans: dict[str, int]
    cached: list[DataFrame] = field(default_factory=list)

    @property
    def batch(self) -> DataFrame:
        """The latest row of each key: what the MERGE compares (insert, update or leave unchanged)."""
        return self.ranked.filter(F.col(RANK) == 1).select(*self.spec.columns, *LINEAGE, ACTION)

    @property
    def batch_rows(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def check_counts(self) -> None:
        o = self.outcome
        accounted = self.batch_rows + self.superseded + o.dropped + o.quarantined
        if not o.holds() or o.rows_in != accounted:
            raise ReconciliationError(
                f"{self.spec.table}: rows in {o.rows_in} != kept {self.batch_rows} + superseded {self.superseded}"
                f" + dropped {o.dropped} + quarantined {o.quarantined} (rules kept {o.kept})"
            )

    def release(self) -> None:
        for df in self.cached:
            df.unpersist()
        self.cached.clear()


def _known_keys(
    ctx: RunContext, table: str, key: str, dtype: T.DataType, plan: Plan | None
) -> tuple[DataFrame, bool]:
    """Dimension keys as they will be after this run (silver's plus the incoming batch's), and whether a
    key may appear twice (both are there: each is unique on its own)."""
    parts = []
    if ctx.lake.exists(table):
        parts.append(ctx.lake.read(table).select(key))
    if plan is not None:
        parts.append(plan.batch.select(key))
    if not parts:
        return ctx.spark.createDataFrame([], T.StructType([T.StructField(key, dtype)])), False
    out = parts[0]
    for p in parts[1:]:
        out = out.unionByName(p)
    return out, len(parts) > 1


def known_dimensions(ctx: RunContext, plans: dict[str, Plan | None]) -> tuple[DataFrame, DataFrame, bool]:
    """Customer and agent keys after this run (silver's plus this run's batch), and whether a key may
    repeat: the arguments of `flag_known`.

    Not cached: each complaint table reads only the keys it references (see `flag_known`)."""
    from coretelecoms.silver.tables import AGENTS, CUSTOMERS

    customers, c_repeats = _known_keys(
        ctx, CUSTOMERS.table, CUSTOMERS.key, T.StringType(), plans.get(CUSTOMERS.table)
    )
    agents, a_repeats = _known_keys(ctx, AGENTS.table, AGENTS.key, T.IntegerType(), plans.get(AGENTS.table))
    return customers, agents, c_repeats or a_repeats


def plan_table(
    ctx: RunContext, spec: SilverTable, rules: RuleSet, known: tuple[DataFrame, DataFrame, bool] | None = None
) -> Plan | None:
    """Read what is new in bronze, clean it, apply the rules, deduplicate, compare with silver. No writes.

    The batch is evaluated once: every row with its verdict, its key's stored state beside it, its rank
    among the accepted versions of its key and (for complaints) its status-history flags, cached as
    `ranked`; one aggregation then counts everything the commit and the reconciliation need.

    Returns None when bronze has nothing silver has not consumed. Raises QualityFailure when a `fail`
    rule is broken."""
    lake = ctx.lake
    wm = watermark(lake, spec)
    if not wm.has_news:
        return None
    rules = table_rules(spec, rules)
    new_rows = read_new(lake, spec, wm)
    raw = with_missing(new_rows.transform(with_raw))  # `_raw`: the rows as delivered, for quarantine
    lacking = missing_columns(raw)
    if lacking:  # a delivery without some column: it keeps what earlier drops said (`refill`)
        stored = lake.read(spec.table) if lake.exists(spec.table) else None
        raw = refill(raw, stored, spec.raw_key(), spec.key, lacking)
        rules = rules.with_rules([DELIVERED])
    cleaned = raw.transform(spec.clean)
    flagged = cleaned.transform(flag_known(*known)) if spec.is_complaint else cleaned
    # Only what the rest needs: typed columns, lineage, verdicts, and the raw JSON of rejected rows.
    evaluated = flagged.transform(apply_rules(rules)).select(
        *spec.columns,
        *LINEAGE,
        BROKEN,
        FATE,
        F.when(F.col(FATE) == QUARANTINE, raw_json()).alias("raw_record"),
    )
    existed = lake.exists(spec.table)
    carry = {"resolution_status": T.StringType()} if spec.is_complaint else {}
    state = None
    if existed:
        stored = lake.read(spec.table)
        if new_rows.count() <= MAX_BROADCAST_KEYS:
            # A day's keys are few next to the table: find the stored rows they match with a broadcast
            # semi-join (a scan, no shuffle of the table) and fingerprint only those.
            stored = stored.join(F.broadcast(cleaned.select(spec.key)), spec.key, "left_semi")
        state = current_state(stored, spec.key, spec.content, carry)
    # Accepted rows are ranked among the accepted versions of their key; other rows get no rank.
    accepted = F.col(FATE) == KEEP
    window = newest_first(spec.key, accepted)
    ranked = with_current(evaluated, state, spec.key, spec.content, carry).withColumn(
        RANK, F.when(accepted, F.row_number().over(window))
    )
    ranked = with_action(ranked)
    if spec.is_complaint:
        ranked = ranked.withColumns(
            {k: F.when(accepted, v) for k, v in history_flags(spec.key, window).items()}
        )
    ranked = ranked.persist()
    try:
        latest = F.col(RANK) == 1
        aggs = [
            count_if(F.col(RANK) > 1).alias("superseded"),
            count_if(latest & (F.col(ACTION) == INSERT)).alias("inserted"),
            count_if(latest & (F.col(ACTION) == UPDATE)).alias("updated"),
            count_if(latest & (F.col(ACTION) == UNCHANGED)).alias("unchanged"),
        ]
        if spec.is_complaint:
            aggs += [
                count_if(latest & ~F.col("customer_known")).alias("unknown_customer"),
                count_if(latest & ~F.col("agent_known")).alias("unknown_agent"),
                count_if(F.col(HISTORY_FLAG)).alias("history_rows"),
            ]
        row = ranked.agg(*outcome_columns(ranked, rules), *aggs).first()
        outcome = outcome_of(row, rules)
        if outcome.failed:
            raise QualityFailure(spec.table, "row rules", fail_messages(outcome, rules))
        counts = {k: row[k] or 0 for k in ("superseded", "inserted", "updated", "unchanged")}
        history_rows = (row["history_rows"] or 0) if spec.is_complaint else 0
        quarantine = None
        if outcome.quarantined:
            quarantined = ranked.filter(F.col(FATE) == QUARANTINE)
            quarantine = quarantine_rows(quarantined, spec.table, ctx.run_id, ctx.started_at)
        history = None
        if spec.is_complaint:
            history = status_history(ranked, spec.key, spec.channel, ctx.run_id, ctx.started_at)
        plan = Plan(
            spec=spec,
            rules=rules,
            wm=wm,
            outcome=outcome,
            quarantine=quarantine,
            ranked=ranked,
            history=history,
            files=outcome.files,
            inserted=counts["inserted"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            superseded=counts["superseded"],
            history_rows=history_rows,
            table_existed=existed,
            orphans={k: row[k] or 0 for k in ("unknown_customer", "unknown_agent") if spec.is_complaint},
            cached=[ranked],
        )
    except BaseException:
        ranked.unpersist()
        raise
    plan.check_counts()
    return plan


@dataclass
class Committed:
    inserted: int
    updated: int
    version: int | None
    note: str | None = None


def _metric(metrics: dict, *names: str) -> int | None:
    for name in names:
        if metrics.get(name) is not None:
            return int(metrics[name])
    return None


def commit(ctx: RunContext, plan: Plan) -> Committed:
    """Write quarantine and status history, then the table; each write carries the bronze version consumed.

    Keys that changed are MERGEd (in slices of about CHUNK_ROWS keys, which bounds what one delta-rs
    MERGE holds in memory); keys silver does not have are appended, with no MERGE scanning the table
    for them. Only the last write carries the application transaction: a run that dies half-way is
    redone from the same bronze range, and the rows already written compare as unchanged."""
    lake, spec, wm = ctx.lake, plan.spec, plan.wm
    at = ctx.started_at
    if plan.outcome.quarantined:
        lake.append(QUARANTINE_TABLE, plan.quarantine, txn=Txn(app_id(QUARANTINE_TABLE, spec.bronze), wm.end))
    if plan.history is not None and plan.history_rows:
        lake.append(HISTORY_TABLE, plan.history, txn=Txn(app_id(HISTORY_TABLE, spec.bronze), wm.end))

    def rows(action: str) -> DataFrame:
        return plan.batch.filter(F.col(ACTION) == action).select(
            *spec.columns, *LINEAGE, ntz(at).alias("_updated_at"), F.lit(ctx.run_id).alias("_run_id")
        )

    writes: list[tuple[str, DataFrame]] = []
    slices = -(-plan.updated // CHUNK_ROWS)
    for i in range(slices):
        part = rows(UPDATE)
        writes.append(
            ("merge", part if slices == 1 else part.filter(F.pmod(F.xxhash64(spec.key), F.lit(slices)) == i))
        )
    # Last, the new keys, with the watermark: an append always commits, even an empty one (a MERGE whose
    # source is empty may not), so the bronze version consumed is always recorded.
    writes.append(("append", rows(INSERT)))
    txn = Txn(app_id(spec.table, spec.bronze), wm.end)
    inserted = updated = 0
    for i, (kind, part) in enumerate(writes):
        last = txn if i == len(writes) - 1 else None
        if kind == "append":
            result = lake.append(spec.table, part, txn=last)
            inserted += _metric(result.metrics, "num_added_rows", "numOutputRows") or 0
        else:
            result = lake.merge(
                spec.table,
                part,
                keys=[spec.key],
                update_condition=f"{newer('s.', 't.')} AND {distinct(spec.content)}",
                insert=False,
                txn=last,
            )
            updated += _metric(result.metrics, "num_target_rows_updated", "numTargetRowsUpdated") or 0
        if not result.committed:
            return Committed(plan.inserted, plan.updated, result.version, ALREADY)
    return Committed(inserted, updated, result.version)


def reconcile(plan: Plan, done: Committed) -> dict:
    """rows in = upserted + unchanged + quarantined + dropped, with upserted as the engine reports it."""
    o = plan.outcome
    dropped = o.dropped + plan.superseded
    upserted = done.inserted + done.updated
    counts = {
        "rows_in": o.rows_in,
        "upserted": upserted,
        "inserted": done.inserted,
        "updated": done.updated,
        "unchanged": plan.unchanged,
        "quarantined": o.quarantined,
        "dropped": dropped,
        "dropped_by_rule": o.dropped,
        "superseded_in_batch": plan.superseded,
    }
    if (done.inserted, done.updated) != (
        plan.inserted,
        plan.updated,
    ) or o.rows_in != upserted + plan.unchanged + o.quarantined + dropped:
        raise ReconciliationError(
            f"{plan.spec.table}: rows in {o.rows_in} != upserted {upserted} (planned {plan.inserted} inserts + "
            f"{plan.updated} updates, engine {done.inserted} + {done.updated}) + unchanged {plan.unchanged} + "
            f"quarantined {o.quarantined} + dropped {dropped}: {json.dumps(counts)}"
        )
    return counts
