"""The Great Expectations suites of each silver table: its rules plus the dataset expectations.

`<table>.batch` runs on the deduplicated rows about to be merged: the natural key is present and unique,
every quarantine/drop/fail rule holds (those rows are gone), warn rules and the orphan flags are counted,
and the row count reconciles with the counts of the incoming batch. `<table>.table` runs on the whole
table after the write: key present and unique, the warn and fail rules that apply to stored columns (the
orphan counts among them; quarantine/drop rules were met by every row on entry), and the row count equals
the rows before plus the rows inserted.
"""

from __future__ import annotations

from pyspark.sql import DataFrame

from coretelecoms.quality.gx import Suite, key_checks, row_count_check, rule_checks
from coretelecoms.quality.rules import RuleSet
from coretelecoms.silver.incremental import Plan
from coretelecoms.silver.tables import SilverTable


def batch_suite(plan: Plan, batch: DataFrame) -> Suite:
    o = plan.outcome
    expected = o.rows_in - o.quarantined - o.dropped - plan.superseded
    note = (
        f"rows in {o.rows_in} - quarantined {o.quarantined} - dropped {o.dropped} - superseded in batch "
        f"{plan.superseded}"
    )
    checks = [
        *key_checks([plan.spec.key]),
        *rule_checks(plan.rules, batch, "batch"),
        row_count_check("row_count_reconciles", expected, note),
    ]
    return Suite(f"{plan.spec.table}.batch", plan.spec.table, "batch", checks)


def table_suite(spec: SilverTable, rules: RuleSet, table: DataFrame, expected_rows: int, note: str) -> Suite:
    checks = [
        *key_checks([spec.key]),
        *rule_checks(rules, table, "table"),
        row_count_check("row_count_reconciles", expected_rows, note),
    ]
    return Suite(f"{spec.table}.table", spec.table, "table", checks)
