"""Gold fixtures: the three-day scenario (see gold_scenario.py) built once per module on a temporary lake."""

from __future__ import annotations

import pytest
from gold_scenario import D1, D2, D3, DAY1, DAY2, DAY3, Scenario, make_ctx


@pytest.fixture(scope="module")
def scenario(spark, tmp_path_factory):
    """Three days of silver, gold run incrementally after each, with a snapshot of the fact after each day.
    The Great Expectations gate runs on the last day only (it costs a few seconds per suite)."""
    root = tmp_path_factory.mktemp("gold-scenario")
    mp = pytest.MonkeyPatch()
    mp.setenv("CORETELECOMS_DATA_DIR", str(root))
    try:
        sc = Scenario(make_ctx(spark, root))
        for day, rows in ((D1, DAY1), (D2, DAY2), (D3, DAY3)):
            sc.silver.day(day, **rows)
            sc.run(day, expectations=day == D3)
            sc.snapshots[day] = {"fact": sc.ctx.lake.read("gold.fct_complaint").collect()}
        yield sc
    finally:
        mp.undo()
