"""One refresh step per gold table: read what changed upstream, rewrite only what it affects.

Every step decides between three modes:
- "up to date": no input has a version the table has not absorbed (and the as-of date did not move);
  nothing is read or written;
- "full": the table has no watermark for an input yet, or the run is a rebuild; the table is recomputed
  from the input's snapshot (an SCD2 dimension from the input's whole change feed, its history);
- "incremental": the input's change feed since the watermark says which keys, dates or months to redo.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from coretelecoms.context import RunContext
from coretelecoms.gold import aggregates, dim_agent, dim_customer, dim_date, marts
from coretelecoms.gold.complaints import SOURCES, conform_complaints
from coretelecoms.gold.dim_channel import build_dim_channel
from coretelecoms.gold.dim_complaint_category import build_dim_complaint_category
from coretelecoms.gold.fct_complaint import build_facts, point_in_time
from coretelecoms.gold.fct_complaint_lifecycle import build_lifecycle
from coretelecoms.gold.incremental import (
    MAX_IN_LIST,
    Written,
    app_id,
    ensure_watermark,
    in_list,
    replace_members,
    small_distinct,
    txn_for,
    upsert,
    watermark,
    with_hash,
    written_rows,
)
from coretelecoms.gold.keys import UNKNOWN_KEY, surrogate_key
from coretelecoms.gold.scd2 import changed_states, latest_change, version_points
from coretelecoms.gold.schema import FCT_COMPLAINT, conform, with_audit
from coretelecoms.lake import Txn

DIM_CUSTOMER = "gold.dim_customer"
DIM_AGENT = "gold.dim_agent"
DIM_DATE = "gold.dim_date"
DIM_CHANNEL = "gold.dim_channel"
DIM_COMPLAINT_CATEGORY = "gold.dim_complaint_category"
FCT_COMPLAINT_TABLE = "gold.fct_complaint"
LIFECYCLE = "gold.fct_complaint_lifecycle"
AGG_DAILY = "gold.agg_daily_complaints"
AGG_AGENT = "gold.agg_agent_performance"
MART_RISK = "gold.mart_customer_risk"
TABLES = (
    DIM_CHANNEL,
    DIM_COMPLAINT_CATEGORY,
    DIM_CUSTOMER,
    DIM_AGENT,
    FCT_COMPLAINT_TABLE,
    DIM_DATE,
    LIFECYCLE,
    AGG_DAILY,
    AGG_AGENT,
    MART_RISK,
)
SILVER_CUSTOMERS = "silver.customers"
SILVER_AGENTS = "silver.agents"
STATUS_HISTORY = "silver.complaint_status_history"
# Bump when the static members of dim_channel / dim_complaint_category change in code.
STATIC_MEMBERS_VERSION = 1
# Up to this many rows a side of a join is broadcast rather than shuffled.
MAX_BROADCAST_ROWS = 2_000_000
# The fact's change feed as its readers use it: the aggregates' keys, the lifecycle's fact columns, the
# mart's customers.
FEED_COLUMNS = [
    "complaint_sk",
    "customer_id",
    "channel",
    "request_date_key",
    "resolution_status",
    "resolved_at",
    "drop_date",
    "_change_type",
    "_commit_version",
]


@dataclass
class Step:
    """The outcome of one table's refresh, turned into its ledger entry."""

    table: str
    mode: str = "up to date"
    written: Written = field(default_factory=Written)
    rows_in: int = 0
    inputs: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    skipped_reason: str | None = None

    def describe(self) -> dict:
        out = {"mode": self.mode, "inputs": self.inputs, "commits": self.written.commits}
        if self.written.deleted:
            out["deleted"] = self.written.deleted
        return out | self.written.details | self.details


