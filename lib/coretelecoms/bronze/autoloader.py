"""Our Auto Loader: a Structured Streaming file source per bronze table, exactly-once into Delta.

Why not a streaming CSV/JSON source with an explicit schema and `_metadata.file_path` (DESIGN.md's first
plan): Spark's CSV source maps columns by position, even with `enforceSchema=false`, so a file with
reordered, extra or missing columns would load values under the wrong names; the contract needs each
file's own header matched by name. It also cannot number records within a file (`_source_record`), and
the social JSON is one column-oriented object per file (`{column: {index: value}}`), not a record per
row. So the stream only discovers files, and each micro-batch parses its files one by one with batch
reads, as below; discovery, checkpoints, availableNow and exactly-once commits are those of a streaming
file source.

Discovery: a `binaryFile` stream over the table's landing folder (recursive, so re-delivered versions in
`v<n>-<sha>/` folders are found) with only `path`, `length` and `modificationTime` selected in the
streaming plan. Spark prunes `content` down to the file scan, so discovery never reads file bytes
(checked with a 3 GB file, which would exceed binaryFile's 2 GB content limit). The checkpoint under
`<lake>/_checkpoints/<table>` records which files each micro-batch took; `trigger(availableNow=True)`
processes everything new and stops.

Ingestion: in `foreachBatch` the batch's files are parsed (`parsing.py`: CSV by Spark with headers mapped
by name, JSON flattened in code), unioned and appended through the lake module (Spark -> Arrow -> Delta)
with the application transaction `Txn(app_id=f"{table}@_checkpoints/{table}", version=batch_id)`. If the process
dies after the Delta commit but before Spark commits the batch to the checkpoint, the restarted query
replays the same batch id with the same files, the lake finds that transaction version committed and
skips the write (counting the rows the dead run committed): nothing lost, nothing doubled (`AFTER_COMMIT`
lets a test crash at exactly that point). Files
that cannot be parsed at all go to `bronze.rejected_files` under their own transaction, written before the
table, so a batch found committed in the table has its rejections committed too. 0-byte files never reach
foreachBatch (Spark's file scan drops them); they are taken from the landing registry instead.

Memory and speed: the parsed batch is not cached. A batch bigger than `SPLIT_BYTES` is hash-spread over
several partitions after the record numbers are assigned, so the driver receives many small Arrow results
instead of one 500 MB task result (2.5M customers fit a 3 GB heap this way), and the ledger counts (rows
and corrupt records per file) are read back from the two columns of what the batch committed. The five
streams run side by side (most of their time is latency), but only one batch at a time converts to Arrow
and writes (`_WRITE_LOCK`), which bounds the peak.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from coretelecoms.bronze.contract import PARTITION_BY
from coretelecoms.bronze.parsing import LandedFile, Parsed, Rejection, parse_csv, parse_json
from coretelecoms.bronze.recovery import REPLACEMENT
from coretelecoms.context import RunContext
from coretelecoms.lake import Txn
from coretelecoms.landing.store import date_in_name, landing_key

REJECTED_TABLE = "bronze.rejected_files"
REJECTED_SCHEMA = T.StructType(
    [
        T.StructField("source", T.StringType()),
        T.StructField("file", T.StringType()),
        T.StructField("reason", T.StringType()),
        T.StructField("run_id", T.StringType()),
        T.StructField("detected_at", T.TimestampNTZType()),
    ]
)
BINARY_FILE_SCHEMA = T.StructType(
    [
        T.StructField("path", T.StringType(), False),
        T.StructField("modificationTime", T.TimestampType(), False),
        T.StructField("length", T.LongType(), False),
        T.StructField("content", T.BinaryType(), True),
    ]
)

# Test hook: called as AFTER_COMMIT(table, batch_id) right after a batch's Delta commit, before Spark
# commits the batch to the checkpoint. A hook that raises simulates a crash at that exact point.
AFTER_COMMIT: Callable[[str, int], None] | None = None
_REJECTED_LOCK = threading.Lock()
# One batch at a time materialises into Arrow and writes: the streams run side by side, but two big
# batches (2.5M customers and a day of call logs) converting at once would double the peak memory.
_WRITE_LOCK = threading.Lock()
SPLIT_BYTES = 32 << 20
MAX_SPLITS = 64


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class BronzeSource:
    """One bronze table and the landing folder it streams from."""

    name: str
    landing_dir: str  # relative to <lake>/landing
    pattern: str
    fmt: str  # "csv" | "json"
    max_files_per_trigger: int = 16

    @property
    def table(self) -> str:
        return f"bronze.{self.name}"


@dataclass
class Stats:
    """What one source's stream did in this run, summed over its micro-batches."""

    batches: int = 0
    replayed_batches: int = 0
    files: int = 0
    rows_in: int = 0
    rows_out: int = 0
    corrupt_records: int = 0
    invalid_utf8_records: int = 0  # of the corrupt ones: flagged for invalid UTF-8 (`recovery`)
    # Every row this run wrote to bronze.rejected_files ({file, reason}); `empty` names those of them
    # that were empty or header-only (nothing to load) rather than unparseable.
    rejected: list[dict] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    missing_columns: dict[str, int] = field(default_factory=dict)
    extra_columns: dict[str, list[str]] = field(default_factory=dict)
    reordered_files: list[str] = field(default_factory=list)
    rows_per_file: dict[str, int] = field(default_factory=dict)
    # Files the stream offered that bronze already holds (a moved lake, a lost checkpoint): skipped.
    already_ingested: list[str] = field(default_factory=list)
    error: BaseException | None = None

    def details(self) -> str:
        return json.dumps(
            {
                "batches": self.batches,
                "replayed_batches_skipped": self.replayed_batches,
                "corrupt_records": self.corrupt_records,
                "invalid_utf8_records": self.invalid_utf8_records,
                "missing_columns": self.missing_columns,
                "extra_columns": self.extra_columns,
                "reordered_files": self.reordered_files,
                "empty_files": self.empty,
                "rejected_files": self.rejected,
                "rows_per_file": self.rows_per_file,
                "already_ingested": self.already_ingested,
            }
        )


