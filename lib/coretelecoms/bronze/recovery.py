"""Record boundaries a stray quote cannot erase, record numbers, and one rule for invalid UTF-8.

Spark parses a CSV file with `multiLine` (quoted addresses span lines), so a quote that is opened and
never closed (`2,"C2,u2,...`) makes everything up to the next quote, often the rest of the file, one
malformed record: the records after it vanish into its `_corrupt_record`. The source's line structure is
known, so bronze finds the boundaries again: a malformed record whose raw text spans lines is cut into
physical records by the quote rule (a newline ends a record unless an odd number of quotes is open), where
a span of lines is taken as one record only if its quotes balance within `MAX_SPAN` lines and it has the
file's width (see `_number_and_split` for a stray quote that a later quote closes). Every piece is
then parsed again by Spark's own CSV parser (`from_csv`, same options), so a recovered record is exactly what it would have been without the stray quote, and the line that opened the
quote is one malformed record. Records = bronze rows, exactly, with no line lost or counted twice.

`_source_record` is numbered here too, in file order (one file is one partition), after the cut.

Invalid UTF-8: Spark's decoder turns each invalid byte sequence into U+FFFD. A record holding U+FFFD in
any field is kept in `_corrupt_record` (its fields joined again as CSV, the replacement characters
included), so silver quarantines it under `record_parsed` instead of loading a damaged value; the rest of
the file loads. A source never sends U+FFFD on purpose, so a valid one is treated the same way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from functools import partial

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

MAX_SPAN = 8  # lines one record may span (addresses take two or three)
REPLACEMENT = "\ufffd"
LINE = "_line"


def _fields(text: str) -> int | None:
    """The field count of `text` if it is exactly one well-formed CSV record, else None."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        return None
    return len(rows[0]) if len(rows) == 1 else None


def split_records(text: str, width: int) -> list[str]:
    """The physical records in the raw text of one malformed multi-line record (blank lines dropped)."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    pieces: list[str] = []
    i = 0
    while i < len(lines):
        if not lines[i]:
            i += 1
            continue
        end = i
        if lines[i].count('"') % 2:  # an open quote: the record goes on to where its quotes balance
            quotes = lines[i].count('"')
            for j in range(i + 1, min(i + MAX_SPAN, len(lines))):
                quotes += lines[j].count('"')
                if quotes % 2 == 0:
                    if _fields("\n".join(lines[i : j + 1])) == width:
                        end = j
                    break
        pieces.append("\n".join(lines[i : end + 1]))
        i = end + 1
    return pieces


def _number_and_split(batches: Iterator[pa.RecordBatch], width: int, schema: pa.Schema):
    """Runs in the Python worker over one file's partition, in order: numbers the records, and cuts a
    malformed multi-line record into the records it swallowed (each left in `_line` for `from_csv`).

    Where the swallowing quote was closed by a later record's opening quote, Spark's record ends in the
    middle of that record and the rest of it is Spark's next (malformed) record; so a malformed multi-line
    record and the malformed records right after it are cut as one text."""
    number = 0
    group: list[str] = []  # raw texts of the malformed records being joined
    names = [f.name for f in schema]

    def cut() -> list[dict]:
        pieces = split_records("\n".join(group), width)
        group.clear()
        return [{**dict.fromkeys(names), LINE: piece} for piece in pieces]

    def numbered(rows: list[dict]) -> pa.RecordBatch:
        nonlocal number
        for row in rows:
            number += 1
            row["_source_record"] = number
        return pa.RecordBatch.from_pylist(rows, schema=schema)

    for batch in batches:
        corrupt = batch.column("_corrupt_record")
        swallowed = pc.fill_null(pc.match_substring(corrupt, "\n"), False)
        if not group and not pc.any(swallowed).as_py():
            numbers = pa.array(range(number + 1, number + batch.num_rows + 1), pa.int64())
            number += batch.num_rows
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, pa.nulls(batch.num_rows, pa.string()), numbers], schema=schema
            )
            continue
        rows: list[dict] = []
        for row, multi in zip(batch.to_pylist(), swallowed.to_pylist(), strict=True):
            if multi or (group and row["_corrupt_record"] is not None):
                group.append(row["_corrupt_record"])
                continue
            if group:
                rows.extend(cut())
            rows.append({**row, LINE: None})
        yield numbered(rows)
    if group:
        yield numbered(cut())


def recover_records(df: DataFrame, width: int, options: dict[str, str]) -> DataFrame:
    """`df` (one file's `c0..c{width-1}`, `_corrupt_record`, as Spark parsed it) with swallowed records
    recovered, invalid UTF-8 flagged and `_source_record` added."""
    out = T.StructType(
        [
            *df.schema.fields,
            T.StructField(LINE, T.StringType()),
            T.StructField("_source_record", T.LongType()),
        ]
    )
    arrow = pa.schema(
        [pa.field(f.name, pa.int64() if f.name == "_source_record" else pa.string()) for f in out]
    )
    cut = df.mapInArrow(partial(_number_and_split, width=width, schema=arrow), out)
    ddl = ", ".join(f"`{f.name}` STRING" for f in df.schema.fields)
    parsed = F.from_csv(F.col(LINE), ddl, options)
    again = cut.select(
        *[
            F.when(F.col(LINE).isNull(), F.col(f.name)).otherwise(parsed[f.name]).alias(f.name)
            for f in df.schema.fields
        ],
        "_source_record",
    )
    values = [f"c{i}" for i in range(width)]
    return again.withColumn(
        "_corrupt_record",
        F.when(
            F.col("_corrupt_record").isNull() & F.concat_ws("", *values).contains(REPLACEMENT),
            F.to_csv(F.struct(*[F.col(c) for c in values]), {"escape": '"'}),
        ).otherwise(F.col("_corrupt_record")),
    )
