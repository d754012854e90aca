"""`gold.dim_agent`: SCD2 on experience and state, so a complaint is credited to the agent as they were then.

The unknown member is `agent_sk = -1`, `agent_id = -1`.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from coretelecoms.gold.dim_customer import observed_date
from coretelecoms.gold.keys import HIGH_TIME, LOW_TIME, UNKNOWN_KEY
from coretelecoms.gold.scd2 import scd2_versions, single_versions
from coretelecoms.gold.schema import DIM_AGENT, conform

KEY, SK = "agent_id", "agent_sk"
TRACKED = ["experience", "state_name", "state_code"]
ATTRIBUTES = ["name", "experience", "state_name", "state_code"]
LINEAGE = ["_source_file", "_source_record", "_source_date"]
CARRIED = ATTRIBUTES + LINEAGE


def agent_points(silver: DataFrame) -> DataFrame:
    order = F.col("_order") if "_order" in silver.columns else F.lit(0).cast("long")
    return silver.select(
        F.col(KEY).cast("int").alias(KEY), *CARRIED, observed_date().alias("_observed"), order.alias("_order")
    )


def build_dim_agent(points: DataFrame, single: bool = False) -> DataFrame:
    versions = (
        single_versions(points, KEY, SK, CARRIED)
        if single
        else scd2_versions(points, KEY, SK, TRACKED, CARRIED)
    )
    return conform(versions, DIM_AGENT)


def unknown_agent(spark: SparkSession) -> DataFrame:
    row = {f.name: None for f in DIM_AGENT.fields}
    row |= {
        "agent_sk": UNKNOWN_KEY,
        "agent_id": UNKNOWN_KEY,
        "name": "Unknown agent",
        "experience": "Unknown",
        "valid_from": LOW_TIME,
        "valid_to": HIGH_TIME,
        "is_current": True,
    }
    return spark.createDataFrame([tuple(row[f.name] for f in DIM_AGENT.fields)], DIM_AGENT)