def checkpoint_path(ctx: RunContext, table: str) -> str:
    return f"{ctx.settings.lake.root.rstrip('/')}/_checkpoints/{table}"


def source_date(key: str, landed: dict[str, dict], run_date: date) -> date:
    """The drop date in the file name; for static files (customers) the run date they landed on."""
    row = landed.get(key)
    if row is not None and (row.get("drop_date") or row.get("run_date")):
        return row.get("drop_date") or row["run_date"]
    return date_in_name(key) or run_date


class Ingestion:
    """One source's availableNow stream and its foreachBatch writer."""

    def __init__(
        self,
        ctx: RunContext,
        source: BronzeSource,
        landing_root: str,
        landed: dict[str, dict],
        run_date: date,
    ):
        self.ctx = ctx
        self.source = source
        self.landing_root = landing_root
        self.landed = landed
        self.run_date = run_date
        self.checkpoint = checkpoint_path(ctx, source.table)
        # Relative to the lake, like every key this stream records, so a moved lake finds its commits.
        self.app_id = f"{source.table}@_checkpoints/{source.table}"
        self.stats = Stats()

    # ------------------------------------------------------------ the stream

    def start(self) -> None:
        """Start the availableNow query; `wait()` blocks until it has taken every new file."""
        spark = self.ctx.spark
        folder = f"{self.landing_root}/{self.source.landing_dir}"
        files = (
            spark.readStream.format("binaryFile")
            .schema(BINARY_FILE_SCHEMA)
            .option("recursiveFileLookup", "true")
            .option("pathGlobFilter", self.source.pattern)
            .option("maxFilesPerTrigger", self.source.max_files_per_trigger)
            .option("maxFileAge", "36500d")  # landing is the system of record: never ignore old files
            .load(folder)
            .select("path", "length", "modificationTime")  # pruned to the scan: no file bytes read
        )
        self.query = (
            files.writeStream.queryName(f"bronze_{self.source.name}_{self.ctx.run_id}".replace("-", "_"))
            .foreachBatch(self._batch)
            .option("checkpointLocation", self.checkpoint)
            .trigger(availableNow=True)
            .start()
        )

    def wait(self) -> Stats:
        try:
            self.query.awaitTermination()
        except Exception as exc:
            self.stats.error = self.stats.error or exc
        if self.stats.error is None:
            try:
                self._record_empty_files()
            except Exception as exc:  # this source's failure, reported in its own entry; the others go on
                self.stats.error = exc
        return self.stats

    def run(self) -> Stats:
        self.start()
        return self.wait()

    def _record_empty_files(self) -> None:
        """0-byte files never reach foreachBatch (Spark's file scan drops them), so they are found in the
        landing registry instead and recorded once in `bronze.rejected_files` as "empty file"."""
        empty = sorted(
            path
            for path, row in self.landed.items()
            if row["source"] == self.source.name and row["size"] == 0
        )
        if not empty:
            return
        known = set()
        with _REJECTED_LOCK:
            exists = self.ctx.lake.exists(REJECTED_TABLE)
        if exists:
            known = {
                r["file"]
                for r in self.ctx.lake.read(REJECTED_TABLE)
                .filter(F.col("source") == self.source.name)
                .select("file")
                .collect()
            }
        new = [p for p in empty if p not in known]
        if new:
            self.stats.files += len(new)
            self.stats.empty.extend(new)
            self.stats.rejected.extend({"file": p, "reason": "empty file"} for p in new)
            rows = [(self.source.name, p, "empty file", self.ctx.run_id, now()) for p in new]
            with _REJECTED_LOCK:
                self.ctx.lake.append(REJECTED_TABLE, self.ctx.spark.createDataFrame(rows, REJECTED_SCHEMA))

    def _batch(self, batch: DataFrame, batch_id: int) -> None:
        try:
            self._write_batch(batch, batch_id)
        except BaseException as exc:
            self.stats.error = exc
            raise

    # ------------------------------------------------------------ one micro-batch

    def _write_batch(self, batch: DataFrame, batch_id: int) -> None:
        ctx, table = self.ctx, self.source.table
        txn = Txn(self.app_id, batch_id)
        # A batch a killed run committed but never checkpointed: its rows are in, once. It is counted from
        # what that run wrote (its ledger entry never was), as if this run had ingested it.
        replayed = ctx.lake.already_committed(table, txn)
        if replayed:
            self.stats.replayed_batches += 1
        rows = sorted(batch.collect(), key=lambda r: (r["modificationTime"], r["path"]))
        files = []
        for r in rows:
            key = landing_key(r["path"], self.landing_root)
            files.append(
                LandedFile(r["path"], r["length"], source_date(key, self.landed, self.run_date), key)
            )
        if not replayed:
            files = self._not_yet_ingested(files)
        if not files:
            return
        self.stats.batches += 1
        self.stats.files += len(files)
        ingested_at = now()
        parse = parse_json if self.source.fmt == "json" else parse_csv
        results = [parse(ctx.spark, f, self.source.name, ingested_at, ctx.run_id) for f in files]
        rejections = [r for r in results if isinstance(r, Rejection)]
        parsed = [r for r in results if isinstance(r, Parsed)]
        self._reject(rejections, batch_id, ingested_at)
        for p in parsed:
            self._note_shape(p)
        if not parsed:
            return
        frame = parsed[0].frame
        for p in parsed[1:]:
            frame = frame.unionByName(p.frame)
        size = sum(p.file.length for p in parsed)
        if size > SPLIT_BYTES:
            # A multi-line CSV file is one partition, and Spark would hand its whole Arrow result to the
            # driver as one task result (several copies of ~500 MB for 2.5M customers). Hash-spreading the
            # parsed rows (record numbers are already assigned) makes that many small results, streamed.
            frame = frame.repartition(min(MAX_SPLITS, size // SPLIT_BYTES + 1), "_source_record")
        if replayed:
            per_file = self._counts(parsed)
        else:
            with _WRITE_LOCK:
                result = ctx.lake.append(table, frame, partition_by=PARTITION_BY, txn=txn)
                pa.default_memory_pool().release_unused()
            if AFTER_COMMIT is not None:
                AFTER_COMMIT(table, batch_id)
            per_file = self._counts(parsed, ingested_at) if result.committed else {}
        total = sum(n for n, _, _ in per_file.values())
        self.stats.rows_in += total
        self.stats.rows_out += total
        self.stats.corrupt_records += sum(c for _, c, _ in per_file.values())
        self.stats.invalid_utf8_records += sum(u for _, _, u in per_file.values())
        for p in parsed:
            n = per_file.get(p.file.key, (0, 0, 0))[0]
            self.stats.rows_per_file[p.file.key] = n
            for column in p.header.missing:
                self.stats.missing_columns[column] = self.stats.missing_columns.get(column, 0) + n

    def _not_yet_ingested(self, files: list[LandedFile]) -> list[LandedFile]:
        """Drop files whose key bronze already holds, in the table or in `bronze.rejected_files`.

        The stream's checkpoint remembers files by absolute path, so in a lake copied or moved elsewhere
        (or after a lost checkpoint) it offers every file again; bronze's own record of keys says which
        it took. Only the partitions of the files' drop dates are read: nothing, on a normal new day."""
        if not files:
            return files
        table, lake = self.source.table, self.ctx.lake
        dates = sorted({f.source_date for f in files})
        keys = {f.key for f in files}
        known: set[str] = set()
        if lake.exists(table):
            known |= {
                r[0]
                for r in lake.read(table)
                .filter(F.col("_source_date").isin(dates) & F.col("_source_file").isin(sorted(keys)))
                .select("_source_file")
                .distinct()
                .collect()
            }
        with _REJECTED_LOCK:
            rejected = lake.exists(REJECTED_TABLE)
        if rejected:
            known |= {
                r[0]
                for r in lake.read(REJECTED_TABLE)
                .filter((F.col("source") == self.source.name) & F.col("file").isin(sorted(keys)))
                .select("file")
                .collect()
            }
        self.stats.already_ingested.extend(sorted(keys & known))
        return [f for f in files if f.key not in known]

    def _counts(
        self, parsed: list[Parsed], ingested_at: datetime | None = None
    ) -> dict[str, tuple[int, int, int]]:
        """Rows, corrupt records and those of them with invalid UTF-8, per file, read back from what this
        batch committed (two columns of the batch's own partitions) instead of caching the parsed batch
        (a cache of 2.5M customers would double the driver's memory). Without `ingested_at`: what a
        killed run committed of the batch's files (a file's key is in bronze once)."""
        dates = sorted({p.file.source_date for p in parsed})
        mine = (
            (F.col("_run_id") == self.ctx.run_id)
            & (F.col("_ingested_at") == F.lit(ingested_at.isoformat(sep=" ")).cast("timestamp_ntz"))
            if ingested_at is not None
            else F.col("_source_file").isin(sorted(p.file.key for p in parsed))
        )
        written = (
            self.ctx.lake.read(self.source.table)
            .filter(F.col("_source_date").isin(dates))
            .filter(mine)
            .groupBy("_source_file")
            .agg(
                F.count(F.lit(1)).alias("rows"),
                F.count("_corrupt_record").alias("corrupt"),
                F.count_if(F.col("_corrupt_record").contains(REPLACEMENT)).alias("utf8"),
            )
        )
        return {r["_source_file"]: (r["rows"], r["corrupt"], r["utf8"]) for r in written.collect()}

    def _note_shape(self, p: Parsed) -> None:
        if p.header.extras:
            self.stats.extra_columns[p.file.key] = [name for _, name in p.header.extras]
        if p.header.reordered:
            self.stats.reordered_files.append(p.file.key)

    def _reject(self, rejections: list[Rejection], batch_id: int, detected_at: datetime) -> None:
        if not rejections:
            return
        for r in rejections:
            self.stats.rejected.append({"file": r.file.key, "reason": r.reason})
            if r.empty:
                self.stats.empty.append(r.file.key)
        rows = [(self.source.name, r.file.key, r.reason, self.ctx.run_id, detected_at) for r in rejections]
        with _REJECTED_LOCK:  # the streams run side by side and share this table
            self.ctx.lake.append(
                REJECTED_TABLE,
                self.ctx.spark.createDataFrame(rows, REJECTED_SCHEMA),
                txn=Txn(f"{REJECTED_TABLE}:{self.app_id}", batch_id),
            )