class GoldRun:
    """The state one `run_gold` call shares between steps: context, dates, pinned versions, the fact feed."""

    def __init__(self, ctx: RunContext, run_date: date, rebuild: bool) -> None:
        self.ctx = ctx
        self.lake = ctx.lake
        self.spark = ctx.spark
        self.run_date = run_date
        self.rebuild = rebuild
        self.now = datetime.now(UTC).replace(tzinfo=None)
        self.fact_feed: DataFrame | None = None
        self.fact_feed_from: int | None = None
        self.fact_feed_lock = threading.Lock()  # the fact's readers run side by side

    def audit(self, df: DataFrame) -> DataFrame:
        return with_audit(df, self.ctx.run_id, self.now)

    def stamped(self, df: DataFrame) -> DataFrame:
        return self.audit(with_hash(df))

    def wm(self, target: str, source: str, current: int | None = None) -> int | None:
        """The watermark to work from: none at all in a rebuild."""
        if self.rebuild:
            return None
        done = watermark(self.lake, target, source)
        if done is not None and current is not None and done > current:
            raise RuntimeError(
                f"{target} has absorbed {source} up to version {done} but {source} is at version {current}: "
                f"{source} was recreated. Delete the gold tables that read it and run gold again."
            )
        return done

    def as_of(self, table: str) -> tuple[date, date | None]:
        """(as-of date for this run, as-of date stored in the table). The as-of date never moves back."""
        stored = None
        if not self.rebuild and self.lake.exists(table):
            # Every row that carries an as-of date carries the same one (the last refresh's).
            row = (
                self.lake.read(table)
                .filter(F.col("as_of_date").isNotNull())
                .select("as_of_date")
                .limit(1)
                .first()
            )
            stored = row[0] if row else None
        return (max(self.run_date, stored) if stored else self.run_date), stored


def change_feed(lake, table: str, since: int, until: int) -> DataFrame:
    """The change feed between two versions (inclusive); empty, with the feed's columns, when since > until."""
    if since <= until:
        return lake.changes(table, since, until)
    schema = lake.read(table, until).schema
    cdf = [("_change_type", "string"), ("_commit_version", "long"), ("_commit_timestamp", "timestamp")]
    empty = lake.spark.createDataFrame([], schema)
    return empty.select("*", *[F.lit(None).cast(t).alias(n) for n, t in cdf])


# ------------------------------------------------------------------ static dimensions


def refresh_static(run: GoldRun, table: str, build: Callable) -> Step:
    step = Step(table, inputs={"members": STATIC_MEMBERS_VERSION})
    source = "members"
    done = run.wm(table, source)
    if done is not None and done >= STATIC_MEMBERS_VERSION:
        return step
    step.mode = "full"
    result = run.lake.overwrite(
        table, run.stamped(build(run.spark)), txn=txn_for(run.lake, table, source, STATIC_MEMBERS_VERSION)
    )
    step.written.add(result, inserted=written_rows(result))
    step.written.commits += ensure_watermark(run.lake, table, source, STATIC_MEMBERS_VERSION)
    return step


# ------------------------------------------------------------------ SCD2 dimensions


@dataclass(frozen=True)
class Scd2Dimension:
    table: str
    source: str
    key: str
    sk: str
    carried: list[str]
    points: Callable[[DataFrame], DataFrame]
    build: Callable[[DataFrame], DataFrame]
    unknown: Callable


CUSTOMERS = Scd2Dimension(
    DIM_CUSTOMER,
    SILVER_CUSTOMERS,
    dim_customer.KEY,
    dim_customer.SK,
    dim_customer.CARRIED,
    dim_customer.customer_points,
    dim_customer.build_dim_customer,
    dim_customer.unknown_customer,
)
AGENTS = Scd2Dimension(
    DIM_AGENT,
    SILVER_AGENTS,
    dim_agent.KEY,
    dim_agent.SK,
    dim_agent.CARRIED,
    dim_agent.agent_points,
    dim_agent.build_dim_agent,
    dim_agent.unknown_agent,
)


