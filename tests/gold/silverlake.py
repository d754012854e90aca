"""A small silver layer written the way silver writes it, for gold tests that must not wait for silver.

Each `day()` MERGEs rows into the silver tables (latest drop date wins, so the change feed is real: inserts,
update pre/post images) and appends `silver.complaint_status_history` rows for every complaint seen with a
new status. Rows are dicts with defaults; a test names only what matters to it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pyspark.sql import types as T

from coretelecoms.lake import DeltaEngine

S, INT, L, D, B, DATE, TS = (
    T.StringType(),
    T.IntegerType(),
    T.LongType(),
    T.DoubleType(),
    T.BooleanType(),
    T.DateType(),
    T.TimestampNTZType(),
)


def _schema(*fields) -> T.StructType:
    return T.StructType([T.StructField(n, t) for n, t in fields])


LINEAGE = [
    ("_source_file", S),
    ("_source_record", L),
    ("_source_date", DATE),
    ("_updated_at", TS),
    ("_run_id", S),
]
COMPLAINT = [
    ("customer_id", S),
    ("agent_id", INT),
    ("complaint_category", S),
    ("resolution_status", S),
]
SCHEMAS = {
    "silver.customers": _schema(
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
        *LINEAGE,
    ),
    "silver.agents": _schema(
        ("agent_id", INT), ("name", S), ("experience", S), ("state_name", S), ("state_code", S), *LINEAGE
    ),
    "silver.call_logs": _schema(
        ("call_id", S),
        *COMPLAINT,
        ("call_start_time", TS),
        ("call_end_time", TS),
        ("call_duration_seconds", INT),
        ("resolved_at", TS),
        ("resolution_hours", D),
        ("drop_date", DATE),
        ("customer_known", B),
        ("agent_known", B),
        *LINEAGE,
    ),
    "silver.social_complaints": _schema(
        ("complaint_id", S),
        *COMPLAINT,
        ("media_channel", S),
        ("request_date", TS),
        ("resolution_date", TS),
        ("resolved_at", TS),
        ("resolution_hours", D),
        ("drop_date", DATE),
        ("customer_known", B),
        ("agent_known", B),
        *LINEAGE,
    ),
    "silver.web_complaints": _schema(
        ("request_id", S),
        *COMPLAINT,
        ("request_date", TS),
        ("resolution_date", TS),
        ("resolved_at", TS),
        ("resolution_hours", D),
        ("drop_date", DATE),
        ("customer_known", B),
        ("agent_known", B),
        *LINEAGE,
    ),
    "silver.complaint_status_history": _schema(
        ("complaint_id", S),
        ("channel", S),
        ("old_status", S),
        ("new_status", S),
        ("drop_date", DATE),
        ("_source_file", S),
        ("_source_record", L),
        ("_run_id", S),
        ("changed_at", TS),
    ),
}
KEYS = {
    "silver.customers": "customer_id",
    "silver.agents": "agent_id",
    "silver.call_logs": "call_id",
    "silver.social_complaints": "complaint_id",
    "silver.web_complaints": "request_id",
}
CHANNEL = {"silver.call_logs": "call", "silver.social_complaints": "social", "silver.web_complaints": "web"}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def customer(customer_id: str, **kw) -> dict:
    row = {
        "customer_id": customer_id,
        "name": f"Customer {customer_id[:4]}",
        "gender": "F",
        "date_of_birth": date(1980, 5, 17),
        "signup_date": date(2015, 3, 1),
        "email": f"{customer_id[:4]}@gmail.com",
        "email_is_valid": True,
        "address": "1 Main Street, Springfield, IL 62701",
        "state_code": "IL",
        "zip_code": "62701",
        "state_name": "Illinois",
    }
    return row | kw


def agent(agent_id: int, **kw) -> dict:
    row = {
        "agent_id": agent_id,
        "name": f"Agent {agent_id}",
        "experience": "Junior",
        "state_name": "Ohio",
        "state_code": "OH",
    }
    return row | kw


def _resolution(status: str, start: datetime, resolved: datetime | None) -> dict:
    if status != "Resolved" or resolved is None:
        return {"resolved_at": None, "resolution_hours": None}
    return {"resolved_at": resolved, "resolution_hours": round((resolved - start).total_seconds() / 3600, 6)}


def call(
    call_id: str,
    customer_id: str,
    agent_id: int,
    start: str,
    status: str = "Resolved",
    minutes: int = 10,
    category: str = "Payments",
) -> dict:
    begin = ts(start)
    end = begin + timedelta(minutes=minutes)
    return {
        "call_id": call_id,
        "customer_id": customer_id,
        "agent_id": agent_id,
        "complaint_category": category,
        "resolution_status": status,
        "call_start_time": begin,
        "call_end_time": end,
        "call_duration_seconds": minutes * 60,
    } | _resolution(status, begin, end)


def social(
    complaint_id: str,
    customer_id: str,
    agent_id: int,
    request: str,
    status: str = "Backlog",
    resolved: str | None = None,
    platform: str = "Twitter",
    category: str = "Network Failure",
) -> dict:
    begin = ts(request)
    end = ts(resolved) if resolved else None
    return {
        "complaint_id": complaint_id,
        "customer_id": customer_id,
        "agent_id": agent_id,
        "complaint_category": category,
        "resolution_status": status,
        "media_channel": platform,
        "request_date": begin,
        "resolution_date": end,
    } | _resolution(status, begin, end)


def web(
    request_id: str,
    customer_id: str,
    agent_id: int,
    request: str,
    status: str = "Backlog",
    resolved: str | None = None,
    category: str = "Router Delivery",
) -> dict:
    begin = ts(request)
    end = ts(resolved) if resolved else None
    return {
        "request_id": request_id,
        "customer_id": customer_id,
        "agent_id": agent_id,
        "complaint_category": category,
        "resolution_status": status,
        "request_date": begin,
        "resolution_date": end,
    } | _resolution(status, begin, end)


class SilverLake:
    """Writes silver tables day by day through the lake module (MERGE, so CDF has real updates)."""

    def __init__(self, spark, lake: DeltaEngine, customers_known: set | None = None) -> None:
        self.spark = spark
        self.lake = lake
        self.status: dict[tuple[str, str], str] = {}
        self.days = 0

    def _rows(self, table: str, rows: list[dict], drop: date, file: str) -> list[tuple]:
        schema = SCHEMAS[table]
        out = []
        for i, row in enumerate(rows, start=1):
            full = dict(row)
            full.setdefault("drop_date", drop)
            full.setdefault("customer_known", True)
            full.setdefault("agent_known", True)
            full |= {
                "_source_file": f"landing/{file}",
                "_source_record": i,
                "_source_date": drop,
                "_updated_at": datetime.combine(drop, datetime.min.time())
                + timedelta(hours=6, seconds=self.days),
                "_run_id": f"silver-{drop:%Y%m%d}",
            }
            out.append(tuple(full.get(f.name) for f in schema.fields))
        return out

    def write(self, table: str, rows: list[dict], drop: date, file: str) -> None:
        if not rows:
            return
        df = self.spark.createDataFrame(self._rows(table, rows, drop, file), SCHEMAS[table])
        self.lake.merge(table, df, keys=[KEYS[table]], update_condition="s._source_date >= t._source_date")
        if table in CHANNEL:
            self._history(table, rows, drop, file)

    def _history(self, table: str, rows: list[dict], drop: date, file: str) -> None:
        channel, key = CHANNEL[table], KEYS[table]
        out = []
        for i, row in enumerate(rows, start=1):
            old = self.status.get((channel, row[key]))
            new = row["resolution_status"]
            if old == new:
                continue
            self.status[(channel, row[key])] = new
            out.append(
                (
                    row[key],
                    channel,
                    old,
                    new,
                    drop,
                    f"landing/{file}",
                    i,
                    f"silver-{drop:%Y%m%d}",
                    datetime.combine(drop, datetime.min.time()),
                )
            )
        if out:
            hist = "silver.complaint_status_history"
            self.lake.append(hist, self.spark.createDataFrame(out, SCHEMAS[hist]))

    def day(self, drop: date, *, customers=(), agents=(), calls=(), social=(), web=()) -> None:
        self.days += 1
        self.write("silver.customers", list(customers), drop, "s3/customers/customers_dataset.csv")
        self.write("silver.agents", list(agents), drop, "gsheets/agents/agents.csv")
        self.write("silver.call_logs", list(calls), drop, f"s3/call logs/call_logs_day_{drop}.csv")
        self.write(
            "silver.social_complaints",
            list(social),
            drop,
            f"s3/social_medias/media_complaint_day_{drop}.json",
        )
        self.write(
            "silver.web_complaints",
            list(web),
            drop,
            f"postgres/customer_complaints/web_form_request_{drop:%Y_%m_%d}.csv",
        )
