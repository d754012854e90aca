"""Which gold tables are published, in what order, on which keys, and what reconciliation sums."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedTable:
    name: str
    keys: tuple[str, ...]
    # Numeric columns summed on both sides by the reconciliation (with the row count and key checksum).
    measures: tuple[str, ...] = ()
    # A daily snapshot (every row is recomputed as of the run date): replaced whole on each publish, one
    # TRUNCATE + COPY transaction, which is far cheaper than a MERGE that would match every row.
    snapshot: bool = False

    @property
    def target(self) -> str:
        return self.name.split(".", 1)[1].upper()


# Dimensions first, so a fact never arrives in Snowflake before the members it points at.
CATALOG: tuple[PublishedTable, ...] = (
    PublishedTable("gold.dim_date", ("date_key",)),
    PublishedTable("gold.dim_channel", ("channel_key",)),
    PublishedTable("gold.dim_complaint_category", ("category_key",)),
    PublishedTable("gold.dim_agent", ("agent_sk",)),
    PublishedTable("gold.dim_customer", ("customer_sk",)),
    PublishedTable("gold.fct_complaint", ("complaint_sk",), ("call_duration_seconds", "resolution_hours")),
    PublishedTable("gold.fct_complaint_lifecycle", ("complaint_sk",), ("days_open",)),
    PublishedTable("gold.agg_daily_complaints", ("date_key", "channel_key", "category_key"), ("complaints",)),
    PublishedTable("gold.agg_agent_performance", ("agent_sk", "month"), ("handled", "resolved")),
    PublishedTable("gold.mart_customer_risk", ("customer_id",), ("risk_score",), snapshot=True),
)
