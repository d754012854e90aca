"""Rule files: the loader's errors, every broken rule named on the row, and what each action does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from coretelecoms.quality import (
    RuleFileError,
    apply_rules,
    load_rules,
    parse_rules,
    quarantine_rows,
    rules_for,
    summarize,
    with_raw,
)
from coretelecoms.quality.row_rules import BROKEN, FATE, check_resolves, fail_messages, unresolved
from coretelecoms.settings import REPO_ROOT

RULES = {
    "table": "silver.things",
    "rules": [
        {"name": "id_present", "column": "id", "not_null": True, "action": "quarantine"},
        {"name": "colour_in_domain", "column": "colour", "in": ["red", "blue"], "action": "quarantine"},
        {"name": "size_in_range", "column": "size", "between": [1, 10], "action": "warn"},
        {"name": "code_format", "column": "code", "matches": "^[A-Z]{3}$", "action": "drop"},
        {"name": "end_after_start", "expr": "finish >= start", "action": "warn"},
        {"name": "raw_size_is_number", "expr": "_raw.size RLIKE '^[0-9]+$'", "action": "warn"},
    ],
}


def things(spark):
    rows = [
        ("1", "red", 5, "ABC", 1, 2),  # valid
        ("2", "green", 50, "ABC", 1, 2),  # colour + size
        (None, "green", 50, "abc", 2, 1),  # everything
        ("4", "blue", 5, "ab", 1, 2),  # code: drop
        ("5", "blue", 11, "ABC", 1, 2),  # size: warn, kept
        ("6", "blue", None, None, None, 1),  # nulls pass structured checks; expr with NULL breaks
    ]
    df = spark.createDataFrame(rows, "id string, colour string, size int, code string, start int, finish int")
    return df.transform(with_raw)


def errors(data) -> str:
    with pytest.raises(RuleFileError) as info:
        parse_rules(data, "conf/quality/silver.x.yml")
    return str(info.value)


def test_loader_errors_name_the_file_the_rule_and_the_problem():
    rule = {"name": "a_rule", "action": "warn", "expr": "x > 1"}
    assert (
        "conf/quality/silver.x.yml: rules[0] ('a_rule').action: Input should be 'warn', 'drop', 'quarantine' or 'fail'"
        in errors({"table": "silver.x", "rules": [{**rule, "action": "explode"}]})
    )
    assert "rules[0] ('a_rule'): give 'expr'" in errors(
        {"table": "silver.x", "rules": [{"name": "a_rule", "action": "warn"}]}
    )
    assert "exactly one of not_null / in / matches / between (found: in, matches)" in errors(
        {
            "table": "silver.x",
            "rules": [{"name": "a_rule", "action": "warn", "column": "c", "in": [1], "matches": "x"}],
        }
    )
    assert "not both" in errors({"table": "silver.x", "rules": [{**rule, "column": "c", "not_null": True}]})
    assert "must be snake_case" in errors({"table": "silver.x", "rules": [{**rule, "name": "Bad Name"}]})
    assert "rules[0] ('a_rule').colour: unknown key" in errors(
        {"table": "silver.x", "rules": [{**rule, "colour": 1}]}
    )
    assert "rule name 'a_rule' is used twice" in errors({"table": "silver.x", "rules": [rule, rule]})
    assert "on_orphan: Input should be 'keep' or 'quarantine'" in errors(
        {"table": "silver.x", "on_orphan": "maybe"}
    )
    assert "'matches' is not a valid regular expression" in errors(
        {"table": "silver.x", "rules": [{"name": "r", "action": "warn", "column": "c", "matches": "(["}]}
    )
    assert "minimum 5.0 is above maximum 1.0" in errors(
        {"table": "silver.x", "rules": [{"name": "r", "action": "warn", "column": "c", "between": [5, 1]}]}
    )
    assert "table 'things' must be <layer>.<entity>" in errors({"table": "things"})
    assert "expected a mapping" in errors(["not", "a", "mapping"])


def test_load_rules_checks_yaml_and_file_name(tmp_path: Path):
    bad = tmp_path / "silver.x.yml"
    bad.write_text("table: silver.x\nrules: [\n")
    with pytest.raises(RuleFileError, match=r"silver.x.yml: not valid YAML"):
        load_rules(bad)
    other = tmp_path / "silver.y.yml"
    other.write_text("table: silver.x\nrules: []\n")
    with pytest.raises(
        RuleFileError, match=r"declares table 'silver.x' but the file is named for 'silver.y'"
    ):
        load_rules(other)
    with pytest.raises(RuleFileError, match="rule file not found"):
        load_rules(tmp_path / "silver.none.yml")
    assert rules_for("silver.none", tmp_path).rules == []  # no file: no rules


def test_every_shipped_rule_file_loads():
    files = sorted((REPO_ROOT / "conf" / "quality").glob("*.yml"))
    assert {f.stem for f in files} >= {
        "silver.customers",
        "silver.agents",
        "silver.call_logs",
        "silver.social_complaints",
        "silver.web_complaints",
    }
    for f in files:
        rules = load_rules(f)
        assert rules.rules, f


def test_a_row_breaking_several_rules_lists_them_all_and_the_strongest_action_wins(spark):
    rules = parse_rules(RULES)
    by_id = {r["id"]: r for r in things(spark).transform(apply_rules(rules)).collect()}
    assert by_id["1"][BROKEN] == [] and by_id["1"][FATE] == "keep"
    assert by_id["2"][BROKEN] == ["colour_in_domain", "size_in_range"]
    assert by_id["2"][FATE] == "quarantine"
    assert by_id[None][BROKEN] == [
        "id_present",
        "colour_in_domain",
        "size_in_range",
        "code_format",
        "end_after_start",
    ]
    assert by_id[None][FATE] == "quarantine"
    assert by_id["4"][BROKEN] == ["code_format"] and by_id["4"][FATE] == "drop"
    assert by_id["5"][BROKEN] == ["size_in_range"] and by_id["5"][FATE] == "keep"
    # structured checks let NULL pass; a free expr with a NULL operand is broken; raw text is readable
    assert by_id["6"][BROKEN] == ["end_after_start", "raw_size_is_number"]


def test_counts_per_action_and_rule(spark):
    rules = parse_rules(RULES)
    outcome = summarize(things(spark).transform(apply_rules(rules)), rules)
    assert (
        outcome.rows_in,
        outcome.kept,
        outcome.warned,
        outcome.dropped,
        outcome.quarantined,
        outcome.failed,
    ) == (6, 3, 2, 1, 2, 0)
    assert outcome.holds()
    assert outcome.broken == {
        "id_present": 1,
        "colour_in_domain": 2,
        "size_in_range": 3,
        "code_format": 2,
        "end_after_start": 2,
        "raw_size_is_number": 1,
    }


def test_fail_rules_are_named_with_their_counts(spark):
    data = {
        **RULES,
        "rules": [*RULES["rules"], {"name": "no_green", "expr": "colour <> 'green'", "action": "fail"}],
    }
    rules = parse_rules(data)
    evaluated = things(spark).transform(apply_rules(rules))
    outcome = summarize(evaluated, rules)
    assert outcome.failed == 2
    assert fail_messages(outcome, rules) == [
        "rule 'no_green' (action fail: colour <> 'green') broken by 2 of 6 rows"
    ]
    assert {r[FATE] for r in evaluated.filter("colour = 'green'").collect()} == {"fail"}


def test_quarantine_rows_keep_the_raw_record_rule_names_and_lineage(spark):
    rules = parse_rules(RULES)
    df = spark.createDataFrame(
        [("7", "green", 5, "ABC", 1, 2, "landing/x.csv", 12, dt.date(2025, 11, 20))],
        "id string, colour string, size int, code string, start int, finish int, _source_file string, "
        "_source_record long, _source_date date",
    ).withColumn("note", F.lit(None).cast("string"))
    evaluated = df.transform(with_raw).transform(apply_rules(rules))
    at = dt.datetime(2025, 11, 21, 8, 0, 0)
    row = quarantine_rows(
        evaluated.filter(F.col(FATE) == "quarantine"), "silver.things", "silver-r1", at
    ).first()
    assert row["table_name"] == "silver.things"
    assert row["rule_names"] == ["colour_in_domain"]
    assert row["raw_record"].startswith('{"id":"7","colour":"green","size":5')
    assert '"note":null' in row["raw_record"]  # nulls are kept in the raw JSON
    assert (row["_source_file"], row["_source_record"], row["_source_date"]) == (
        "landing/x.csv",
        12,
        dt.date(2025, 11, 20),
    )
    assert (row["_run_id"], row["quarantined_at"]) == ("silver-r1", at)


def test_rules_that_do_not_resolve_are_reported_clearly(spark):
    rules = parse_rules(
        {
            "table": "silver.x",
            "rules": [
                {"name": "uses_raw", "expr": "_raw.size IS NOT NULL", "action": "warn"},
                {"name": "plain", "column": "size", "not_null": True, "action": "warn"},
            ],
        }
    )
    df = spark.createDataFrame([(1,)], "size int")
    assert list(unresolved(df, rules)) == ["uses_raw"]
    with pytest.raises(RuleFileError, match=r"rule 'uses_raw' cannot be evaluated: reads _raw"):
        check_resolves(df, rules)
    typo = parse_rules(
        {"table": "silver.x", "rules": [{"name": "typo", "expr": "siez > 1", "action": "warn"}]}
    )
    with pytest.raises(RuleFileError, match="rule 'typo' cannot be evaluated"):
        check_resolves(df, typo)


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("silver.web_complaints", "request_date"),
        ("silver.social_complaints", "request_date"),
        ("silver.call_logs", "call_start_time"),
    ],
)
def test_event_times_after_the_drop_date_are_quarantined_past_one_day_of_tolerance(spark, table, column):
    shipped = load_rules(REPO_ROOT / "conf" / "quality" / f"{table}.yml")
    name = f"{column}_not_after_drop"
    rules = shipped.model_copy(update={"rules": [r for r in shipped.rules if r.name == name]})
    assert rules.rules and rules.rules[0].action == "quarantine"
    drop = dt.date(2025, 11, 20)
    rows = [
        ("future", dt.datetime(2031, 5, 1, 10), drop),
        ("same_day", dt.datetime(2025, 11, 20, 23, 59), drop),
        ("next_day", dt.datetime(2025, 11, 21, 23, 59, 59), drop),  # within the 1-day tolerance
        ("two_days", dt.datetime(2025, 11, 22, 0, 0), drop),
        ("no_time", None, drop),
    ]
    df = spark.createDataFrame(rows, f"id string, {column} timestamp, _source_date date")
    fate = {r["id"]: (r[FATE], r[BROKEN]) for r in df.transform(apply_rules(rules)).collect()}
    assert fate == {
        "future": ("quarantine", [name]),
        "same_day": ("keep", []),
        "next_day": ("keep", []),
        "two_days": ("quarantine", [name]),
        "no_time": ("keep", []),
    }
