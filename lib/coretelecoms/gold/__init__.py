"""Gold: the star schema, the lifecycle snapshot, aggregates and the churn-risk mart, built from silver.

`run_gold(ctx, run_date, rebuild=False)` refreshes, in order: the static dimensions (channel, category),
the SCD2 dimensions (customer, agent), the complaint fact (then repoints facts whose customer or agent
history changed); then, side by side, the tables that read only those: the calendar, the lifecycle
snapshot, the two aggregates and the risk mart. It then runs the quality gate on every table it wrote, and
appends one `_ops.runs` entry per gold table. A failed table stops the tables that depend on it, not its
independent neighbours.

Incremental: each table keeps, per input, the last input version it absorbed as a Delta application
transaction on itself (`gold/incremental.py`); a run reads only the input change feeds since then and
rewrites only the keys, dates and months they touch. A re-run with nothing new commits nothing.
`rebuild=True` ignores the watermarks, recomputes every table from silver (SCD2 history from silver's
change feed) and overwrites in place, which gives the same rows an incremental history gives.

No committed row escapes the gate: before it, the run journals its entries (`ops/journal.py`), so a run
killed between its commits and its checks is finished by the next run (the gate on what it wrote, its
entries and metrics under its id); and every entry the gate saw records the table's version, so commits of a
run killed before its journal (mid-steps) are seen as newer than any checked version and checked too.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

from pyspark.sql import functions as F

from coretelecoms import progress
from coretelecoms.context import RunContext
from coretelecoms.gold import checks
from coretelecoms.gold import refresh as R
from coretelecoms.ops import journal, ledger
from coretelecoms.ops.ledger import LedgerEntry


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


__all__ = ["TABLES", "run_gold"]

TABLES = R.TABLES
log = logging.getLogger(__name__)
# How many of the fact's readers (lifecycle, aggregates, mart, calendar) run at once.
PARALLEL_READERS = 3
# Test hook: called after every step, before the journal and the gate (`AFTER_JOURNAL`: after the journal).
AFTER_STEPS: Callable[[], None] | None = None
AFTER_JOURNAL: Callable[[], None] | None = None
# Delta operations that rewrite files without changing a row.
MAINTENANCE = {"OPTIMIZE", "VACUUM START", "VACUUM END"}


def _steps(run: R.GoldRun):
    """(table, refresh) in dependency order: the dimensions, then the fact every later table reads."""
    steps = [(table, lambda t=table, b=build: R.refresh_static(run, t, b)) for table, build in R.STATIC]
    steps += [
        (R.DIM_CUSTOMER, lambda: R.refresh_scd2(run, R.CUSTOMERS)),
        (R.DIM_AGENT, lambda: R.refresh_scd2(run, R.AGENTS)),
        (R.FCT_COMPLAINT_TABLE, lambda: R.refresh_fact(run)),
    ]
    return steps


def _readers(run: R.GoldRun):
    """(table, refresh) of the tables that read only the fact and the dimensions, not each other."""
    return [  # the longest first, so the short ones fill in around them
        (R.LIFECYCLE, lambda: R.refresh_lifecycle(run)),
        (R.MART_RISK, lambda: R.refresh_mart(run)),
        (R.AGG_DAILY, lambda: R.refresh_aggregate(run, R.DAILY)),
        (R.AGG_AGENT, lambda: R.refresh_aggregate(run, R.AGENT_MONTHS)),
        (R.DIM_DATE, lambda: R.refresh_dim_date(run)),
    ]


def _entry(step: R.Step, run_date: date, started, seconds: float) -> LedgerEntry:
    status = "skipped" if step.skipped_reason or step.mode == "up to date" else "ok"
    details = step.describe() | {"seconds": round(seconds, 2)}
    if step.skipped_reason:
        details["reason"] = step.skipped_reason
    return LedgerEntry(
        source=step.table,
        run_date=run_date,
        files=len(step.inputs),
        rows_in=step.rows_in,
        rows_out=step.written.rows,
        status=status,
        details=json.dumps(details, default=str, sort_keys=True),
        started_at=started,
    )


def run_gold(
    ctx: RunContext, run_date: date, rebuild: bool = False, *, expectations: bool = True
) -> list[LedgerEntry]:
    """Refresh every gold table for `run_date` (the as-of date of the lifecycle and the mart).

    `rebuild=True` recomputes every table from silver. `expectations=False` skips the Great Expectations
    gate and the Data Docs (the tables are written the same way)."""
    run = R.GoldRun(ctx, run_date, rebuild)
    finish_killed_runs(ctx, expectations)
    unchecked = unchecked_commits(ctx)
    entries: list[LedgerEntry] = []
    failed = None
    for table, refresh in _steps(run):
        if failed:
            entries.append(_not_run(table, run_date, failed))
            continue
        progress.report(table)
        entry = _run_step(table, refresh, run_date)
        if entry.status == "failed":
            failed = table
        entries.append(entry)
    if failed:
        entries += [_not_run(table, run_date, failed) for table, _ in _readers(run)]
    else:
        # The readers write different tables from the same fact: run side by side, they fill the gaps
        # one leaves on the two cores (driver-side planning, commits, single-task stages).
        with ThreadPoolExecutor(PARALLEL_READERS if ctx.lake.concurrent_writes else 1) as pool:
            entries += pool.map(lambda step: _run_step(*step, run_date), _readers(run))
    if run.fact_feed is not None:
        run.fact_feed.unpersist()
    if AFTER_STEPS is not None:
        AFTER_STEPS()
    failures = [e for e in entries if e.status == "failed"]
    checking = expectations and not failures
    for entry in entries:
        if entry.source in unchecked and entry.status != "failed":
            details = json.loads(entry.details or "{}")
            details["unchecked_commits"] = unchecked[entry.source]
            entry.details = json.dumps(details, default=str, sort_keys=True)
            if checking:
                entry.status = "ok"
    _note_versions(ctx, entries, checking)
    journal.write(ctx, [journal.Unchecked(e.source, e) for e in entries])
    if AFTER_JOURNAL is not None:
        AFTER_JOURNAL()
    written = _written(entries)
    if checking and written:
        gate(ctx, run_date, entries, written, _writers(ctx, unchecked.get(R.FCT_COMPLAINT_TABLE)))
    ledger.record(ctx, entries)
    return entries


def _writers(ctx: RunContext, versions: list[int] | None) -> list[str]:
    """The run ids whose fact rows the commits `versions` ([first, last]) wrote: their batch to check."""
    if versions is None:
        return []
    feed = ctx.lake.changes(R.FCT_COMPLAINT_TABLE, versions[0], versions[1])
    rows = feed.filter(F.col("_change_type").isin("insert", "update_postimage")).select("_run_id").distinct()
    return [r[0] for r in rows.collect()]


def _written(entries: list[LedgerEntry]) -> list[str]:
    """The tables the gate checks: those this run wrote, and those with commits no gate has seen."""
    out = []
    for e in entries:
        details = json.loads(e.details or "{}")
        if e.status == "ok" and (details.get("commits") or details.get("unchecked_commits")):
            out.append(e.source)
    return out


def _note_versions(ctx: RunContext, entries: list[LedgerEntry], checking: bool) -> None:
    """Record in each entry the table version the gate sees (or, unwritten, the version it stays at).

    A table written but not checked (the gate off, or a failure elsewhere) records none, so the next run
    that checks sees its commits as unchecked."""
    for e in entries:
        details = json.loads(e.details or "{}")
        if e.status == "failed" or not ctx.lake.exists(e.source):
            continue
        if not checking and (details.get("commits") or details.get("unchecked_commits")):
            continue
        details["table_version"] = ctx.lake.version(e.source)
        e.details = json.dumps(details, default=str, sort_keys=True)


def unchecked_commits(ctx: RunContext) -> dict[str, list[int | None]]:
    """{table: [first, last] versions} of gold tables with commits newer than any version a gate checked.

    A table no gate has checked yet (its first run killed mid-steps, or written with the gate off) is
    unchecked from version 0. Commits that change no row (OPTIMIZE, VACUUM) need no check."""
    tables = [t for t in TABLES if ctx.lake.exists(t)]
    if not tables:
        return {}
    seen = (
        ledger.read(ctx)
        .filter(F.col("layer") == "gold")
        .groupBy("source")
        .agg(F.max(F.get_json_object("details", "$.table_version").cast("long")).alias("version"))
        .collect()
    )
    checked = {r["source"]: r["version"] for r in seen if r["version"] is not None}
    out = {}
    for table in tables:
        current = ctx.lake.version(table)
        last = checked.get(table, -1)
        if current > last:
            newer = ctx.lake.history(table, limit=current - last)
            if any(h["operation"] not in MAINTENANCE for h in newer if h["version"] > last):
                out[table] = [last + 1, current]
    return out


def finish_killed_runs(ctx: RunContext, expectations: bool) -> None:
    """Finish the gate of gold runs killed after their journal: check what they wrote, record their entries."""
    for run_id, rows in journal.by_run(journal.pending(ctx)).items():
        killed = dataclasses.replace(ctx, run_id=run_id)
        entries = [u.entry for u in rows]
        tables = _written(entries)
        if expectations and tables and not any(e.status == "failed" for e in entries):
            progress.report(f"quality gate of {run_id}")
            gate(killed, entries[0].run_date, entries, tables)
        journal.finish(ctx, run_id, rows)


def _not_run(table: str, run_date: date, failed: str) -> LedgerEntry:
    return LedgerEntry(
        table, run_date, status="skipped", error=f"not run: {failed} failed", started_at=_now()
    )


def _run_step(table: str, refresh, run_date: date) -> LedgerEntry:
    """Run one table's refresh; its failure becomes a failed entry (the message's first line)."""
    started = _now()
    began = time.perf_counter()
    try:
        step = refresh()
    except Exception as exc:
        log.exception("gold %s failed", table)
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return LedgerEntry(
            table,
            run_date,
            status="failed",
            error=f"{type(exc).__name__}: {message}"[:1000],
            started_at=started,
        )
    return _entry(step, run_date, started, time.perf_counter() - began)


def gate(
    ctx: RunContext, run_date: date, entries: list[LedgerEntry], tables: list[str], writers: list[str] = ()
) -> None:
    """Validate the GX suite of every table this run wrote; a gating failure fails that table's entry.
    `writers`: other runs whose fact rows are checked with this run's (commits no gate has seen).

    Results go to the lake's GX project and Data Docs (shared with silver) and to `_quality.metrics`."""
    from coretelecoms.quality.gx import QualityGate
    from coretelecoms.quality.metrics import append_metrics

    progress.report("quality gate")
    quality = QualityGate(ctx.settings)
    results: dict[str, list] = {}
    for r in checks.validate(quality, ctx.lake, tables, ctx.run_id, writers):
        results.setdefault(r.table, []).append(r)
    metrics = [m for rs in results.values() for r in rs for m in r.metrics()]
    append_metrics(ctx.lake, ctx.spark, ctx.run_id, run_date, metrics)
    try:
        index = str(quality.build_docs())
    except Exception as exc:  # the site is a report: failing to render it must not fail the data
        index = f"not built: {type(exc).__name__}: {exc}"[:300]
    for entry in entries:
        table_results = results.get(entry.source)
        if not table_results:
            continue
        details = json.loads(entry.details or "{}")
        details["expectations"] = checks.summary(table_results) | {"data_docs": index}
        entry.details = json.dumps(details, default=str, sort_keys=True)
        bad = [c for r in table_results for c in r.gating_failures]
        if bad:
            entry.status = "failed"
            entry.error = "quality gate: " + "; ".join(c.describe() for c in bad)
            entry.rejected = sum(int(c.rows_failed or 0) for c in bad)
