"""Turning landed files into bronze rows: CSV through Spark, the column-oriented JSON in code.

CSV: Spark's CSV reader maps columns by position (even with `enforceSchema=false`), so each file's header
is read first (one record, in Python) and mapped by name to the contract (`contract.map_header`). The file
is then parsed by Spark with `multiLine` (quoted addresses span lines), `escape '"'`, PERMISSIVE mode and a
`_corrupt_record` column, under a positional all-text schema of the file's own width; the select that
follows puts each column under its contract name, nulls the missing ones and packs unknown ones into
`_rescued_data` JSON (`_missing_columns` names the nulled ones: not delivered, not NULL). Values stay exactly as delivered: no trimming, a quoted empty field stays `""`
(only an unquoted empty field is null).

`_source_record`: a multi-line CSV file is not splittable, so each file is read as its own single
partition, and `recovery.recover_records` numbers its records in file order (multi-line records count
once), with no shuffle or window. It also recovers the records a stray quote swallowed and flags records
with invalid UTF-8 (see there).

JSON (`{column: {"<index>": value}}`): the file is read whole (tens of MB at most) and flattened in
Python/Arrow; inner keys, in the order they first appear, become `source_index` and their position
`_source_record`. Non-string values (the numeric `agent ID`) become their JSON text. A file that is not
valid JSON (truncated) or not column-oriented is rejected as a whole.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from coretelecoms.bronze.contract import COLUMNS, HeaderMap, map_header
from coretelecoms.bronze.recovery import REPLACEMENT, recover_records
from coretelecoms.landing.store import local_path, open_uri

# Spark reads a field equal to `nullValue` as null; the default "" would turn quoted empty strings
# into nulls too. This sentinel never occurs in text, so only truly absent (unquoted empty) fields are null.
NULL_SENTINEL = "\u0000<null>\u0000"
# How a CSV record is parsed, for the file and again for a record recovered after a stray quote.
CSV_OPTIONS = {
    "escape": '"',
    "mode": "PERMISSIVE",
    "columnNameOfCorruptRecord": "_corrupt_record",
    "nullValue": NULL_SENTINEL,
}
_GLOB = str.maketrans({c: f"\\{c}" for c in "[]{}*?\\"})


@dataclass
class LandedFile:
    """One file of a micro-batch, with the lineage every row of it carries."""

    uri: str  # as the stream lists it (`file:/...` locally)
    length: int
    source_date: date
    key: str  # relative to the landing root (`landing.store.landing_key`): what `_source_file` holds

    @property
    def path(self) -> str:
        """The decoded path the file is read from (Hadoop lists paths decoded; Spark's
        `_metadata.file_path` would give `call%20logs`)."""
        return local_path(self.uri)


@dataclass
class Rejection:
    file: LandedFile
    reason: str
    empty: bool = False  # an empty or header-only file: nothing to load, nothing wrong


@dataclass
class Parsed:
    """One file's rows (lazy) plus what was learnt about its shape."""

    file: LandedFile
    frame: DataFrame
    header: HeaderMap
    rows: int | None = None  # known up front for JSON
    notes: dict = field(default_factory=dict)


def _lineage(df: DataFrame, file: LandedFile, ingested_at: datetime, run_id: str) -> DataFrame:
    return (
        df.withColumn("_source_file", F.lit(file.key))
        .withColumn("_source_date", F.lit(file.source_date))
        .withColumn("_ingested_at", F.lit(ingested_at.isoformat(sep=" ")).cast(T.TimestampNTZType()))
        .withColumn("_run_id", F.lit(run_id))
    )


def _rescued(extras: list[tuple[str, Column]]) -> Column:
    if not extras:
        return F.lit(None).cast("string")
    return F.to_json(F.struct(*[c.alias(name) for name, c in extras]), {"ignoreNullFields": "false"})


def _missing(mapping: HeaderMap) -> Column:
    """The contract columns the file lacks (NULL when none): silver keeps their stored values."""
    missing = sorted(set(mapping.missing) - {"source_index"})
    if not missing:
        return F.lit(None).cast(T.ArrayType(T.StringType()))
    return F.array(*[F.lit(c) for c in missing])


def _final(df: DataFrame, source: str, mapping: HeaderMap) -> DataFrame:
    return df.select(
        *COLUMNS[source],
        "_rescued_data",
        "_corrupt_record",
        "_source_file",
        F.col("_source_record").cast("long"),
        "_source_date",
        "_ingested_at",
        "_run_id",
        _missing(mapping).alias("_missing_columns"),
    )


# ---------------------------------------------------------------- CSV


def read_header(file: LandedFile) -> tuple[list[str] | None, bool]:
    """The first CSV record and whether any record follows it; (None, False) for a 0-byte file."""
    with open_uri(file.uri) as raw:
        # Records with invalid UTF-8 are flagged one by one later (`recovery`); only the header must be clean.
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            return None, False
        for row in reader:  # blank lines are skipped, as Spark does
            if row:
                return header, True
        return header, False


