"""Compaction and clean-up of every Delta table: OPTIMIZE (z-order where configured), then VACUUM; then the
full whole-table quality suites of silver and gold (ops.table_suites).

Streaming micro-batches and daily MERGEs leave many small files; compaction keeps reads fast, and VACUUM
removes the files no current version references once the retention has passed (which is also what makes
a GDPR erasure final). Daily runs check whole tables at the cost of their batch; the suites that read
every stored row run here, on the compacted tables: a gating failure fails that table's entry.
"""

from __future__ import annotations

import json
from datetime import date

from coretelecoms.context import RunContext
from coretelecoms.ops.ledger import LedgerEntry, record


def run_maintenance(ctx: RunContext, run_date: date | None = None) -> list[LedgerEntry]:
    cfg = ctx.settings.maintenance
    entries = []
    tables = ctx.lake.list_tables()
    if not tables:
        # Never a quiet success: a wrong lake.root or an unreadable bucket looks exactly like this.
        entries.append(
            LedgerEntry(
                source="*", run_date=run_date, status="warn", error=f"no Delta tables under {ctx.lake.root}"
            )
        )
    for table in tables:
        entry = LedgerEntry(source=table, run_date=run_date)
        try:
            before = ctx.lake.file_count(table)
            zorder = cfg.zorder.get(table)
            ctx.lake.optimize(table, zorder_by=zorder)
            removed = ctx.lake.vacuum(table, retention_hours=cfg.retention_hours)
            after = ctx.lake.file_count(table)
            entry.files = before
            entry.details = json.dumps(
                {
                    "files_before": before,
                    "files_after": after,
                    "zorder": zorder,
                    "vacuumed_files": len(removed),
                    "retention_hours": cfg.retention_hours,
                }
            )
        except Exception as exc:
            entry.status, entry.error = "failed", f"{type(exc).__name__}: {exc}"[:500]
        entries.append(entry)
    if cfg.table_suites:
        check_tables(ctx, run_date, entries)
    record(ctx, entries)
    return entries


def check_tables(ctx: RunContext, run_date: date | None, entries: list[LedgerEntry]) -> None:
    """The full suites of the tables maintained; results in each entry's details, gating failures fail it."""
    from coretelecoms.gold.checks import summary
    from coretelecoms.ops.table_suites import run_table_suites, suite_tables

    by_table = {e.source: e for e in entries if e.status != "failed"}
    tables = [t for t in suite_tables() if t in by_table]
    if not tables:
        return
    try:
        results = run_table_suites(ctx, run_date, tables)
    except Exception as exc:
        for table in tables:
            e = by_table[table]
            e.status, e.error = "failed", f"table suites: {type(exc).__name__}: {exc}"[:500]
        return
    for table, table_results in results.items():
        e = by_table[table]
        details = json.loads(e.details or "{}")
        details["expectations"] = summary(table_results)
        e.details = json.dumps(details, default=str)
        bad = [c for r in table_results for c in r.gating_failures]
        if bad:
            e.status = "failed"
            e.error = "table suite: " + "; ".join(c.describe() for c in bad)[:1000]
