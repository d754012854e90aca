"""Latest wins: the ordering rule, deduplication within a batch, and comparing incoming rows with silver.

Rows are ordered by drop date (`_source_date`), then ingest time, then record number (then file, so two
different rows never tie). Within a batch only the latest version of a key survives; against silver an
incoming row replaces the stored one only when it is newer AND its content differs, so a re-delivered or
re-ingested identical row changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import Column, DataFrame, Window, WindowSpec
from pyspark.sql import functions as F
from pyspark.sql import types as T

ORDER = ("_source_date", "_ingested_at", "_source_record", "_source_file")
ORDER_TYPES = (T.DateType(), T.TimestampNTZType(), T.LongType(), T.StringType())
EXISTS = "_t_exists"
HASH = "_hash"
RANK = "_rank"
ACTION = "_action"
INSERT, UPDATE, UNCHANGED = "insert", "update", "unchanged"


def current(column: str) -> str:
    """Name of the current silver value of `column` carried beside an incoming row."""
    return f"_t{column}" if column.startswith("_") else f"_t_{column}"


def newer(left: str = "s.", right: str = "t.") -> str:
    """SQL: the row whose columns carry prefix `left` is newer than the `right` one by the ordering rule.

    `newer("s.", "t.")` is the MERGE update condition; `newer("", "_t")` compares a row with the current
    values `with_current` put beside it."""
    la, lb, lc, ld = (f"{left}{c}" for c in ORDER)
    ra, rb, rc, rd = (f"{right}{c}" for c in ORDER)
    return (
        f"({la} > {ra} OR ({la} = {ra} AND ({lb} > {rb} OR ({lb} = {rb} AND ({lc} > {rc} OR "
        f"({lc} = {rc} AND {ld} > {rd}))))))"
    )


def distinct(columns: Iterable[str], left: str = "s.", right: str = "t.") -> str:
    """SQL: some column differs (NULL-safe) between the two rows.

    Every term is parenthesised: delta-rs's SQL parser binds IS DISTINCT FROM looser than OR."""
    return "(" + " OR ".join(f"({left}{c} IS DISTINCT FROM {right}{c})" for c in columns) + ")"


def content_hash(columns: Iterable[str]) -> Column:
    """A 64-bit fingerprint of the business columns (NULL-safe: NULL and '' hash differently).

    The typed values are hashed (no text rendering of dates and numbers); a hash skips NULLs, so which
    columns are NULL is hashed beside them."""
    columns = list(columns)
    return F.xxhash64(*[F.col(c) for c in columns], F.array(*[F.col(c).isNull() for c in columns]))


def current_state(
    silver: DataFrame, key: str, columns: Iterable[str], carry: Iterable[str] = ()
) -> DataFrame:
    """The silver table narrowed to what an incoming row is compared with: key, order, content hash."""
    return silver.select(
        F.col(key),
        F.lit(True).alias(EXISTS),
        *[F.col(c).alias(current(c)) for c in ORDER],
        content_hash(columns).alias(current(HASH)),
        *[F.col(c).alias(current(c)) for c in carry],
    )


def with_current(
    rows: DataFrame,
    state: DataFrame | None,
    key: str,
    columns: Iterable[str],
    carry: dict[str, T.DataType] = {},  # noqa: B006
) -> DataFrame:
    """Each incoming row with the current silver values of its key beside it (NULLs for a new key)."""
    rows = rows.withColumn(HASH, content_hash(columns))
    if state is not None:
        return rows.join(state, key, "left")
    nulls = [
        (EXISTS, T.BooleanType()),
        *[(current(c), t) for c, t in zip(ORDER, ORDER_TYPES, strict=True)],
        (current(HASH), T.LongType()),
        *[(current(c), t) for c, t in carry.items()],
    ]
    return rows.withColumns({name: F.lit(None).cast(dtype) for name, dtype in nulls})


def newest_first(*partition: str | Column) -> WindowSpec:
    """The rows of each partition (e.g. a key) ordered newest first by the ordering rule."""
    return Window.partitionBy(*partition).orderBy(*[F.col(c).desc_nulls_last() for c in ORDER])


def rank_latest(df: DataFrame, key: str) -> DataFrame:
    """`_rank` 1 for the latest row of each key, 2 for the one before, ..."""
    return df.withColumn(RANK, F.row_number().over(newest_first(key)))


def dedupe_latest(key: str):
    """`df.transform(dedupe_latest("call_id"))`: one row per key, the latest by the ordering rule."""

    def transform(df: DataFrame) -> DataFrame:
        return rank_latest(df, key).filter(F.col(RANK) == 1).drop(RANK)

    return transform


def with_action(df: DataFrame) -> DataFrame:
    """`_action`: insert (new key), update (newer and different), unchanged (older, or the same content)."""
    changed = F.expr(newer("", "_t")) & (F.col(HASH) != F.col(current(HASH)))
    return df.withColumn(
        ACTION,
        F.when(F.col(EXISTS).isNull(), F.lit(INSERT))
        .when(changed, F.lit(UPDATE))
        .otherwise(F.lit(UNCHANGED)),
    )