def refresh_scd2(run: GoldRun, dim: Scd2Dimension) -> Step:
    lake = run.lake
    step = Step(dim.table)
    current = lake.version(dim.source)
    if current is None:
        step.skipped_reason = f"{dim.source} does not exist yet"
        return step
    done = run.wm(dim.table, dim.source, current)
    step.inputs = {dim.source: [None if done is None else done + 1, current]}
    if done is not None and done >= current:
        return step
    full = done is None
    step.mode = "full" if full else "incremental"
    # A full build needs every state each member took (its history), which is the change feed from the
    # first version. The first version of a table holds inserts only, so it is read as a snapshot (a plain
    # Parquet scan) and only the later versions through the change feed, which is the same rows, cheaper.
    since = 1 if full else done + 1
    feed = change_feed(lake, dim.source, since, current).persist()
    try:
        step.rows_in = feed.filter(F.col("_change_type") != "update_preimage").count()
        gone = latest_change(feed, [dim.key]).filter(F.col("_change_type") == "delete").select(dim.key)
        states = changed_states(feed)
        if full:
            # Members the later versions never touched have one point: a projection, no window.
            first = lake.read(dim.source, 0).withColumn("_order", F.lit(0).cast("long"))
            touched = feed.select(dim.key).distinct()
            if step.rows_in <= MAX_BROADCAST_ROWS:
                touched = F.broadcast(touched)
            once = dim.build(dim.points(first.join(touched, dim.key, "left_anti")), single=True)
            again = dim.points(first.join(touched, dim.key, "left_semi")).unionByName(dim.points(states))
            members = once.unionByName(dim.build(again.join(gone, dim.key, "left_anti"))).unionByName(
                dim.unknown(run.spark)
            )
            txn = txn_for(lake, dim.table, dim.source, current)
            result = lake.overwrite(dim.table, run.stamped(members), txn=txn)
            step.written.add(result, inserted=written_rows(result))
        else:
            keys = small_distinct(feed, dim.key)
            if keys != []:
                affected = feed.select(dim.key).distinct()
                existing = lake.read(dim.table).join(affected, dim.key, "left_semi")
                points = version_points(existing, dim.key, dim.carried).unionByName(dim.points(states))
                points = points.join(gone, dim.key, "left_anti")
                versions = dim.build(points)
                step.written = replace_members(
                    lake,
                    dim.table,
                    run.stamped(versions),
                    affected,
                    keys,
                    key=dim.key,
                    txn=Txn(app_id(dim.table, dim.source), current),
                )
        step.written.commits += ensure_watermark(lake, dim.table, dim.source, current)
    finally:
        feed.unpersist()
    return step


# ------------------------------------------------------------------ the complaint fact


def refresh_fact(run: GoldRun) -> Step:
    lake, table = run.lake, FCT_COMPLAINT_TABLE
    step = Step(table)
    versions = {name: lake.version(name) for name in (DIM_CUSTOMER, DIM_AGENT)}
    if None in versions.values():
        step.skipped_reason = "the customer and agent dimensions are not built yet"
        return step
    customers = lake.read(DIM_CUSTOMER, versions[DIM_CUSTOMER])
    agents = lake.read(DIM_AGENT, versions[DIM_AGENT])
    references = (
        (DIM_CUSTOMER, customers, "customer_id", "customer_sk", False),
        (DIM_AGENT, agents, "agent_id", "agent_sk", True),
    )
    # Repoint first, so a fact that moves off the unknown member is counted even when its complaint
    # also changed today (the upsert below would otherwise fix it silently).
    late = {}
    if lake.exists(table) and not run.rebuild:
        for name, dim_df, natural, sk, small in references:
            late[natural] = repoint_members(run, step, name, versions[name], dim_df, natural, sk, small)
    missing, pending, full = [], [], []
    for source in SOURCES:
        current = lake.version(source.table)
        if current is None:
            missing.append(source.table)
            continue
        done = run.wm(table, source.table, current)
        step.inputs[source.table] = [None if done is None else done + 1, current]
        if done is not None and done >= current:
            continue
        if done is None:
            full.append((source, current))
        else:
            pending.append((source, done, current))
    if full:
        # One pass over every channel rebuilt from its snapshot: one point-in-time join, one write.
        step.mode = "full"
        snapshots = [conform_complaints(lake.read(s.table, v), s.channel) for s, v in full]
        union = snapshots[0]
        for more in snapshots[1:]:
            union = union.unionByName(more)
        channels = [s.channel for s, _ in full]
        result = lake.overwrite(
            table,
            run.stamped(build_facts(union, customers, agents)),
            predicate=in_list("channel", channels),
            partition_by=["channel"],
        )
        step.written.add(result, inserted=written_rows(result))
        for source, current in full:
            step.written.commits += ensure_watermark(lake, table, source.table, current)
    if pending:
        step.mode = "incremental" if step.mode != "full" else step.mode
        upsert_channels(run, step, pending, customers, agents)
    if missing:
        step.details["missing_inputs"] = missing
    if not lake.exists(table):
        step.skipped_reason = "no silver complaint table exists yet"
        return step
    # Facts written above were built against these very dimension versions.
    for name, _, natural, _, _ in references:
        step.inputs.setdefault(name, [None, versions[name]])
        step.written.commits += ensure_watermark(lake, table, name, versions[name])
        late.setdefault(natural, 0)
    step.details["late_arriving_repointed"] = late
    if step.written.commits:
        unknown = lake.read(table).agg(
            *[
                F.sum(F.when(F.col(sk) == UNKNOWN_KEY, 1).otherwise(0)).alias(sk)
                for sk in ("customer_sk", "agent_sk")
            ]
        )
        step.details["facts_on_unknown_member"] = {
            k: int(v or 0) for k, v in unknown.first().asDict().items()
        }
    return step


