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
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

from coretelecoms import progress
from coretelecoms.context import RunContext
from coretelecoms.gold import checks
from coretelecoms.gold import refresh as R
from coretelecoms.ops import ledger
from coretelecoms.ops.ledger import LedgerEntry


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


__all__ = ["TABLES", "run_gold"]

TABLES = R.TABLES
log = logging.getLogger(__name__)
# How many of the fact's readers (lifecycle, aggregates, mart, calendar) run at once.
PARALLEL_READERS = 3


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
    failures = [e for e in entries if e.status == "failed"]
    written = [e.source for e in entries if e.status == "ok" and json.loads(e.details or "{}").get("commits")]
    if expectations and not failures and written:
        gate(ctx, run_date, entries, written)
    ledger.record(ctx, entries)
    return entries


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


def gate(ctx: RunContext, run_date: date, entries: list[LedgerEntry], tables: list[str]) -> None:
    """Validate the GX suite of every table this run wrote; a gating failure fails that table's entry.

    Results go to the lake's GX project and Data Docs (shared with silver) and to `_quality.metrics`."""
    from coretelecoms.quality.gx import QualityGate
    from coretelecoms.quality.metrics import append_metrics

    progress.report("quality gate")
    quality = QualityGate(ctx.settings)
    results: dict[str, list] = {}
    for r in checks.validate(quality, ctx.lake, tables, ctx.run_id):
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
