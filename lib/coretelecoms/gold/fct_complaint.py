"""`gold.fct_complaint`: one row per complaint across the call centre, social media and the web form.

- `complaint_sk` = xxhash64(channel, source id): stable across runs and rebuilds.
- `customer_sk` / `agent_sk` are point in time: the dimension version valid at the request time
  (`valid_from <= request_time < valid_to`); a complaint without a request time takes the current version.
  A member not known yet gives -1, and the fact is repointed when the member arrives (`repoint`).
- `resolution_hours` comes from silver (request to resolution); `is_resolved` is status = Resolved;
  `sla_met` is true only for a complaint resolved within 72 hours (still-open complaints count as not met).
- `customer_id` / `agent_id` stay on the fact as the natural keys repointing needs; `_source_file`,
  `_source_record`, `_source_date` and `source_complaint_id` lead back to silver, bronze and the landed file.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from coretelecoms.gold.dim_channel import channel_key
from coretelecoms.gold.dim_complaint_category import category_key
from coretelecoms.gold.keys import RESOLVED, SLA_HOURS, UNKNOWN_KEY, date_key, surrogate_key
from coretelecoms.gold.schema import FCT_COMPLAINT, conform


def point_in_time(
    facts: DataFrame,
    dim: DataFrame,
    natural: str,
    sk: str,
    *,
    time_column: str = "request_time",
    broadcast: bool = False,
) -> DataFrame:
    """Set `sk` to the version of `dim` valid at `time_column` for the fact's `natural` key, else -1."""
    versions = dim.filter(F.col(sk) != UNKNOWN_KEY).select(
        F.col(natural).alias("_pit_nk"),
        F.col(sk).alias("_pit_sk"),
        F.col("valid_from").alias("_pit_from"),
        F.col("valid_to").alias("_pit_to"),
        F.col("is_current").alias("_pit_current"),
    )
    if broadcast:
        versions = F.broadcast(versions)
    at = F.col(time_column)
    valid = ((at >= F.col("_pit_from")) & (at < F.col("_pit_to"))) | (at.isNull() & F.col("_pit_current"))
    joined = facts.drop(sk).join(versions, (F.col(natural) == F.col("_pit_nk")) & valid, "left")
    return joined.withColumn(sk, F.coalesce(F.col("_pit_sk"), F.lit(UNKNOWN_KEY)).cast("long")).drop(
        "_pit_nk", "_pit_sk", "_pit_from", "_pit_to", "_pit_current"
    )


def build_facts(complaints: DataFrame, dim_customer: DataFrame, dim_agent: DataFrame) -> DataFrame:
    """Unified complaints (`complaints.COMPLAINT`) -> fact rows."""
    resolved = F.coalesce(F.col("resolution_status") == RESOLVED, F.lit(False))
    facts = point_in_time(complaints, dim_customer, "customer_id", "customer_sk")
    facts = point_in_time(facts, dim_agent, "agent_id", "agent_sk", broadcast=True)
    facts = (
        facts.withColumn("complaint_sk", surrogate_key("channel", "source_complaint_id"))
        .withColumn("channel_key", channel_key(F.col("channel"), F.col("platform")))
        .withColumn("category_key", category_key(F.col("complaint_category")))
        .withColumn("request_date_key", date_key("request_time"))
        .withColumn("resolution_date_key", date_key("resolved_at"))
        .withColumn("is_resolved", resolved)
        .withColumn("sla_met", resolved & F.coalesce(F.col("resolution_hours") <= SLA_HOURS, F.lit(False)))
    )
    return conform(facts, FCT_COMPLAINT)


def repoint(facts: DataFrame, dim: DataFrame, natural: str, sk: str, *, broadcast: bool = False) -> DataFrame:
    """Existing fact rows with `sk` recomputed against the dimension as it is now."""
    return conform(point_in_time(facts, dim, natural, sk, broadcast=broadcast), FCT_COMPLAINT)