def upsert_channels(run: GoldRun, step: Step, pending: list, customers: DataFrame, agents: DataFrame) -> None:
    """The changed complaints of every channel are built into facts in one pass (the three feeds in the
    unified shape, their last change per complaint, one point-in-time join against the customer
    dimension), then upserted channel by channel, each with its own watermark."""
    lake, table = run.lake, FCT_COMPLAINT_TABLE
    is_delete = F.col("_change_type") == "delete"
    change = ("_change_type", "_commit_version")
    feeds = [
        conform_complaints(lake.changes(s.table, done + 1, current), s.channel, keep=change)
        for s, done, current in pending
    ]
    union = feeds[0]
    for more in feeds[1:]:
        union = union.unionByName(more)
    one_commit = all(current == done + 1 for _, done, current in pending)
    latest, counts = latest_complaints(union, one_commit)
    facts = None
    try:
        step.rows_in += sum(rows for rows, _ in counts.values())
        gone = {s.channel: [] for s, _, _ in pending}
        if any(deletes for _, deletes in counts.values()):
            sk = surrogate_key(F.col("channel"), F.col("source_complaint_id"))
            for r in latest.filter(is_delete).select("channel", sk.alias("sk")).collect():
                gone[r["channel"]].append(r["sk"])
        changed = latest.filter(~is_delete).drop(*change)
        facts = with_hash(build_facts(changed, customers, agents)).persist()
        for source, _, current in pending:
            channel = F.col("channel") == source.channel
            written = upsert(
                lake,
                table,
                facts.filter(channel),
                keys=["channel", "complaint_sk"],
                txn=Txn(app_id(table, source.table), current),
                deleted=gone[source.channel],
                delete_key="complaint_sk",
                partition_by=["channel"],
                audit=run.audit,
                scope=channel,
            )
            step.written.inserted += written.inserted
            step.written.updated += written.updated
            step.written.deleted += written.deleted
            step.written.commits += written.commits
            step.written.commits += ensure_watermark(lake, table, source.table, current)
    finally:
        if facts is not None:
            facts.unpersist()
        latest.unpersist()


def latest_complaints(union: DataFrame, one_commit: bool) -> tuple[DataFrame, dict]:
    """The feeds' last change per complaint, cached (narrow: the unified columns only; read for the counts,
    the deleted keys and the facts), and {channel: (rows, deletes)}.

    One commit never changes a key twice (a MERGE updates a row once, an append adds new keys), so when
    every feed is one commit the latest-change window, a sort of the day's rows, is skipped (0.8 s of a
    later day at scale 1.0). An overwrite is the exception: it reports a rewritten key as a delete and an
    insert, so a one-commit feed with deletes takes the window after all."""
    if one_commit:
        latest, counts = cached_channel_counts(union.filter(F.col("_change_type") != "update_preimage"))
        if not any(deletes for _, deletes in counts.values()):
            return latest, counts
        latest.unpersist()
    return cached_channel_counts(latest_change(union, ["channel", "source_complaint_id"]))


def cached_channel_counts(changes: DataFrame) -> tuple[DataFrame, dict]:
    """`changes` cached, and its {channel: (rows, deletes)}."""
    is_delete = F.col("_change_type") == "delete"
    changes = changes.persist()
    try:
        rows = (
            changes.groupBy("channel")
            .agg(F.count(F.lit(1)).alias("rows"), F.sum(F.when(is_delete, 1).otherwise(0)).alias("deletes"))
            .collect()
        )
    except BaseException:
        changes.unpersist()
        raise
    return changes, {r["channel"]: (int(r["rows"]), int(r["deletes"])) for r in rows}


