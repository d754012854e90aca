"""`silver.web_complaints` (key `request_id`): web form requests from `bronze.web_forms`."""

from __future__ import annotations

from pyspark.sql import DataFrame

from coretelecoms.silver.complaints import with_complaint_columns, with_request_times, with_resolution

TABLE = "silver.web_complaints"
BRONZE = "bronze.web_forms"
KEY = "request_id"
CHANNEL = "web"
COLUMNS = (
    "request_id",
    "customer_id",
    "agent_id",
    "complaint_category",
    "resolution_status",
    "request_date",
    "resolution_date",
    "resolved_at",
    "resolution_hours",
    "drop_date",
    "customer_known",
    "agent_known",
)


def clean_web_complaints(df: DataFrame) -> DataFrame:
    """bronze.web_forms rows -> silver.web_complaints columns (orphan flags are added by the layer)."""
    return (
        df.transform(with_complaint_columns(KEY, "web_form_generation_date"))
        .transform(with_request_times)
        .transform(with_resolution("request_date", "resolution_date"))
    )
