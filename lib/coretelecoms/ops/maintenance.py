"""Compaction and clean-up of every Delta table: OPTIMIZE (z-order where configured), then VACUUM.

Streaming micro-batches and daily MERGEs leave many small files; compaction keeps reads fast, and VACUUM
removes the files no current version references once the retention has passed (which is also what makes
a GDPR erasure final).
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
    record(ctx, entries)
    return entries
