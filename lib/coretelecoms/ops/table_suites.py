"""The full whole-table Great Expectations suites (`<table>.table`) of silver and gold, on demand.

Daily runs check a whole table at the cost of their batch (quality.commit_checks); these suites read every
stored row, so they run in `maintenance` (after compaction) and with `coretelecoms quality check`. Silver's
suite is its key, its `fail` and `warn` rules on the stored rows and its row count against the Delta log's;
gold's are those of gold.checks (SCD2 tiling, unknown members, fact rows = silver rows, sums).
"""

from __future__ import annotations

from datetime import date

from coretelecoms.context import RunContext
from coretelecoms.quality.gx import QualityGate, SuiteResult


def suite_tables() -> list[str]:
    """Every table with a full suite, silver first."""
    from coretelecoms.gold.refresh import TABLES as GOLD
    from coretelecoms.silver.tables import TABLES as SILVER

    return [s.table for s in SILVER] + list(GOLD)


def validate_tables(
    ctx: RunContext, gate: QualityGate, tables: list[str] | None = None
) -> dict[str, list[SuiteResult]]:
    """{table: results} of the full suites of `tables` (default: all) that exist in the lake."""
    from coretelecoms.gold import checks as gold_checks
    from coretelecoms.gold.refresh import TABLES as GOLD
    from coretelecoms.quality.rules import quality_dir, rules_for
    from coretelecoms.silver.expectations import table_suite
    from coretelecoms.silver.incremental import table_rules
    from coretelecoms.silver.tables import TABLES as SILVER

    known = suite_tables()
    unknown = sorted(set(tables or []) - set(known))
    if unknown:
        raise ValueError(f"no table suite for {', '.join(unknown)}; tables with one: {', '.join(known)}")
    wanted = set(tables or known)
    lake, results = ctx.lake, {}
    for spec in SILVER:
        if spec.table not in wanted or not lake.exists(spec.table):
            continue
        rules = table_rules(spec, rules_for(spec.table, quality_dir(ctx.settings)))
        df = lake.read(spec.table)
        rows = lake.log_stats(spec.table).rows
        suite = table_suite(spec, rules, df, rows, f"rows the Delta log records: {rows}")
        results[spec.table] = [gate.validate(suite, df, ctx.run_id)]
    gold = [t for t in GOLD if t in wanted]
    for r in gold_checks.validate(gate, lake, gold, ctx.run_id, full=True):
        results.setdefault(r.table, []).append(r)
    return results


def run_table_suites(
    ctx: RunContext, run_date: date | None, tables: list[str] | None = None
) -> dict[str, list[SuiteResult]]:
    """Validate, append the results to `_quality.metrics`, rebuild the Data Docs once; {table: results}."""
    from coretelecoms.quality.metrics import append_metrics

    gate = QualityGate(ctx.settings)
    results = validate_tables(ctx, gate, tables)
    metrics = [m for rs in results.values() for r in rs for m in r.metrics()]
    append_metrics(ctx.lake, ctx.spark, ctx.run_id, run_date, metrics)
    gate.build_docs()
    return results
