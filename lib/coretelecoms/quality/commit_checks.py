"""The checks a daily run makes on a whole table after its commit, at the cost of the batch.

A table's full Great Expectations suite (`<table>.table`) reads every stored row, so run daily it grows with
the history. What a daily run must know about the whole table after its commit comes from cheaper sources:

- `row_count_reconciles`: the rows the Delta log records for the new snapshot equal the rows the layer's
  counts expect (no data file read);
- `<key>_not_null`: the log's null counts of each key column are 0 (no data file read);
- `<keys>_unique`: every key the run wrote (its rows carry its `_run_id`) is stored once: the table's key
  columns semi-joined on those keys. Rows no run wrote today were unique when their own run checked them.

They are reported like a suite's results (`<table>.commit`, stage `commit`, metrics of kind `check`) and
gate the same way. The full suites run in `maintenance` and on demand (`coretelecoms quality check`).
"""

from __future__ import annotations

import time

from pyspark.sql import functions as F

from coretelecoms.lake import DeltaEngine
from coretelecoms.quality.gx import CheckResult, SuiteResult

STAGE = "commit"


def _check(name: str, checked: int, failed: int, observed=None) -> CheckResult:
    return CheckResult(name, "fail", True, failed == 0, checked, failed, observed)


def commit_checks(
    lake: DeltaEngine,
    table: str,
    keys: list[str],
    run_ids: list[str],
    expected_rows: int | None = None,
    rows_rule: str = "row_count_reconciles",
) -> SuiteResult:
    """The commit checks of `table` after the runs `run_ids` wrote it (see the module docstring); the row
    count is checked against `expected_rows`, under the name `rows_rule`."""
    began = time.perf_counter()
    stats = lake.log_stats(table, keys)
    results = []
    if expected_rows is not None:
        results.append(_check(rows_rule, stats.rows, abs(stats.rows - expected_rows), observed=stats.rows))
    results += [_check(f"{k}_not_null", stats.rows, stats.nulls[k]) for k in keys]
    stored = lake.read(table)
    written = stored.filter(F.col("_run_id").isin(run_ids)).select(*keys).distinct()
    counts = (
        stored.select(*keys)
        .join(written, keys, "left_semi")
        .groupBy(*keys)
        .count()
        .agg(
            F.sum("count").alias("rows"),
            F.sum(F.when(F.col("count") > 1, F.col("count")).otherwise(0)).alias("repeated"),
        )
        .first()
    )
    # Counted as Great Expectations counts uniqueness: every row whose key another row also has.
    results.append(_check("_".join(keys) + "_unique", int(counts["rows"] or 0), int(counts["repeated"] or 0)))
    return SuiteResult(
        f"{table}.{STAGE}",
        table,
        STAGE,
        all(r.success for r in results),
        results,
        time.perf_counter() - began,
        kind="check",
    )
