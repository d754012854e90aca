"""Bronze: every landed file becomes append-only Delta rows of raw text with exact lineage.

`run_bronze(ctx, run_date)` lands the day's deliveries (`coretelecoms.landing`), then runs one
availableNow stream per table (`autoloader.py`) and appends one `_ops.runs` entry per source.

Tables (all contract columns StringType, partitioned by `_source_date`, append-only):
`bronze.customers`, `bronze.agents`, `bronze.call_logs`, `bronze.social_media`, `bronze.web_forms`
(columns in `contract.COLUMNS`), each followed by `_rescued_data`, `_corrupt_record`, `_source_file`,
`_source_record` (long), `_source_date` (date), `_ingested_at` (timestamp_ntz), `_run_id`, `_missing_columns`
(array of the contract columns the file lacked, NULL when none); and
`bronze.rejected_files` (source, file, reason, run_id, detected_at): files with nothing to load ("empty
file", "empty file (header only)") or that cannot be parsed at all; the ledger's `rejected` counts them all.
"""

from __future__ import annotations

from datetime import date

from coretelecoms import progress
from coretelecoms.bronze.autoloader import REJECTED_TABLE, BronzeSource, Ingestion, Stats, now
from coretelecoms.bronze.contract import COLUMNS
from coretelecoms.context import RunContext
from coretelecoms.landing import landing_store, run_landing
from coretelecoms.landing.registry import landed_files
from coretelecoms.ops import ledger
from coretelecoms.ops.ledger import LedgerEntry

__all__ = ["COLUMNS", "REJECTED_TABLE", "SOURCES", "bronze_sources", "run_bronze"]


def bronze_sources(ctx: RunContext) -> list[BronzeSource]:
    """The five streams, in the order they run (small static tables first)."""
    pg_schema = ctx.settings.sources.postgres.schema_name
    return [
        BronzeSource("agents", "gsheets/agents", "*.csv", "csv"),
        BronzeSource("customers", "s3/customers", "*.csv", "csv", max_files_per_trigger=1),
        BronzeSource("call_logs", "s3/call logs", "*.csv", "csv"),
        BronzeSource("social_media", "s3/social_medias", "*.json", "json"),
        BronzeSource("web_forms", f"postgres/{pg_schema}", "*.csv", "csv"),
    ]


SOURCES = ("agents", "customers", "call_logs", "social_media", "web_forms")


def _error_text(exc: BaseException) -> str:
    """One clear line: the Python error raised inside foreachBatch, not the JVM's wrapping of it."""
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return f"{type(exc).__name__}: {lines[0]}"[:1000]


def _entry(source: str, run_date: date, stats: Stats, started, landing: LedgerEntry | None) -> LedgerEntry:
    """`rejected` counts every file this run wrote to bronze.rejected_files, empty ones included (their
    reason there says "empty file..."), so the ledger and the table always agree; any makes it a warn."""
    entry = LedgerEntry(
        source=source,
        run_date=run_date,
        files=stats.files,
        rows_in=stats.rows_in,
        rows_out=stats.rows_out,
        rejected=len(stats.rejected),
        details=stats.details(),
        started_at=started,
    )
    problems = []
    if stats.error is not None:
        entry.status = "failed"
        problems.append(_error_text(stats.error))
    elif stats.rejected or stats.corrupt_records or stats.missing_columns:
        entry.status = "warn"
        if stats.rejected:
            empty = f" ({len(stats.empty)} empty)" if stats.empty else ""
            problems.append(f"{len(stats.rejected)} file(s) rejected{empty}, see {REJECTED_TABLE}")
        if stats.corrupt_records:
            problems.append(f"{stats.corrupt_records} corrupt record(s) kept in _corrupt_record")
        if stats.missing_columns:
            problems.append("missing columns: " + ", ".join(sorted(stats.missing_columns)))
    if landing is not None and landing.status in ("failed", "warn"):
        problems.insert(0, f"landing {landing.status}: {landing.error}")
        if landing.status == "failed" or entry.status == "ok":
            entry.status = landing.status
    entry.error = "; ".join(problems) or None
    entry.ended_at = now()
    return entry


def run_bronze(ctx: RunContext, run_date: date, *, land: bool = True) -> list[LedgerEntry]:
    """Land the day's deliveries, ingest all five sources, record and return one entry per source.

    Landing entries go to the ledger under the `landing` layer; a source whose landing failed is also
    marked failed here (what was landed before is still ingested)."""
    landing = {}
    if land:
        landing = {e.source: e for e in run_landing(ctx.for_layer("landing"), run_date)}
    store = landing_store(ctx)
    landed = landed_files(ctx, store.root)
    # The five streams run side by side: each is mostly latency (checkpoint I/O, small jobs), and the
    # big customers file parses on one core while the daily files use the other.
    started = now()
    running: dict[str, Ingestion | Exception] = {}
    for source in bronze_sources(ctx):
        try:
            store.ensure_dir(source.landing_dir)
            ingestion = Ingestion(ctx, source, store.root, landed, run_date)
            ingestion.start()
            running[source.name] = ingestion
        except Exception as exc:  # e.g. the stream could not start; the other sources still run
            running[source.name] = exc
    entries = []
    for name, ingestion in running.items():
        progress.report(name)
        stats = Stats(error=ingestion) if isinstance(ingestion, Exception) else ingestion.wait()
        entries.append(_entry(name, run_date, stats, started, landing.get(name)))
    ledger.record(ctx, entries)
    return entries
