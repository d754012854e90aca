"""Quarantined rows: the raw record as JSON, every rule it broke, where it came from, and which run put it there.

Any layer can quarantine into its own table (`silver.quarantine`); the raw record is the input row exactly
as the layer read it (for silver, the bronze row), so nothing about a rejected row is ever lost.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from coretelecoms.quality.row_rules import BROKEN

RAW = "_raw"

SCHEMA = T.StructType(
    [
        T.StructField("table_name", T.StringType()),
        T.StructField("rule_names", T.ArrayType(T.StringType())),
        T.StructField("raw_record", T.StringType()),
        T.StructField("_source_file", T.StringType()),
        T.StructField("_source_record", T.LongType()),
        T.StructField("_source_date", T.DateType()),
        T.StructField("_run_id", T.StringType()),
        T.StructField("quarantined_at", T.TimestampNTZType()),
    ]
)


def with_raw(df: DataFrame) -> DataFrame:
    """Keep the input row, every column as it arrived, in a `_raw` struct (for quarantine and raw-text rules)."""
    return df.withColumn(RAW, F.struct(*[F.col(f"`{c}`") for c in df.columns]))


def raw_json() -> Column:
    """The `_raw` row as JSON text, NULL fields kept (what `raw_record` stores)."""
    return F.to_json(F.col(RAW), {"ignoreNullFields": "false"})


def quarantine_rows(df: DataFrame, table: str, run_id: str, at: datetime) -> DataFrame:
    """Evaluated rows -> rows of the quarantine table.

    `df` has `_broken_rules` and either `_raw` or, already rendered, `raw_record`; lineage comes from
    `_source_file`, `_source_record`, `_source_date`."""
    raw = F.col("raw_record") if "raw_record" in df.columns else raw_json()
    return df.select(
        F.lit(table).alias("table_name"),
        F.col(BROKEN).alias("rule_names"),
        raw.alias("raw_record"),
        F.col("_source_file"),
        F.col("_source_record").cast("long").alias("_source_record"),
        F.col("_source_date").cast("date").alias("_source_date"),
        F.lit(run_id).alias("_run_id"),
        F.lit(at.strftime("%Y-%m-%d %H:%M:%S.%f")).cast("timestamp_ntz").alias("quarantined_at"),
    )