def repoint_members(
    run: GoldRun,
    step: Step,
    dim_table: str,
    dim_version: int,
    dim_df: DataFrame,
    natural: str,
    sk: str,
    small: bool,
) -> int:
    """Point facts at the versions valid now for members whose history changed; returns how many facts
    moved off the unknown member (late-arriving members)."""
    lake, table = run.lake, FCT_COMPLAINT_TABLE
    done = run.wm(table, dim_table, dim_version)
    step.inputs[dim_table] = [None if done is None else done + 1, dim_version]
    if done is not None and done >= dim_version:
        return 0
    # No watermark on an existing fact (a crash before the first one was recorded): check every fact.
    facts = lake.read(table)
    if done is not None:
        affected = lake.changes(dim_table, done + 1, dim_version).select(natural).distinct()
        facts = facts.join(affected, natural, "left_semi")
    contract = [f.name for f in FCT_COMPLAINT.fields]
    moved = (
        point_in_time(
            facts.select(*contract).withColumnRenamed(sk, "_old_sk"), dim_df, natural, sk, broadcast=small
        )
        .filter(F.col("_old_sk") != F.col(sk))
        .persist()
    )
    try:
        counts = moved.agg(
            F.count(F.lit(1)).alias("moved"),
            F.sum(F.when(F.col("_old_sk") == UNKNOWN_KEY, 1).otherwise(0)).alias("late"),
        ).first()
        n_moved, n_late = int(counts["moved"]), int(counts["late"] or 0)
        if n_moved:
            rows = run.stamped(conform(moved, FCT_COMPLAINT))
            txn = Txn(app_id(table, dim_table), dim_version)
            result = lake.merge(table, rows, keys=["channel", "complaint_sk"], insert=False, txn=txn)
            step.written.add(result, updated=n_moved)
        step.written.commits += ensure_watermark(lake, table, dim_table, dim_version)
    finally:
        moved.unpersist()
    return n_late


# ------------------------------------------------------------------ calendar


def refresh_dim_date(run: GoldRun) -> Step:
    """Stateless: the calendar grows to whole years covering every fact date; it never shrinks."""
    lake, table = run.lake, DIM_DATE
    step = Step(table)
    if not lake.exists(FCT_COMPLAINT_TABLE):
        step.skipped_reason = "gold.fct_complaint does not exist yet"
        return step
    span = dim_date.year_span(lake.read(FCT_COMPLAINT_TABLE)).first()
    first, last = span["first_year"] or run.run_date.year, span["last_year"] or run.run_date.year
    step.inputs = {"years": [first, last]}
    if lake.exists(table) and not run.rebuild:
        have = lake.read(table).agg(F.min("year").alias("a"), F.max("year").alias("b")).first()
        if have["a"] is not None and have["a"] <= first and have["b"] >= last:
            return step
        if have["a"] is not None:
            first, last = min(first, have["a"]), max(last, have["b"])
    step.mode = "full"
    result = lake.overwrite(table, run.stamped(dim_date.build_dim_date(run.spark, first, last)))
    step.written.add(result, inserted=written_rows(result))
    return step


# ------------------------------------------------------------------ consumers of the fact's change feed


def fact_changes(run: GoldRun, since: int, until: int) -> DataFrame:
    """The fact's change feed from `since`, read once per run and shared by the steps that need it."""
    with run.fact_feed_lock:
        if run.fact_feed is None or run.fact_feed_from is None or run.fact_feed_from > since:
            if run.fact_feed is not None:
                run.fact_feed.unpersist()
            feed = run.lake.changes(FCT_COMPLAINT_TABLE, since, until).select(*FEED_COLUMNS)
            run.fact_feed = feed.persist()
            run.fact_feed_from = since
        return run.fact_feed.filter(F.col("_commit_version").between(since, until))


