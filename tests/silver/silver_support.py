"""Bronze-shaped rows for silver tests: every data column text, lineage as bronze writes it.

`Bronze(lake)` appends drops to the bronze tables of a temp lake, so silver runs against real Delta tables
(with real versions and change feed) without depending on the landing and bronze code.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

from pyspark.sql import functions as F
from pyspark.sql import types as T

from coretelecoms.context import RunContext
from coretelecoms.lake import engine_for
from coretelecoms.settings import Settings

COLUMNS = {
    "customers": ("customer_id", "name", "gender", "date_of_birth", "signup_date", "email", "address"),
    "agents": ("id", "name", "experience", "state"),
    "call_logs": (
        "source_index", "call_id", "customer_id", "complaint_category", "agent_id", "call_start_time",
        "call_end_time", "resolution_status", "call_logs_generation_date",
    ),
    "social_media": (
        "source_index", "complaint_id", "customer_id", "complaint_category", "agent_id", "resolution_status",
        "request_date", "resolution_date", "media_channel", "media_complaint_generation_date",
    ),
    "web_forms": (
        "source_index", "request_id", "customer_id", "complaint_category", "agent_id", "resolution_status",
        "request_date", "resolution_date", "web_form_generation_date",
    ),
}  # fmt: skip
LINEAGE = [
    T.StructField("_rescued_data", T.StringType()),
    T.StructField("_corrupt_record", T.StringType()),
    T.StructField("_source_file", T.StringType()),
    T.StructField("_source_record", T.LongType()),
    T.StructField("_source_date", T.DateType()),
    T.StructField("_ingested_at", T.TimestampNTZType()),
    T.StructField("_run_id", T.StringType()),
]
D1, D2, D3 = date(2025, 11, 20), date(2025, 11, 21), date(2025, 11, 22)


def schema(source: str) -> T.StructType:
    return T.StructType([T.StructField(c, T.StringType()) for c in COLUMNS[source]] + LINEAGE)


def uid(n: int) -> str:
    """A deterministic lower-case UUID v4."""
    return str(uuid.UUID(int=n, version=4))


def complaint_id(customer: str, prefix: str = "Mar0979K", n: int = 1) -> str:
    """The real shape: prefix + 32 hex of the customer uuid + digits + 9 hex + suffix (51-56 chars)."""
    return f"{prefix}{customer.replace('-', '')}{4417 + n:04d}{customer[-9:]}Kgd"


def customer(n: int, **over) -> dict:
    row = {
        "customer_id": uid(n),
        "name": "mary o'neil",
        "gender": "F",
        "date_of_birth": "1984-03-02",
        "signup_date": "2015-06-30",
        "email": f"a1b2mary.oneil{n:03d}@gmail.com",
        "address": "4821 Oak Ridge Suite 210\nPort Danielside, TX 75013",
    }
    return {**row, **over}


def agent(n: int, **over) -> dict:
    return {**{"id": str(1000 + n), "name": "james smith", "experience": "Junior", "state": "Texas"}, **over}


def call(c: int, n: int = 1, status: str = "Resolved", agent_id: str = "1001", **over) -> dict:
    cust = uid(c)
    row = {
        "source_index": str(n),
        "call_id": complaint_id(cust, "Mar0979K", n),
        "customer_id": cust,
        "complaint_category": "Payments",
        "agent_id": agent_id,
        "call_start_time": "2025-08-02 14:31:09",
        "call_end_time": "2025-08-02 14:43:09",
        "resolution_status": status,
        "call_logs_generation_date": "2025-11-20",
    }
    return {**row, **over}


def social(c: int, n: int = 1, status: str = "Resolved", **over) -> dict:
    cust = uid(c)
    resolved = status == "Resolved"
    row = {
        "source_index": str(n),
        "complaint_id": complaint_id(cust, "ros41b2Q", n),
        "customer_id": cust,
        "complaint_category": "Network Failure",
        "agent_id": "1002",
        "resolution_status": status,
        "request_date": "2025-08-02 14:31:09",
        "resolution_date": "2025-08-09 02:31:09" if resolved else "",
        "media_channel": "Twitter",
        "media_complaint_generation_date": "2025-11-20",
    }
    return {**row, **over}


def web(c: int, n: int = 1, status: str = "Backlog", **over) -> dict:
    cust = uid(c)
    resolved = status == "Resolved"
    row = {
        "source_index": str(n),
        "request_id": complaint_id(cust, "Webf0rmX", n)[:52],
        "customer_id": cust,
        "complaint_category": "Router Delivery",
        "agent_id": "1003",
        "resolution_status": status,
        "request_date": "2025-05-19 22:07:41",
        "resolution_date": "2025-05-20 22:07:41" if resolved else "",
        "web_form_generation_date": "2025-11-20",
    }
    return {**row, **over}


class Bronze:
    """Appends drops to `bronze.<source>` the way bronze does: one append per file, records numbered from 1."""

    def __init__(self, spark, lake) -> None:
        self.spark = spark
        self.lake = lake
        self.appends = 0

    def drop(
        self,
        source: str,
        rows: list[dict],
        day: date,
        file: str | None = None,
        at: datetime | None = None,
        missing: list[str] | None = None,
    ):
        """One delivered file; ingested at `at` (default: the morning of `day`, a minute after the last).
        `missing`: contract columns the file lacked (NULL in every row, named in `_missing_columns`)."""
        self.appends += 1
        self.clock = at or datetime(day.year, day.month, day.day, 6) + timedelta(minutes=self.appends)
        file = file or f"landing/{source}/{source}_{day}.csv"
        records = []
        for i, row in enumerate(rows, start=1):
            values = [row.get(c) for c in COLUMNS[source]]
            records.append(
                (
                    *values,
                    row.get("_rescued_data"),
                    row.get("_corrupt_record"),
                    file,
                    i,
                    day,
                    self.clock,
                    "bronze-t",
                )
            )
        df = self.spark.createDataFrame(records, schema(source))
        if missing:
            df = df.withColumns(
                {c: F.lit(None).cast("string") for c in missing}
                | {"_missing_columns": F.array(*[F.lit(c) for c in sorted(missing)])}
            )
        self.lake.append(f"bronze.{source}", df, partition_by=["_source_date"])
        return df


def settings_for(root: Path) -> Settings:
    return Settings(
        env="test",
        lake={"root": str(root / "lake"), "delta_engine": "delta-rs"},
        spark={"master": "local[2]"},
        sources={"s3": {"uri": str(root / "s3")}, "postgres": {}, "gsheets": {}},
        warehouse={},
        data_dir=root,
    )


def make_ctx(spark, root: Path) -> RunContext:
    s = settings_for(root)
    return RunContext(s, spark, engine_for(spark, s.lake.root, "delta-rs"), "silver")


def rows_of(lake, table: str, *columns: str) -> list[tuple]:
    df = lake.read(table)
    rows = [tuple(r) for r in df.select(*(columns or df.columns)).collect()]
    return sorted(rows, key=lambda row: [(v is None, str(v)) for v in row])
