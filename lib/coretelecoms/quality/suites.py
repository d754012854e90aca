"""The suites a layer validates: rules and dataset checks as Great Expectations expectations, with what the
layer needs to report each one and the columns it reads (see quality.gx for how they are validated)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from coretelecoms.quality.row_rules import unresolved
from coretelecoms.quality.rules import Rule, RuleSet

CHECK_PREFIX = "_rule__"


@dataclass
class Check:
    """One expectation plus what the layer needs to report it and the columns it reads."""

    name: str
    action: str
    gate: bool
    expectation: Any  # a great_expectations Expectation
    needs: tuple[str, ...] = ()
    derived: dict[str, Column] = field(default_factory=dict)


@dataclass
class Suite:
    name: str  # e.g. silver.call_logs.batch
    asset: str  # e.g. silver.call_logs
    stage: str  # batch | table
    checks: list[Check]


def _gx():
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx, gxe


def _severity(gate: bool) -> str:
    return "critical" if gate else "warning"


def _meta(name: str, action: str, gate: bool, sql: str | None = None) -> dict:
    meta = {"rule": name, "action": action, "gate": gate}
    if sql:
        meta["sql"] = sql
    return meta


def rule_check(rule: Rule, gate: bool) -> Check:
    """The expectation a rule becomes."""
    _, gxe = _gx()
    common = {
        "meta": _meta(rule.name, rule.action, gate, rule.sql),
        "severity": _severity(gate),
        "notes": f"rule {rule.name} ({rule.action}): {rule.description or rule.sql}",
    }
    kind = rule.check
    if kind == "not_null":
        exp = gxe.ExpectColumnValuesToNotBeNull(column=rule.column, **common)
    elif kind == "in":
        exp = gxe.ExpectColumnValuesToBeInSet(column=rule.column, value_set=list(rule.in_), **common)
    elif kind == "matches":
        exp = gxe.ExpectColumnValuesToMatchRegex(column=rule.column, regex=rule.matches, **common)
    elif kind == "between":
        low, high = rule.between
        exp = gxe.ExpectColumnValuesToBeBetween(column=rule.column, min_value=low, max_value=high, **common)
    else:
        column = CHECK_PREFIX + rule.name
        text = f"rule {rule.name} ({rule.action}): {rule.sql}".replace("$", "")
        exp = gxe.ExpectColumnValuesToBeInSet(column=column, value_set=[True], description=text, **common)
        return Check(
            rule.name, rule.action, gate, exp, (), {column: F.coalesce(rule.predicate(), F.lit(False))}
        )
    return Check(rule.name, rule.action, gate, exp, (rule.column,))


def rule_checks(rules: RuleSet, df: DataFrame, stage: str) -> list[Check]:
    """Expectations for the rules that can be evaluated on `df` (raw-text rules only on the batch).

    On the batch about to be merged, quarantine/drop/fail rules must hold (those rows are gone), so they
    gate. On the whole table only `fail` rules gate, and quarantine/drop rules are not re-checked: they
    are entry conditions every stored row met when its batch passed the gate, and re-checking them on every
    stored row each run cost O(table) (3 of the 4.6 s of silver.call_logs's table suite at 1.5M rows). Warn
    rules stay: their rows are kept, so the table suite counts how many stored rows carry each warning.
    """
    skip = unresolved(df, rules)
    checks = []
    for rule in rules.rules:
        removes_rows = rule.action in ("quarantine", "drop")
        if rule.name in skip or (stage == "table" and removes_rows):
            continue
        # Only the batch sees rules that remove rows, so this is `fail` alone on the table.
        checks.append(rule_check(rule, gate=rule.action == "fail" or removes_rows))
    return checks


def key_checks(keys: list[str]) -> list[Check]:
    """The natural key is present and unique (always gating)."""
    _, gxe = _gx()
    checks = []
    for key in keys:
        checks.append(
            Check(
                f"{key}_not_null",
                "fail",
                True,
                gxe.ExpectColumnValuesToNotBeNull(
                    column=key, meta=_meta(f"{key}_not_null", "fail", True), severity="critical"
                ),
                (key,),
            )
        )
    name = "_".join(keys) + "_unique"
    if len(keys) == 1:
        exp = gxe.ExpectColumnValuesToBeUnique(
            column=keys[0], meta=_meta(name, "fail", True), severity="critical"
        )
    else:
        exp = gxe.ExpectCompoundColumnsToBeUnique(
            column_list=keys, meta=_meta(name, "fail", True), severity="critical"
        )
    checks.append(Check(name, "fail", True, exp, tuple(keys)))
    return checks


def row_count_check(name: str, expected: int, note: str, gate: bool = True) -> Check:
    """Row-count reconciliation: the validated frame has exactly the rows the layer's counts say."""
    _, gxe = _gx()
    action = "fail" if gate else "warn"
    exp = gxe.ExpectTableRowCountToEqual(
        value=int(expected), meta=_meta(name, action, gate, note), severity=_severity(gate), notes=note
    )
    return Check(name, action, gate, exp)


def true_check(name: str, column: str, action: str, gate: bool, note: str) -> Check:
    """A boolean column is always TRUE (e.g. referential integrity flags such as `customer_known`)."""
    _, gxe = _gx()
    exp = gxe.ExpectColumnValuesToBeInSet(
        column=column,
        value_set=[True],
        meta=_meta(name, action, gate, note),
        severity=_severity(gate),
        notes=note,
    )
    return Check(name, action, gate, exp, (column,))
