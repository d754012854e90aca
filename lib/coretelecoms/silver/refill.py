"""A column a delivery lacks means "not delivered", not NULL: the value it had before is carried forward.

Bronze names, per row, the contract columns its file lacked (`_missing_columns`). Before cleaning, each such
raw column takes the value the same key last had: from an earlier row of the same batch that delivered
it, else rendered back to raw text from the stored silver row of the same name (a timestamp as
`YYYY-MM-DD HH:MM:SS`, the shape the sources deliver). Cleaning then derives everything from it as for a
delivered value (a web form's `resolution_date` gives `resolved_at` and `resolution_hours` again), so
newest-drop-wins keeps what earlier drops said. A column with no stored counterpart of its name stays NULL.
The rows are counted by the warn rule `all_columns_delivered`.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from coretelecoms.quality.rules import Rule
from coretelecoms.silver.latest import ORDER

MISSING = "_missing_columns"
RAW_KEY = "_raw_key"

DELIVERED = Rule(
    name="all_columns_delivered",
    expr=f"{MISSING} IS NULL",
    action="warn",
    description="the row's file had every contract column (a missing one keeps the stored value)",
)


def with_missing(df: DataFrame) -> DataFrame:
    """Bronze tables written before `_missing_columns` existed: every column was delivered."""
    if MISSING in df.columns:
        return df
    return df.withColumn(MISSING, F.lit(None).cast(T.ArrayType(T.StringType())))


def missing_columns(df: DataFrame) -> list[str]:
    """The columns some row of `df` lacks (one narrow pass; nothing, on a normal day)."""
    rows = df.filter(F.col(MISSING).isNotNull()).select(F.explode(MISSING)).distinct().collect()
    return sorted(r[0] for r in rows)


def _raw_text(c: Column, dtype: T.DataType) -> Column:
    if isinstance(dtype, T.TimestampNTZType | T.TimestampType):
        return F.date_format(c, "yyyy-MM-dd HH:mm:ss")
    if isinstance(dtype, T.DateType):
        return F.date_format(c, "yyyy-MM-dd")
    return c.cast("string")


def refill(
    df: DataFrame, stored: DataFrame | None, raw_key: Column, key: str, columns: list[str]
) -> DataFrame:
    """`columns` of rows whose file lacked them, from the key's previous value (see the module doc).

    `raw_key` computes from the raw row the key `stored` (the silver table, or None) is keyed by."""
    df = df.withColumn(RAW_KEY, raw_key)
    keep = [c for c in columns if stored is not None and c in stored.columns and c != key]
    if keep:
        wanted = df.filter(F.col(MISSING).isNotNull()).select(F.col(RAW_KEY).alias(key)).distinct()
        prior = stored.join(F.broadcast(wanted), key, "left_semi").select(
            F.col(key).alias(RAW_KEY),
            *[_raw_text(F.col(c), stored.schema[c].dataType).alias(f"_stored_{c}") for c in keep],
        )
        df = df.join(F.broadcast(prior), RAW_KEY, "left")
    earlier = Window.partitionBy(RAW_KEY).orderBy(*ORDER).rowsBetween(Window.unboundedPreceding, -1)
    for c in columns:
        lacks = F.coalesce(F.array_contains(MISSING, c), F.lit(False))
        # The struct is non-NULL whenever the row delivered the column, even a NULL value.
        delivered = F.last(F.when(~lacks, F.struct(F.col(c).alias("v"))), ignorenulls=True).over(earlier)
        fallback = F.col(f"_stored_{c}") if c in keep else F.lit(None).cast("string")
        df = df.withColumn(
            c,
            F.when(lacks, F.when(delivered.isNotNull(), delivered["v"]).otherwise(fallback)).otherwise(
                F.col(c)
            ),
        )
    return df.drop(RAW_KEY, *[f"_stored_{c}" for c in keep])
