"""Column contracts of the gold tables: one StructType per table, conformed on every write.

Every transform ends with `conform(df, SCHEMA)`, so an incremental batch and a rebuild write the same
columns in the same order with the same types, and the quality gate and the publisher can rely on them.
The audit columns `_run_id` and `_updated_at` are added on write (`with_audit`).
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

S, INT, L, D, B, DATE, TS = (
    T.StringType(),
    T.IntegerType(),
    T.LongType(),
    T.DoubleType(),
    T.BooleanType(),
    T.DateType(),
    T.TimestampNTZType(),
)


def struct(*fields: tuple[str, T.DataType]) -> T.StructType:
    return T.StructType([T.StructField(name, dtype) for name, dtype in fields])


LINEAGE = [("_source_file", S), ("_source_record", L), ("_source_date", DATE)]
AUDIT = [("_run_id", S), ("_updated_at", TS)]

DIM_CUSTOMER = struct(
    ("customer_sk", L),
    ("customer_id", S),
    ("name", S),
    ("gender", S),
    ("date_of_birth", DATE),
    ("signup_date", DATE),
    ("email", S),
    ("email_is_valid", B),
    ("address", S),
    ("state_code", S),
    ("zip_code", S),
    ("state_name", S),
    ("age_band", S),
    ("tenure_band", S),
    ("observed_from", DATE),
    ("valid_from", TS),
    ("valid_to", TS),
    ("is_current", B),
    *LINEAGE,
)

DIM_AGENT = struct(
    ("agent_sk", L),
    ("agent_id", INT),
    ("name", S),
    ("experience", S),
    ("state_name", S),
    ("state_code", S),
    ("observed_from", DATE),
    ("valid_from", TS),
    ("valid_to", TS),
    ("is_current", B),
    *LINEAGE,
)

DIM_DATE = struct(
    ("date_key", INT),
    ("date", DATE),
    ("year", INT),
    ("quarter", INT),
    ("month", INT),
    ("month_name", S),
    ("day", INT),
    ("day_of_week", INT),
    ("day_name", S),
    ("week_of_year", INT),
    ("is_weekend", B),
)

DIM_CHANNEL = struct(("channel_key", INT), ("channel", S), ("channel_name", S), ("platform", S))

DIM_COMPLAINT_CATEGORY = struct(("category_key", INT), ("complaint_category", S), ("category_area", S))

FCT_COMPLAINT = struct(
    ("complaint_sk", L),
    ("channel", S),
    ("source_complaint_id", S),
    ("customer_id", S),
    ("agent_id", INT),
    ("customer_sk", L),
    ("agent_sk", L),
    ("channel_key", INT),
    ("category_key", INT),
    ("request_date_key", INT),
    ("resolution_date_key", INT),
    ("request_time", TS),
    ("resolved_at", TS),
    ("resolution_status", S),
    ("is_resolved", B),
    ("call_duration_seconds", INT),
    ("resolution_hours", D),
    ("sla_met", B),
    ("drop_date", DATE),
    *LINEAGE,
)

FCT_COMPLAINT_LIFECYCLE = struct(
    ("complaint_sk", L),
    ("channel", S),
    ("request_date_key", INT),
    ("current_status", S),
    ("is_open", B),
    ("first_seen_date", DATE),
    ("last_seen_date", DATE),
    ("first_backlog_date", DATE),
    ("first_in_progress_date", DATE),
    ("first_blocked_date", DATE),
    ("first_resolved_date", DATE),
    ("status_changes", INT),
    ("days_backlog_to_in_progress", INT),
    ("days_in_progress_to_resolved", INT),
    ("days_blocked_to_resolved", INT),
    ("days_seen_to_resolved", INT),
    ("days_open", INT),
)

AGG_DAILY_COMPLAINTS = struct(
    ("date_key", INT),
    ("event_date", DATE),
    ("channel_key", INT),
    ("channel", S),
    ("platform", S),
    ("category_key", INT),
    ("complaint_category", S),
    ("complaints", L),
    ("resolved", L),
    ("in_progress", L),
    ("backlog", L),
    ("blocked", L),
    ("resolution_rate", D),
    ("sla_met", L),
    ("sla_rate", D),
    ("resolution_hours_mean", D),
    ("resolution_hours_p50", D),
    ("resolution_hours_p90", D),
    ("call_minutes_mean", D),
    ("distinct_customers", L),
)

AGG_AGENT_PERFORMANCE = struct(
    ("agent_sk", L),
    ("agent_id", INT),
    ("month", DATE),
    ("month_key", INT),
    ("handled", L),
    ("resolved", L),
    ("resolution_rate", D),
    ("resolution_hours_mean", D),
    ("sla_met", L),
    ("sla_rate", D),
)

MART_CUSTOMER_RISK = struct(
    ("customer_id", S),
    ("customer_sk", L),
    ("as_of_date", DATE),
    ("complaints_total", L),
    ("complaints_7d", L),
    ("complaints_30d", L),
    ("complaints_90d", L),
    ("call_7d", L),
    ("call_30d", L),
    ("call_90d", L),
    ("web_7d", L),
    ("web_30d", L),
    ("web_90d", L),
    ("social_7d", L),
    ("social_30d", L),
    ("social_90d", L),
    ("open_complaints", L),
    ("oldest_open_days", INT),
    ("top_category_90d", S),
    ("repeat_category_complaints_90d", L),
    ("channels_used_90d", INT),
    ("channel_hops_90d", L),
    ("is_channel_hopper", B),
    ("resolved_complaints", L),
    ("resolution_hours_mean", D),
    ("sla_breaches", L),
    ("last_complaint_date", DATE),
    ("risk_score", INT),
    ("risk_tier", S),
)


def conform(df: DataFrame, schema: T.StructType, keep: tuple[str, ...] = ()) -> DataFrame:
    """Exactly the contract's columns, in order, cast to the contract's types (then `keep` as they are)."""
    return df.select(*[F.col(f"`{f.name}`").cast(f.dataType).alias(f.name) for f in schema.fields], *keep)


def with_audit(df: DataFrame, run_id: str, now: datetime) -> DataFrame:
    return df.withColumn("_run_id", F.lit(run_id)).withColumn(
        "_updated_at", F.lit(now.strftime("%Y-%m-%d %H:%M:%S.%f")).cast("timestamp_ntz")
    )


def full(schema: T.StructType) -> T.StructType:
    """The stored schema: the contract plus the audit columns."""
    return T.StructType([*schema.fields, *struct(*AUDIT).fields])
