"""`gold.dim_customer`: SCD2 on name, email and address (address, state, ZIP); one version per change.

Age and tenure bands are computed as of `observed_from`, the drop date on which the version was first
seen, so a version never changes just because time passes (the risk mart ages customers as of its run
date). The first version is valid from 1900-01-01: complaints older than the customer's first sighting
still find them. The unknown member is `customer_sk = -1`, `customer_id = '-1'`.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from coretelecoms.gold.keys import HIGH_TIME, LOW_TIME, UNKNOWN_ID, UNKNOWN_KEY
from coretelecoms.gold.scd2 import scd2_versions, single_versions
from coretelecoms.gold.schema import DIM_CUSTOMER, conform

KEY, SK = "customer_id", "customer_sk"
TRACKED = ["name", "email", "address", "state_code", "zip_code", "state_name"]
ATTRIBUTES = [
    "name",
    "gender",
    "date_of_birth",
    "signup_date",
    "email",
    "email_is_valid",
    "address",
    "state_code",
    "zip_code",
    "state_name",
]
LINEAGE = ["_source_file", "_source_record", "_source_date"]
CARRIED = ATTRIBUTES + LINEAGE


def observed_date() -> Column:
    """The drop date a silver row was seen on (its lineage date; the update time if that is missing)."""
    return F.coalesce(F.col("_source_date"), F.to_date("_updated_at"))


def customer_points(silver: DataFrame) -> DataFrame:
    """Silver rows or change-feed states -> SCD2 points (`_order` is the commit version when present)."""
    order = F.col("_order") if "_order" in silver.columns else F.lit(0).cast("long")
    return silver.select(KEY, *CARRIED, observed_date().alias("_observed"), order.alias("_order"))


def age_band(age: Column) -> Column:
    return (
        F.when(age.isNull(), "Unknown")
        .when(age < 25, "under 25")
        .when(age < 35, "25-34")
        .when(age < 45, "35-44")
        .when(age < 55, "45-54")
        .when(age < 65, "55-64")
        .otherwise("65+")
    )


def tenure_band(years: Column) -> Column:
    return (
        F.when(years.isNull() | (years < 0), "Unknown")
        .when(years < 1, "under 1 year")
        .when(years < 3, "1-2 years")
        .when(years < 6, "3-5 years")
        .when(years < 11, "6-10 years")
        .otherwise("over 10 years")
    )


def whole_years(since: str, until: str) -> Column:
    return F.floor(F.months_between(F.col(until), F.col(since)) / 12).cast("int")


def with_bands(versions: DataFrame) -> DataFrame:
    return versions.withColumn(
        "age_band", age_band(whole_years("date_of_birth", "observed_from"))
    ).withColumn("tenure_band", tenure_band(whole_years("signup_date", "observed_from")))


def build_dim_customer(points: DataFrame, single: bool = False) -> DataFrame:
    """SCD2 points -> dimension rows (without the unknown member). `single`: one point per member."""
    versions = (
        single_versions(points, KEY, SK, CARRIED)
        if single
        else scd2_versions(points, KEY, SK, TRACKED, CARRIED)
    )
    return conform(with_bands(versions), DIM_CUSTOMER)


def unknown_customer(spark: SparkSession) -> DataFrame:
    row = {f.name: None for f in DIM_CUSTOMER.fields}
    row |= {
        "customer_sk": UNKNOWN_KEY,
        "customer_id": UNKNOWN_ID,
        "name": "Unknown customer",
        "age_band": "Unknown",
        "tenure_band": "Unknown",
        "valid_from": LOW_TIME,
        "valid_to": HIGH_TIME,
        "is_current": True,
    }
    return spark.createDataFrame([tuple(row[f.name] for f in DIM_CUSTOMER.fields)], DIM_CUSTOMER)
