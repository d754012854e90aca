"""`gold.fct_complaint_lifecycle`: an accumulating snapshot, one row per complaint, one column per milestone.

Milestones are drop dates: `first_<status>_date` is the first drop on which the complaint was seen in
that status, read from `silver.complaint_status_history` (every status silver recorded, with its drop
date) and the complaint's current silver row. Day counts between milestones are NULL when a milestone
is missing or came out of order. `days_open` runs from the request date to the resolution date (the
resolution time, or the first drop seen Resolved) or, while open, to `last_seen_date` (the last drop that
carried the complaint). A row therefore changes only when its complaint does: the table is maintained by
upserting the day's changed complaints, and a publish ships only those. The age of an open complaint as of
a given day is `that day - request date`; the risk mart computes it as of its run date.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from coretelecoms.gold.keys import RESOLVED, surrogate_key
from coretelecoms.gold.schema import FCT_COMPLAINT_LIFECYCLE, conform

MILESTONES = {
    "first_backlog_date": "Backlog",
    "first_in_progress_date": "In-Progress",
    "first_blocked_date": "Blocked",
    "first_resolved_date": "Resolved",
}


def history_observations(history: DataFrame) -> DataFrame:
    """silver.complaint_status_history -> (complaint_sk, status, seen_date, is_change)."""
    return history.select(
        surrogate_key("channel", "complaint_id").alias("complaint_sk"),
        F.col("new_status").alias("status"),
        F.col("drop_date").alias("seen_date"),
        (F.col("old_status").isNotNull() & (F.col("old_status") != F.col("new_status"))).alias("is_change"),
    )


def fact_observations(facts: DataFrame) -> DataFrame:
    return facts.select(
        "complaint_sk",
        F.col("resolution_status").alias("status"),
        F.col("drop_date").alias("seen_date"),
        F.lit(False).alias("is_change"),
    )


def days_between(later: str | Column, earlier: str | Column) -> Column:
    later = F.col(later) if isinstance(later, str) else later
    earlier = F.col(earlier) if isinstance(earlier, str) else earlier
    diff = F.datediff(later, earlier)
    return F.when(diff >= 0, diff)


def request_date(key: str = "request_date_key") -> Column:
    """The request date back from its YYYYMMDD key (NULL for the unknown date)."""
    return F.when(F.col(key) > 0, F.to_date(F.col(key).cast("string"), "yyyyMMdd"))


def open_days(end: Column) -> Column:
    diff = F.datediff(end, request_date())
    return F.when(diff.isNotNull(), F.greatest(diff, F.lit(0)))


def build_lifecycle(facts: DataFrame, history: DataFrame) -> DataFrame:
    """Fact rows + their status history -> lifecycle rows."""
    observed = history_observations(history).unionByName(fact_observations(facts))
    seen = F.col("seen_date")
    milestones = observed.groupBy("complaint_sk").agg(
        F.min(seen).alias("first_seen_date"),
        F.max(seen).alias("last_seen_date"),
        *[F.min(F.when(F.col("status") == status, seen)).alias(name) for name, status in MILESTONES.items()],
        F.countDistinct(F.when(F.col("is_change"), F.struct("seen_date", "status"))).alias("status_changes"),
    )
    is_open = F.coalesce(F.col("current_status") != RESOLVED, F.lit(True))
    resolved_on = F.coalesce(F.to_date("resolved_at"), F.col("first_resolved_date"))
    end = F.when(F.col("is_open"), F.col("last_seen_date")).otherwise(resolved_on)
    lifecycle = (
        facts.select(
            "complaint_sk",
            "channel",
            "request_date_key",
            F.col("resolution_status").alias("current_status"),
            "resolved_at",
        )
        .join(milestones, "complaint_sk", "left")
        .withColumn("is_open", is_open)
        .withColumn(
            "days_backlog_to_in_progress", days_between("first_in_progress_date", "first_backlog_date")
        )
        .withColumn(
            "days_in_progress_to_resolved", days_between("first_resolved_date", "first_in_progress_date")
        )
        .withColumn("days_blocked_to_resolved", days_between("first_resolved_date", "first_blocked_date"))
        .withColumn("days_seen_to_resolved", days_between("first_resolved_date", "first_seen_date"))
        .withColumn("days_open", open_days(end))
    )
    return conform(lifecycle, FCT_COMPLAINT_LIFECYCLE)
