"""`silver.social_complaints` (key `complaint_id`): social media complaints from `bronze.social_media`."""

from __future__ import annotations

from pyspark.sql import DataFrame

from coretelecoms.silver.complaints import with_complaint_columns, with_request_times, with_resolution
from coretelecoms.silver.conform import MEDIA_CHANNELS, canonical

TABLE = "silver.social_complaints"
BRONZE = "bronze.social_media"
KEY = "complaint_id"
CHANNEL = "social"
COLUMNS = (
    "complaint_id",
    "customer_id",
    "agent_id",
    "complaint_category",
    "resolution_status",
    "media_channel",
    "request_date",
    "resolution_date",
    "resolved_at",
    "resolution_hours",
    "drop_date",
    "customer_known",
    "agent_known",
)


def with_media_channel(df: DataFrame) -> DataFrame:
    return df.withColumn("media_channel", canonical("media_channel", MEDIA_CHANNELS))


def clean_social_complaints(df: DataFrame) -> DataFrame:
    """bronze.social_media rows -> silver.social_complaints columns (orphan flags are added by the layer)."""
    return (
        df.transform(with_complaint_columns(KEY, "media_complaint_generation_date"))
        .transform(with_media_channel)
        .transform(with_request_times)
        .transform(with_resolution("request_date", "resolution_date"))
    )
