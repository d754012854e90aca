"""What the three complaint channels share: conformed ids and domains, resolution figures, orphan flags,
and the status history.

A complaint references one customer and one agent. A reference silver does not know is not a reason to
lose the complaint: it is kept with `customer_known` / `agent_known` = false (late members are resolved in
gold), or quarantined when the table's rule file says `on_orphan: quarantine`.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from coretelecoms.silver.conform import (
    CATEGORIES,
    RESOLVED,
    STATUSES,
    canonical,
    hours_between,
    ntz,
    parse_drop_date,
    parse_int,
    parse_timestamp,
    text,
)
from coretelecoms.silver.latest import EXISTS, current, newer

HISTORY_TABLE = "silver.complaint_status_history"
HISTORY_COLUMNS = (
    "complaint_id",
    "channel",
    "old_status",
    "new_status",
    "drop_date",
    "_source_file",
    "_source_record",
    "_run_id",
    "changed_at",
)


def with_complaint_columns(key: str, generation_date: str):
    """`df.transform(with_complaint_columns("call_id", "call_logs_generation_date"))`.

    The key keeps its case (complaint ids are opaque, mixed case); customer ids are lower-case UUIDs;
    agent ids integers; category and status canonical; `drop_date` is the generation date."""

    def transform(df: DataFrame) -> DataFrame:
        return df.withColumns(
            {
                key: text(key),
                "customer_id": F.lower(text("customer_id")),
                "agent_id": parse_int("agent_id"),
                "complaint_category": canonical("complaint_category", CATEGORIES),
                "resolution_status": canonical("resolution_status", STATUSES),
                "drop_date": parse_drop_date(generation_date),
            }
        )

    return transform


def with_request_times(df: DataFrame) -> DataFrame:
    """Request and resolution dates parsed to TIMESTAMP_NTZ (an empty resolution date is NULL)."""
    return df.withColumns(
        {
            "request_date": parse_timestamp("request_date"),
            "resolution_date": parse_timestamp("resolution_date"),
        }
    )


def with_resolution(requested: str, resolved: str):
    """`resolved_at` = the resolution time only when Resolved; `resolution_hours` from request to it."""

    def transform(df: DataFrame) -> DataFrame:
        resolved_at = F.when(F.col("resolution_status") == RESOLVED, F.col(resolved))
        return df.withColumns(
            {"resolved_at": resolved_at, "resolution_hours": hours_between(requested, resolved_at)}
        )

    return transform


def flag_known(customers: DataFrame, agents: DataFrame, repeats: bool = True):
    """`customer_known` / `agent_known`: does the reference exist among the given dimension keys?

    `customers` has one column `customer_id`, `agents` one column `agent_id` (the dimension keys after
    this run's updates). `repeats=False` says no key appears twice (silver's keys alone, no new snapshot
    beside them), so the keys found need no DISTINCT, which is a shuffle."""

    def unique(df: DataFrame) -> DataFrame:
        return df.distinct() if repeats else df

    def transform(df: DataFrame) -> DataFrame:
        # A day references a few hundred thousand customers out of millions: find those among the
        # dimension keys with a broadcast semi-join (a scan of one column), and broadcast the result
        # back, so neither the wide batch nor the dimension is shuffled.
        wanted = df.select(F.col("customer_id").alias("_known_customer")).distinct()
        c = unique(
            customers.select(F.col("customer_id").alias("_known_customer")).join(
                F.broadcast(wanted), "_known_customer", "left_semi"
            )
        )
        a = unique(agents.select(F.col("agent_id").alias("_known_agent")))
        return (
            df.join(F.broadcast(c), df["customer_id"] == c["_known_customer"], "left")
            .join(F.broadcast(a), df["agent_id"] == a["_known_agent"], "left")
            .withColumns(
                {
                    "customer_known": F.col("_known_customer").isNotNull(),
                    "agent_known": F.col("_known_agent").isNotNull(),
                }
            )
            .drop("_known_customer", "_known_agent")
        )

    return transform


HISTORY_FLAG = "_history"


def history_flags(key: str, window) -> dict:
    """Columns marking the rows that go to `silver.complaint_status_history`, computed over `window`.

    `window` orders each complaint's accepted rows of this batch newest first (`latest.ORDER`), each row
    with the current silver row of its key beside it (`latest.with_current(..., carry={"resolution_status":
    ...})`). The rows newer than the silver row are news; a news row is recorded when its status differs
    from the status before it (the next older batch row's, or for the oldest news row the silver row's).
    A complaint silver has never seen records its first status with `old_status` NULL, so the history
    holds every status silver recorded, transitions included.

    Rows of the drop silver's row came from (a re-delivered file, a re-exported table) replace that drop:
    only the newest of them counts, against the silver row, so an identical re-delivery with an in-file
    duplicate does not replay its transitions (Blocked->Backlog->Blocked). They are the oldest news rows."""
    is_news = F.coalesce(F.col(EXISTS).isNull() | F.expr(newer("", "_t")), F.lit(False))
    redelivered = is_news & F.coalesce(F.col("_source_date") == F.col(current("_source_date")), F.lit(False))
    skipped = redelivered & F.coalesce(F.lag(redelivered).over(window), F.lit(False))
    older_redelivered = F.coalesce(F.lead(redelivered).over(window), F.lit(False))
    oldest_news = ~F.coalesce(F.lead(is_news).over(window), F.lit(False)) | (redelivered & older_redelivered)
    previous = F.when(oldest_news, F.col(current("resolution_status"))).otherwise(
        F.lead("resolution_status").over(window)
    )
    had_previous = F.when(oldest_news, F.col(EXISTS).isNotNull()).otherwise(F.lit(True))
    changed = ~had_previous | ~previous.eqNullSafe(F.col("resolution_status"))
    return {
        "_old_status": F.when(had_previous, previous),
        HISTORY_FLAG: is_news & ~skipped & changed,
    }


def status_history(rows: DataFrame, key: str, channel: str, run_id: str, at: datetime) -> DataFrame:
    """The rows `history_flags` marked -> rows of `silver.complaint_status_history`."""
    return rows.filter(F.col(HISTORY_FLAG)).select(
        F.col(key).alias("complaint_id"),
        F.lit(channel).alias("channel"),
        F.col("_old_status").alias("old_status"),
        F.col("resolution_status").alias("new_status"),
        F.coalesce(F.col("drop_date"), F.col("_source_date")).alias("drop_date"),
        F.col("_source_file"),
        F.col("_source_record").cast("long").alias("_source_record"),
        F.lit(run_id).alias("_run_id"),
        ntz(at).alias("changed_at"),
    )
