"""Landing: every source delivery copied, exported or snapshotted into `<lake>/landing/` exactly once.

Layout (the replayable system of record bronze streams from):

    landing/s3/customers/customers_dataset.csv                  static; a changed file lands as a version
    landing/s3/call logs/call_logs_day_YYYY-MM-DD.csv           original S3 keys, space included
    landing/s3/social_medias/media_complaint_day_YYYY-MM-DD.json
    landing/postgres/<schema>/web_form_request_YYYY_MM_DD.csv   COPY ... TO STDOUT WITH CSV HEADER
    landing/gsheets/agents/agents_YYYY-MM-DD.csv                sheet snapshot, only when it changed
    landing/<...>/v<n>-<sha256[:12]>/<name>                     a re-delivered object with new content

`_ops.landed_files` records size, ETag, SHA-256, copy time and version of each file, one commit per file
as it lands (a killed run keeps what it recorded; the re-run lands the rest once). Each source is
landed on its own: an unreachable system fails that source's ledger entry, the others still land.
"""

from __future__ import annotations

import json
from datetime import date

from coretelecoms import progress
from coretelecoms.context import RunContext
from coretelecoms.landing.agents import land_agents
from coretelecoms.landing.copier import Lander, Outcome, now
from coretelecoms.landing.objects import OBJECT_SOURCES, ObjectStore, land_objects
from coretelecoms.landing.registry import Registry
from coretelecoms.landing.store import LandingStore
from coretelecoms.landing.web_forms import land_web_forms
from coretelecoms.ops import ledger
from coretelecoms.ops.ledger import LedgerEntry
from coretelecoms.runner import dates_between

SOURCES = ("customers", "agents", "call_logs", "social_media", "web_forms")

__all__ = ["SOURCES", "landing_store", "run_landing"]


def landing_store(ctx: RunContext) -> LandingStore:
    return LandingStore(ctx.settings.lake.root, str(ctx.settings.data_dir / "tmp"))


def _entry(
    source: str, run_date: date | None, outcome: Outcome | None, error: Exception | None, started
) -> LedgerEntry:
    """A failed source still reports what it landed before failing (`outcome` may come with `error`)."""
    entry = LedgerEntry(source=source, run_date=run_date, started_at=started)
    if outcome is not None:
        entry.files = len(outcome.landed)
        entry.rows_in = entry.rows_out = 0
        entry.status = "warn" if outcome.warnings else "ok"
        entry.error = "; ".join(outcome.warnings) or None
        entry.details = json.dumps(
            {
                "landed": [f.landing_path for f in outcome.landed],
                "bytes": sum(f.size for f in outcome.landed),
                "versions": {f.landing_path: f.version for f in outcome.landed if f.version > 1},
                "skipped_unchanged": outcome.skipped,
                "warnings": outcome.warnings,
            }
        )
    if error is not None:
        entry.status = "failed"
        entry.error = str(error) or type(error).__name__
    entry.ended_at = now()
    return entry


def run_landing(
    ctx: RunContext,
    run_date: date | None,
    start: date | None = None,
    end: date | None = None,
    *,
    record: bool = True,
    sheets_client=None,
) -> list[LedgerEntry]:
    """Land the run date's drops (or each date of `start..end`; with neither, everything available),
    plus the static customers file and the agents sheet when they changed. Records one ledger entry per
    source (unless `record=False`) and returns them."""
    if start or end:
        if not (start and end):
            raise ValueError("give both start and end")
        dates: list[date] | None = dates_between(start, end)
    else:
        dates = [run_date] if run_date else None
    landed_on = run_date or start or now().date()
    settings = ctx.settings.sources
    store = landing_store(ctx)
    registry = Registry(ctx)
    lander = Lander(ctx, store, registry, landed_on)
    objects = ObjectStore(settings.s3)

    jobs = {
        **{s.name: (lambda s=s: land_objects(lander, objects, s, dates)) for s in OBJECT_SOURCES},
        "agents": lambda: land_agents(lander, settings.gsheets, landed_on, sheets_client),
        "web_forms": lambda: land_web_forms(lander, settings.postgres, dates, current=run_date),
    }
    entries = []
    for source in SOURCES:
        started = now()
        progress.report(source)
        try:
            outcome = jobs[source]()
            entries.append(_entry(source, run_date, outcome, None, started))
        except Exception as exc:  # one source's failure must not stop the others
            entries.append(_entry(source, run_date, getattr(exc, "outcome", None), exc, started))
    if record:
        ledger.record(ctx, entries)
    return entries
