"""The three silver complaint tables in one shape, the input of every complaint fact.

A complaint is identified across channels by (channel, source id); its request time is the call's start
time or the request date of a web form or social post.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from coretelecoms.gold.schema import DATE, INT, TS, D, L, S, conform, struct


@dataclass(frozen=True)
class ComplaintSource:
    channel: str
    table: str
    id_column: str
    request_column: str


SOURCES = (
    ComplaintSource("call", "silver.call_logs", "call_id", "call_start_time"),
    ComplaintSource("social", "silver.social_complaints", "complaint_id", "request_date"),
    ComplaintSource("web", "silver.web_complaints", "request_id", "request_date"),
)
BY_CHANNEL = {s.channel: s for s in SOURCES}

COMPLAINT = struct(
    ("channel", S),
    ("source_complaint_id", S),
    ("customer_id", S),
    ("agent_id", INT),
    ("complaint_category", S),
    ("resolution_status", S),
    ("platform", S),
    ("request_time", TS),
    ("resolved_at", TS),
    ("resolution_hours", D),
    ("call_duration_seconds", INT),
    ("drop_date", DATE),
    ("_source_file", S),
    ("_source_record", L),
    ("_source_date", DATE),
)


def _optional(df: DataFrame, column: str):
    return F.col(column) if column in df.columns else F.lit(None)


def conform_complaints(silver: DataFrame, channel: str, keep: tuple[str, ...] = ()) -> DataFrame:
    """Rows of one silver complaint table (or its change feed) -> the unified complaint shape, plus the
    `keep` columns as they are (a change feed's `_change_type` and `_commit_version`)."""
    src = BY_CHANNEL[channel]
    out = silver.select(
        F.lit(channel).alias("channel"),
        F.col(src.id_column).alias("source_complaint_id"),
        "customer_id",
        "agent_id",
        "complaint_category",
        "resolution_status",
        _optional(silver, "media_channel").alias("platform"),
        F.col(src.request_column).alias("request_time"),
        "resolved_at",
        "resolution_hours",
        _optional(silver, "call_duration_seconds").alias("call_duration_seconds"),
        "drop_date",
        "_source_file",
        "_source_record",
        "_source_date",
        *keep,
    )
    return conform(out, COMPLAINT, keep=keep)
