"""What `coretelecoms status` and `coretelecoms tables` show, read with delta-rs alone: no Spark session.

Both only read Delta logs and one small table (the run ledger), so starting a JVM (4-8 s idle, minutes on
a loaded machine) would cost more than the answer. Row counts come from the log's per-file statistics
(`numRecords`), which every writer of this lake records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from coretelecoms.lake.engine import list_delta_tables
from coretelecoms.settings import Settings

LEDGER = "_ops.runs"


def table_path(root: str, table: str) -> str:
    layer, _, entity = table.partition(".")
    return f"{root.rstrip('/')}/{layer}/{entity}"


@dataclass
class TableInfo:
    name: str
    version: int
    rows: int
    files: int
    committed_at: datetime
    operation: str


def tables(settings: Settings) -> list[TableInfo]:
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    found = []
    for name in list_delta_tables(settings.lake.root):
        dt = DeltaTable(table_path(settings.lake.root, name))
        adds = pa.table(dt.get_add_actions(flatten=False))
        (last,) = dt.history(1)
        found.append(
            TableInfo(
                name,
                dt.version(),
                int(pc.sum(adds["num_records"]).as_py() or 0) if adds.num_rows else 0,
                adds.num_rows,
                datetime.fromtimestamp(last["timestamp"] / 1000, UTC).replace(tzinfo=None),
                last.get("operation", ""),
            )
        )
    return found


@dataclass
class RunSummary:
    run_id: str
    layer: str
    run_date: date | None
    started: datetime
    ended: datetime
    rows_out: int
    rejected: int
    error: str | None  # the first failed source's "source: error", None when the run succeeded
    warning: str | None = None  # the first source that ended `warn`: "source: why"

    @property
    def seconds(self) -> float:
        return (self.ended - self.started).total_seconds()


def table_rows(root: str, table: str, columns: list[str] | None = None) -> list[dict]:
    """A small table's rows read with delta-rs ([] when it does not exist yet)."""
    from deltalake import DeltaTable

    path = table_path(root, table)
    if not DeltaTable.is_deltatable(path):
        return []
    # to_pyarrow_dataset, not to_pyarrow_table: the latter aborts the interpreter at exit (deltalake 1.6).
    return DeltaTable(path).to_pyarrow_dataset().to_table(columns=columns).to_pylist()


def ledger_rows(settings: Settings) -> list[dict]:
    return table_rows(settings.lake.root, LEDGER)


def latest_runs(rows: list[dict], limit: int | None = None) -> list[RunSummary]:
    """The latest run of each layer and date, newest date first, then by layer."""
    runs: dict[str, RunSummary] = {}
    for r in sorted(rows, key=lambda r: r["started_at"]):
        run = runs.get(r["run_id"])
        failed = f"{r['source']}: {r['error'] or ''}" if r["status"] == "failed" else None
        warned = (
            f"{r['source']}: {r['error'] or 'warnings (see the ledger details)'}"
            if r["status"] == "warn"
            else None
        )
        if run is None:
            runs[r["run_id"]] = RunSummary(
                r["run_id"], r["layer"], r["run_date"], r["started_at"], r["ended_at"],
                r["rows_out"] or 0, r["rejected"] or 0, failed, warned,
            )  # fmt: skip
            continue
        run.ended = max(run.ended, r["ended_at"])
        run.rows_out += r["rows_out"] or 0
        run.rejected += r["rejected"] or 0
        run.error = run.error or failed
        run.warning = run.warning or warned
    latest: dict[tuple, RunSummary] = {}
    for run in runs.values():
        key = (run.layer, run.run_date)
        if key not in latest or run.started > latest[key].started:
            latest[key] = run
    ordered = sorted(latest.values(), key=lambda r: r.layer)
    ordered.sort(key=lambda r: r.run_date or date.min, reverse=True)
    return ordered[:limit] if limit else ordered