def refresh_lifecycle(run: GoldRun) -> Step:
    lake, table = run.lake, LIFECYCLE
    step = Step(table)
    current = lake.version(FCT_COMPLAINT_TABLE)
    if current is None:
        step.skipped_reason = "gold.fct_complaint does not exist yet"
        return step
    done = run.wm(table, FCT_COMPLAINT_TABLE, current)
    step.inputs = {FCT_COMPLAINT_TABLE: [None if done is None else done + 1, current]}
    if done is not None and done >= current:
        return step
    history = status_history(run)
    if done is None:
        step.mode = "full"
        facts = lake.read(FCT_COMPLAINT_TABLE, current).select(*[f.name for f in FCT_COMPLAINT.fields])
        txn = txn_for(lake, table, FCT_COMPLAINT_TABLE, current)
        result = lake.overwrite(table, run.stamped(build_lifecycle(facts, history)), txn=txn)
        step.written.add(result, inserted=written_rows(result))
        step.written.commits += ensure_watermark(lake, table, FCT_COMPLAINT_TABLE, current)
        return step
    step.mode = "incremental"
    # The fact rows come from the feed's last change per complaint (its row at `current`), not from a
    # semi-join of the whole fact; a complaint whose last change is a delete left the fact, and its
    # lifecycle row goes too.
    latest = latest_change(fact_changes(run, done + 1, current), ["complaint_sk"]).persist()
    try:
        step.rows_in = latest.count()
        if not step.rows_in:
            step.written.commits += ensure_watermark(lake, table, FCT_COMPLAINT_TABLE, current)
            return step
        is_delete = F.col("_change_type") == "delete"
        gone = [r[0] for r in latest.filter(is_delete).select("complaint_sk").collect()]
        keys = F.broadcast(latest.select("complaint_sk"))  # the day's complaints: small next to the history
        changed_history = (
            history.withColumn("complaint_sk", surrogate_key("channel", "complaint_id"))
            .join(keys, "complaint_sk", "left_semi")
            .drop("complaint_sk")
        )
        rebuilt = build_lifecycle(latest.filter(~is_delete), changed_history)
        rebuilt = with_hash(rebuilt).persist()
        try:
            txn = Txn(app_id(table, FCT_COMPLAINT_TABLE), current)
            written = upsert(
                lake, table, rebuilt, keys=["complaint_sk"], txn=txn, deleted=gone, audit=run.audit
            )
            step.written.inserted += written.inserted
            step.written.updated += written.updated
            step.written.deleted += written.deleted
            step.written.commits += written.commits
            step.written.commits += ensure_watermark(lake, table, FCT_COMPLAINT_TABLE, current)
        finally:
            rebuilt.unpersist()
    finally:
        latest.unpersist()
    return step


def status_history(run: GoldRun) -> DataFrame:
    if run.lake.exists(STATUS_HISTORY):
        return run.lake.read(STATUS_HISTORY).select(
            "complaint_id", "channel", "old_status", "new_status", "drop_date"
        )
    return run.spark.createDataFrame(
        [], "complaint_id string, channel string, old_status string, new_status string, drop_date date"
    )


@dataclass(frozen=True)
class Aggregate:
    table: str
    column: str  # the aggregate's partition-like key, recomputed as a whole
    key_of_fact: Callable[[], object]  # the same key computed on a fact row
    build: Callable[[DataFrame], DataFrame]


DAILY = Aggregate(AGG_DAILY, "date_key", lambda: F.col("request_date_key"), aggregates.daily_complaints)
AGENT_MONTHS = Aggregate(AGG_AGENT, "month_key", aggregates.month_key, aggregates.agent_performance)


def refresh_aggregate(run: GoldRun, agg: Aggregate) -> Step:
    """Recompute the aggregate for the event dates (or months) whose facts changed, and only those."""
    lake = run.lake
    step = Step(agg.table)
    current = lake.version(FCT_COMPLAINT_TABLE)
    if current is None:
        step.skipped_reason = "gold.fct_complaint does not exist yet"
        return step
    done = run.wm(agg.table, FCT_COMPLAINT_TABLE, current)
    step.inputs = {FCT_COMPLAINT_TABLE: [None if done is None else done + 1, current]}
    if done is not None and done >= current:
        return step
    facts = lake.read(FCT_COMPLAINT_TABLE, current)
    values = None
    if done is not None:
        touched = fact_changes(run, done + 1, current).select(agg.key_of_fact().alias("k"))
        values = small_distinct(touched, "k", limit=5 * MAX_IN_LIST)
    if values is None:
        step.mode = "full"
        rows = agg.build(facts)
        result = lake.overwrite(
            agg.table, run.audit(rows), txn=txn_for(lake, agg.table, FCT_COMPLAINT_TABLE, current)
        )
    elif values:
        step.mode = "incremental"
        step.details[f"{agg.column}s_recomputed"] = len(values)
        rows = agg.build(facts.filter(agg.key_of_fact().isin(values)))
        txn = Txn(app_id(agg.table, FCT_COMPLAINT_TABLE), current)
        result = lake.overwrite(agg.table, run.audit(rows), predicate=in_list(agg.column, values), txn=txn)
    else:
        result = None
    if result is not None:
        step.written.add(result, inserted=written_rows(result))
    step.written.commits += ensure_watermark(lake, agg.table, FCT_COMPLAINT_TABLE, current)
    return step


