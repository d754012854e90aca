"""`gold.dim_complaint_category`: the four complaint categories and the area of the business each belongs to."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from coretelecoms.gold.keys import UNKNOWN_KEY
from coretelecoms.gold.schema import DIM_COMPLAINT_CATEGORY

MEMBERS = [
    (UNKNOWN_KEY, "Unknown", "Unknown"),
    (1, "Technician Support", "Field service"),
    (2, "Network Failure", "Network"),
    (3, "Router Delivery", "Logistics"),
    (4, "Payments", "Billing"),
]


def build_dim_complaint_category(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(MEMBERS, DIM_COMPLAINT_CATEGORY)


def category_key(category: Column) -> Column:
    expr = F.lit(UNKNOWN_KEY)
    for key, name, _ in reversed(MEMBERS[1:]):
        expr = F.when(category == name, F.lit(key)).otherwise(expr)
    return expr.cast("int")
