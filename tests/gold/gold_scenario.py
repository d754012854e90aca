"""The three-day silver scenario the gold integration tests share, and helpers to compare gold tables.

The scenario (drops 2025-11-20, 21, 22):
- customer C1 moves house on day 2 (SCD2); C3 is first seen on day 2 but complained on day 1 (late arriving);
- agent 1001 is promoted Junior -> Senior on day 2;
- web form W1 goes Backlog (day 1) -> In-Progress (day 2) -> Resolved (day 3);
- customer C2 complains on social (Facebook) and, 26 h later, by phone: channel hopping;
- social complaint S3 arrives on day 3 Resolved but without a resolution date (a real broken form).
"""

from __future__ import annotations

from datetime import date

import pytest
from silverlake import SilverLake, agent, call, customer, social, web

from coretelecoms.context import RunContext
from coretelecoms.gold import TABLES, run_gold
from coretelecoms.lake import engine_for
from coretelecoms.settings import load_settings

D1, D2, D3 = date(2025, 11, 20), date(2025, 11, 21), date(2025, 11, 22)
C1 = "11111111-1111-4111-8111-111111111111"
C2 = "22222222-2222-4222-8222-222222222222"
C3 = "33333333-3333-4333-8333-333333333333"
AUDIT = {"_run_id", "_updated_at"}


def make_ctx(spark, root) -> RunContext:
    # Settings rooted at `root` too: the GX project and Data Docs live beside the lake, never in ./data.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CORETELECOMS_DATA_DIR", str(root))
        settings = load_settings("local")
    lake = engine_for(spark, str(root / "lake"), "delta-rs")
    return RunContext(settings=settings, spark=spark, lake=lake, layer="gold")


def content(ctx: RunContext, table: str) -> list[tuple]:
    """A table's rows without the audit columns, sorted: what 'identical' means for gold."""
    df = ctx.lake.read(table)
    cols = sorted(c for c in df.columns if c not in AUDIT)
    return sorted((tuple(r) for r in df.select(*cols).collect()), key=repr)


def versions(ctx: RunContext) -> dict[str, int | None]:
    return {t: ctx.lake.version(t) for t in TABLES}


DAY1 = dict(
    customers=[
        customer(
            C1,
            name="Ada Lovelace",
            address="1 Old Road, Austin, TX 73301",
            state_code="TX",
            zip_code="73301",
            state_name="Texas",
        ),
        customer(C2, name="Bob Stone"),
    ],
    agents=[agent(1001, experience="Junior"), agent(1002, experience="Mid-Level")],
    calls=[call("K1", C1, 1001, "2025-11-19 10:00:00", "Resolved", minutes=10, category="Payments")],
    social=[social("S1", C2, 1002, "2025-10-01 09:00:00", "Backlog", platform="Twitter")],
    web=[web("W1", C3, 1002, "2025-11-18 09:00:00", "Backlog")],
)
DAY2 = dict(
    customers=[
        customer(
            C1,
            name="Ada Lovelace",
            address="9 New Avenue, Denver, CO 80201",
            state_code="CO",
            zip_code="80201",
            state_name="Colorado",
        ),
        customer(C3, name="Cy Late"),
    ],
    agents=[agent(1001, experience="Senior")],
    calls=[call("K2", C1, 1001, "2025-11-21 12:00:00", "In-Progress", category="Technician Support")],
    social=[social("S2", C2, 1002, "2025-11-20 08:00:00", "Backlog", platform="Facebook")],
    web=[web("W1", C3, 1002, "2025-11-18 09:00:00", "In-Progress")],
)
DAY3 = dict(
    calls=[call("K3", C2, 1002, "2025-11-21 10:00:00", "Blocked", category="Network Failure")],
    social=[social("S3", C3, 1001, "2025-11-22 08:00:00", "Resolved", platform="Instagram")],
    web=[web("W1", C3, 1002, "2025-11-18 09:00:00", "Resolved", resolved="2025-11-22 09:00:00")],
)


class Scenario:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.silver = SilverLake(ctx.spark, ctx.lake)
        self.entries: dict[date, list] = {}
        self.snapshots: dict[date, dict[str, list]] = {}

    def run(self, day: date, rebuild: bool = False, expectations: bool = False):
        self.ctx = self.ctx.for_layer("gold")
        entries = run_gold(self.ctx, day, rebuild=rebuild, expectations=expectations)
        self.entries[day] = entries
        return entries