def refresh_mart(run: GoldRun) -> Step:
    """Incremental when the mart has absorbed earlier versions of the fact and the customer dimension: the
    customers whose row can differ are recomputed from their facts, every other row is re-aged from its own
    columns (gold.marts); full on the first run, in a rebuild, or when the as-of date jumps past every window.

    A customer's row can differ when one of their facts changed (the fact's feed), their current dimension
    version changed (the dimension's feed), one of their complaints entered or left a window as the as-of
    date moved (its request date in `marts.moved_dates`), or the age of their oldest open complaint cannot
    be told from the row (`marts.needs_recompute_by_age`)."""
    lake, table = run.lake, MART_RISK
    step = Step(table)
    current, dim_current = lake.version(FCT_COMPLAINT_TABLE), lake.version(DIM_CUSTOMER)
    if current is None or dim_current is None:
        step.skipped_reason = "gold.fct_complaint does not exist yet"
        return step
    done = run.wm(table, FCT_COMPLAINT_TABLE, current)
    dim_done = run.wm(table, DIM_CUSTOMER, dim_current)
    as_of, stored_as_of = run.as_of(table)
    step.inputs = {
        FCT_COMPLAINT_TABLE: [None if done is None else done + 1, current],
        DIM_CUSTOMER: [None if dim_done is None else dim_done + 1, dim_current],
        "as_of": str(as_of),
    }
    fact_news, dim_news = done is None or done < current, dim_done is None or dim_done < dim_current
    if not fact_news and not dim_news and stored_as_of == as_of:
        return step
    facts, dims = lake.read(FCT_COMPLAINT_TABLE, current), lake.read(DIM_CUSTOMER, dim_current)
    txn = txn_for(lake, table, FCT_COMPLAINT_TABLE, current)
    full = done is None or dim_done is None or stored_as_of is None
    full = full or (as_of - stored_as_of).days >= max(marts.WINDOWS)
    if full:
        step.mode = "full"
        result = lake.overwrite(table, run.audit(marts.customer_risk(facts, dims, as_of)), txn=txn)
    else:
        step.mode = "incremental"
        stored = lake.read(table)
        touched = [marts.calendar_moved(stored, facts, stored_as_of, as_of)]
        if fact_news:
            touched.append(fact_changes(run, done + 1, current).select("customer_id"))
        if dim_news:
            touched.append(lake.changes(DIM_CUSTOMER, dim_done + 1, dim_current).select("customer_id"))
        who = functools.reduce(DataFrame.unionByName, touched).filter(F.col("customer_id").isNotNull())
        who = who.distinct().persist()
        try:
            step.rows_in = who.count()
            step.details["customers_recomputed"] = step.rows_in
            again = marts.customer_risk(facts.join(who, "customer_id", "left_semi"), dims, as_of)
            kept = marts.reaged(
                stored.join(who, "customer_id", "left_anti"), as_of, (as_of - stored_as_of).days
            )
            # Read from the snapshot the overwrite replaces: Delta reads stay on their snapshot's files.
            result = lake.overwrite(table, run.audit(again.unionByName(kept)), txn=txn)
        finally:
            who.unpersist()
    step.written.add(result, inserted=written_rows(result))
    step.written.commits += ensure_watermark(lake, table, FCT_COMPLAINT_TABLE, current)
    step.written.commits += ensure_watermark(lake, table, DIM_CUSTOMER, dim_current)
    return step


def describe(step: Step) -> str:
    return json.dumps(step.describe(), default=str, sort_keys=True)


STATIC = ((DIM_CHANNEL, build_dim_channel), (DIM_COMPLAINT_CATEGORY, build_dim_complaint_category))
