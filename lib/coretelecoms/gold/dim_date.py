"""`gold.dim_date`: whole calendar years covering every date a fact refers to, plus the unknown date (-1).

Whole years keep the dimension stable: it only grows when a fact brings a date from a new year.
`day_of_week` is ISO (1 = Monday … 7 = Sunday) and so is `week_of_year`.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from coretelecoms.gold.keys import UNKNOWN_KEY, date_key
from coretelecoms.gold.schema import DIM_DATE, conform

FACT_DATE_COLUMNS = ("request_time", "resolved_at", "drop_date")


def calendar(spark: SparkSession, first_year: int, last_year: int) -> DataFrame:
    days = spark.sql(
        f"SELECT explode(sequence(DATE'{first_year:04d}-01-01', DATE'{last_year:04d}-12-31', INTERVAL 1 DAY)) AS date"
    )
    iso_dow = ((F.dayofweek("date") + 5) % 7) + 1
    out = (
        days.withColumn("date_key", date_key("date"))
        .withColumn("year", F.year("date"))
        .withColumn("quarter", F.quarter("date"))
        .withColumn("month", F.month("date"))
        .withColumn("month_name", F.date_format("date", "MMMM"))
        .withColumn("day", F.dayofmonth("date"))
        .withColumn("day_of_week", iso_dow)
        .withColumn("day_name", F.date_format("date", "EEEE"))
        .withColumn("week_of_year", F.weekofyear("date"))
        .withColumn("is_weekend", iso_dow >= 6)
    )
    return conform(out, DIM_DATE)


def unknown_date(spark: SparkSession) -> DataFrame:
    row = {f.name: None for f in DIM_DATE.fields}
    row |= {"date_key": UNKNOWN_KEY, "month_name": "Unknown", "day_name": "Unknown"}
    return spark.createDataFrame([tuple(row[f.name] for f in DIM_DATE.fields)], DIM_DATE)


def build_dim_date(spark: SparkSession, first_year: int, last_year: int) -> DataFrame:
    return unknown_date(spark).unionByName(calendar(spark, first_year, last_year))


def year_span(facts: DataFrame) -> DataFrame:
    """One row: the first and last year (within 1900–2199) of any date in the facts."""
    years = [F.year(F.col(c)) for c in FACT_DATE_COLUMNS]
    valid = [F.when(y.between(1900, 2199), y) for y in years]
    return facts.agg(
        F.least(*[F.min(v) for v in valid]).alias("first_year"),
        F.greatest(*[F.max(v) for v in valid]).alias("last_year"),
    )
