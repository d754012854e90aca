"""The silver tables: what each is built from, its natural key, its columns and its cleaning transform.

Dimensions (customers, agents) run first, so the complaint tables check their references against the
dimensions as they are after this run's updates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from coretelecoms.silver import agents, call_logs, customers, social_complaints, web_complaints
from coretelecoms.silver.conform import parse_int, text

LINEAGE = ("_source_file", "_source_record", "_source_date", "_ingested_at")
AUDIT = ("_updated_at", "_run_id")
QUARANTINE_TABLE = "silver.quarantine"


@dataclass(frozen=True)
class SilverTable:
    table: str
    bronze: str
    key: str
    columns: tuple[str, ...]
    clean: Callable[[DataFrame], DataFrame]
    channel: str | None = None  # call | social | web for complaint tables
    key_of_raw: Callable[[], Column] | None = None  # the key computed from a bronze row (default: trimmed)

    def raw_key(self) -> Column:
        return self.key_of_raw() if self.key_of_raw else text(self.key)

    @property
    def entity(self) -> str:
        return self.table.split(".", 1)[1]

    @property
    def is_complaint(self) -> bool:
        return self.channel is not None

    @property
    def content(self) -> tuple[str, ...]:
        """The columns whose change is a change of the row (everything but the key, lineage and audit)."""
        return tuple(c for c in self.columns if c != self.key)

    @property
    def stored(self) -> tuple[str, ...]:
        """Every column of the silver table, in order."""
        return (*self.columns, *LINEAGE, *AUDIT)


AGENTS = SilverTable(
    agents.TABLE,
    agents.BRONZE,
    agents.KEY,
    agents.COLUMNS,
    agents.clean_agents,
    None,
    lambda: parse_int("id"),
)
CUSTOMERS = SilverTable(
    customers.TABLE,
    customers.BRONZE,
    customers.KEY,
    customers.COLUMNS,
    customers.clean_customers,
    None,
    lambda: F.lower(text("customer_id")),
)
CALL_LOGS = SilverTable(
    call_logs.TABLE,
    call_logs.BRONZE,
    call_logs.KEY,
    call_logs.COLUMNS,
    call_logs.clean_call_logs,
    call_logs.CHANNEL,
)
SOCIAL_COMPLAINTS = SilverTable(
    social_complaints.TABLE,
    social_complaints.BRONZE,
    social_complaints.KEY,
    social_complaints.COLUMNS,
    social_complaints.clean_social_complaints,
    social_complaints.CHANNEL,
)
WEB_COMPLAINTS = SilverTable(
    web_complaints.TABLE,
    web_complaints.BRONZE,
    web_complaints.KEY,
    web_complaints.COLUMNS,
    web_complaints.clean_web_complaints,
    web_complaints.CHANNEL,
)

DIMENSIONS = (AGENTS, CUSTOMERS)
COMPLAINTS = (CALL_LOGS, SOCIAL_COMPLAINTS, WEB_COMPLAINTS)
TABLES = (*DIMENSIONS, *COMPLAINTS)
