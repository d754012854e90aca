"""Helpers for the landing tests: small hand-made sources in the SOURCES.md shapes."""

from __future__ import annotations

from pathlib import Path

from coretelecoms.context import RunContext
from coretelecoms.lake import engine_for
from coretelecoms.settings import Settings

CALL_HEADER = ",call ID,customeR iD,COMPLAINT_catego ry,agent ID,call_start_time,call_end_time,resolutionstatus,callLogsGenerationDate"
CUSTOMERS = (
    "customer_id,name,Gender,DATE of biRTH,signup_date,email,address\n"
    'u1,Ann Lee,F,1980-01-02,2015-03-04,ab1ann.lee9x@gmail.com,"1 Oak St\nPort X, TX 75013"\n'
)
AGENTS = "iD,NamE,experience,state\n1000,Ann Lee,intern,West Virginia\n1001,Bob Ray,Senior,Ohio\n"


def call_log(day: str, n: int = 2) -> str:
    lines = [CALL_HEADER]
    for i in range(n):
        lines.append(f"{i},C{day}{i},u1,Payments,1001,2025-05-01 10:00:00,2025-05-01 10:05:00,Resolved,{day}")
    return "\n".join(lines) + "\n"


def social(day: str) -> str:
    return (
        '{"complaint_id":{"0":"S1"},"customeR iD":{"0":"u1"},"COMPLAINT_catego ry":{"0":"Payments"},'
        '"agent ID":{"0":1001},"resolutionstatus":{"0":"Backlog"},"request_date":{"0":"2025-05-01 10:00:00"},'
        f'"resolution_date":{{"0":""}},"media_channel":{{"0":"Twitter"}},"MediaComplaintGenerationDate":{{"0":"{day}"}}}}'
    )


def write_bucket(root: Path, days=("2025-11-20", "2025-11-21")) -> Path:
    """A local folder shaped like the source bucket."""
    bucket = root / "core-telecoms-data-lake"
    (bucket / "customers").mkdir(parents=True, exist_ok=True)
    (bucket / "call logs").mkdir(exist_ok=True)
    (bucket / "social_medias").mkdir(exist_ok=True)
    (bucket / "customers" / "customers_dataset.csv").write_text(CUSTOMERS)
    for day in days:
        (bucket / "call logs" / f"call_logs_day_{day}.csv").write_text(call_log(day))
        (bucket / "social_medias" / f"media_complaint_day_{day}.json").write_text(social(day))
    (bucket / "call logs" / ".call_logs_day_2025-11-22.csv.123.tmp").write_text("half a file")
    agents = root / "agents.csv"
    agents.write_text(AGENTS)
    return bucket


def settings(root: Path, *, s3: dict, postgres: dict | None = None, gsheets: dict | None = None) -> Settings:
    return Settings(
        env="test",
        lake={"root": str(root / "lake"), "delta_engine": "delta-rs"},
        spark={"master": "local[2]"},
        sources={
            "s3": s3,
            "postgres": postgres or {"embedded": False, "dsn_secret": "CORETELECOMS_TEST_NO_SUCH_DSN"},
            "gsheets": gsheets or {"mode": "export", "export_path": str(root / "src" / "agents.csv")},
        },
        warehouse={},
        data_dir=root,
    )


def make_ctx(spark, settings: Settings, layer: str = "landing") -> RunContext:
    return RunContext(settings, spark, engine_for(spark, settings.lake.root, "delta-rs"), layer)


def by_source(entries):
    return {e.source: e for e in entries}
