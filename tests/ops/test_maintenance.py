"""Maintenance compacts every table, z-orders where configured, vacuums, and records it in the ledger."""

from __future__ import annotations

import json

from pyspark.sql import types as T

from coretelecoms.context import RunContext
from coretelecoms.lake import engine_for
from coretelecoms.ops import ledger
from coretelecoms.ops.maintenance import run_maintenance
from coretelecoms.settings import load_settings

SCHEMA = T.StructType([T.StructField("customer_id", T.StringType()), T.StructField("n", T.LongType())])


def test_maintenance_reduces_files_and_keeps_content(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CORETELECOMS__MAINTENANCE__RETENTION_HOURS", "0")
    # Toy tables under real names: their full quality suites run in tests/gold/test_gold_incremental.py.
    monkeypatch.setenv("CORETELECOMS__MAINTENANCE__TABLE_SUITES", "false")
    settings = load_settings("local")
    ctx = RunContext(settings, spark, engine_for(spark, settings.lake.root, "delta-rs"), "maintenance")
    for i in range(5):
        rows = [(f"c{i}-{j}", j) for j in range(20)]
        ctx.lake.append("silver.call_logs", spark.createDataFrame(rows, SCHEMA).coalesce(1))
        ctx.lake.append("gold.other", spark.createDataFrame(rows, SCHEMA).coalesce(1))
        if i == 0:
            ctx.lake.delete("gold.other", "n < 5")
    before = {t: sorted(ctx.lake.read(t).collect()) for t in ("silver.call_logs", "gold.other")}
    files_before = {t: ctx.lake.file_count(t) for t in before}

    entries = run_maintenance(ctx)

    assert [e.source for e in entries] == ["gold.other", "silver.call_logs"]
    assert all(e.status == "ok" for e in entries)
    for table, rows in before.items():
        assert sorted(ctx.lake.read(table).collect()) == rows
        assert ctx.lake.file_count(table) == 1 < files_before[table]
    details = {e.source: json.loads(e.details) for e in entries}
    assert details["silver.call_logs"]["zorder"] == ["customer_id"]
    assert details["gold.other"]["zorder"] is None
    assert details["silver.call_logs"]["vacuumed_files"] >= 5
    recorded = ledger.read(ctx).filter("layer = 'maintenance'").count()
    assert recorded == 2