def parse_csv(
    spark: SparkSession, file: LandedFile, source: str, ingested_at: datetime, run_id: str
) -> Parsed | Rejection:
    if file.length == 0:
        return Rejection(file, "empty file", empty=True)
    try:
        header, more = read_header(file)
    except csv.Error as exc:
        return Rejection(file, f"unreadable CSV header: {exc}")
    if header is None:
        return Rejection(file, "empty file", empty=True)
    if any(REPLACEMENT in name for name in header):
        return Rejection(file, "the header is not valid UTF-8: its column names cannot be read")
    if not more:
        return Rejection(file, "empty file (header only)", empty=True)
    mapping = map_header(header, source)
    width = len(header)
    if not set(mapping.positions) - {"source_index"}:
        # A headerless export: its first record would be taken as the header and every column rescued as
        # unknown. The fields are not echoed (they are a record: names, e-mails).
        expected = ", ".join(c for c in COLUMNS[source] if c != "source_index")
        return Rejection(
            file,
            f"no header: none of the first row's {width} fields names a column of the {source} contract "
            f"(expected {expected}); a headerless export?",
        )
    schema = T.StructType(
        [T.StructField(f"c{i}", T.StringType()) for i in range(width)]
        + [T.StructField("_corrupt_record", T.StringType())]
    )
    df = (
        spark.read.schema(schema)
        .options(**CSV_OPTIONS)
        .option("header", True)
        .option("multiLine", True)
        .option("encoding", "UTF-8")
        .csv(file.path.translate(_GLOB) if "://" not in file.path else file.path)
    )
    df = recover_records(df, width, CSV_OPTIONS)
    contract = [
        (F.col(f"c{mapping.positions[c]}") if c in mapping.positions else F.lit(None).cast("string")).alias(c)
        for c in COLUMNS[source]
    ]
    df = df.select(
        *contract,
        _rescued([(name, F.col(f"c{i}")) for i, name in mapping.extras]).alias("_rescued_data"),
        "_corrupt_record",
        "_source_record",
    )
    return Parsed(file, _final(_lineage(df, file, ingested_at, run_id), source, mapping), mapping)


# ---------------------------------------------------------------- column-oriented JSON


def _text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def flatten(document: dict, source: str) -> tuple[pa.Table, HeaderMap]:
    """`{column: {index: value}}` -> an all-text Arrow table in contract order, plus the header map."""
    header = list(document)
    mapping = map_header(["source_index", *header], source)
    # positions are shifted by one: position 0 is the synthetic index column
    keys: dict[str, None] = {}
    for values in document.values():
        keys.update(dict.fromkeys(values))
    order = list(keys)
    columns: dict[str, list] = {}
    for c in COLUMNS[source]:
        if c == "source_index":
            columns[c] = order
        elif c in mapping.positions:
            values = document[header[mapping.positions[c] - 1]]
            columns[c] = [_text(values.get(k)) for k in order]
        else:
            columns[c] = [None] * len(order)
    if mapping.extras:
        extra = [(name, document[header[i - 1]]) for i, name in mapping.extras]
        columns["_rescued_data"] = [
            json.dumps({name: _text(values.get(k)) for name, values in extra}, ensure_ascii=False)
            for k in order
        ]
    else:
        columns["_rescued_data"] = [None] * len(order)
    # Invalid UTF-8 (decoded as U+FFFD): the record is kept whole, as JSON, in `_corrupt_record`
    # (the rule of `recovery` for CSV), so silver quarantines it and the rest of the file loads.
    damaged = [
        any(REPLACEMENT in (columns[c][i] or "") for c in columns if c != "source_index")
        for i in range(len(order))
    ]
    columns["_corrupt_record"] = [
        json.dumps({name: _text(values.get(k)) for name, values in document.items()}, ensure_ascii=False)
        if bad
        else None
        for k, bad in zip(order, damaged, strict=True)
    ]
    columns["_source_record"] = list(range(1, len(order) + 1))
    fields = [pa.field(c, pa.string()) for c in columns if c != "_source_record"]
    fields.append(pa.field("_source_record", pa.int64()))
    return pa.table({f.name: columns[f.name] for f in fields}, schema=pa.schema(fields)), mapping


def parse_json(
    spark: SparkSession, file: LandedFile, source: str, ingested_at: datetime, run_id: str
) -> Parsed | Rejection:
    if file.length == 0:
        return Rejection(file, "empty file", empty=True)
    with open_uri(file.uri) as fh:
        raw = fh.read().decode("utf-8-sig", errors="replace")  # bad bytes: flagged per record in `flatten`
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        return Rejection(file, f"unparseable JSON (truncated?): {exc.msg} at char {exc.pos} of {len(raw)}")
    if not isinstance(document, dict) or not all(isinstance(v, dict) for v in document.values()):
        return Rejection(file, "not column-oriented JSON: expected {column: {index: value}}")
    if any(REPLACEMENT in name for name in document):
        return Rejection(file, "the column names are not valid UTF-8: they cannot be read")
    table, mapping = flatten(document, source)
    if table.num_rows == 0:
        return Rejection(file, "empty file (no records)", empty=True)
    df = spark.createDataFrame(table)
    frame = _final(_lineage(df, file, ingested_at, run_id), source, mapping)
    return Parsed(file, frame, mapping, rows=table.num_rows)
