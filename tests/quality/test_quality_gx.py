"""The GX machinery any layer reuses: rules -> expectations, gating vs counted failures, the Data Docs site."""

from __future__ import annotations

import pytest

from coretelecoms.quality import QualityGate, Suite, docs_index, parse_rules
from coretelecoms.quality.gx import key_checks, row_count_check, rule_checks
from coretelecoms.settings import Settings

RULES = parse_rules(
    {
        "table": "gold.things",
        "rules": [
            {"name": "id_present", "column": "id", "not_null": True, "action": "quarantine"},
            {"name": "colour_in_domain", "column": "colour", "in": ["red", "blue"], "action": "warn"},
            {"name": "code_format", "column": "code", "matches": "^[A-Z]{3}$", "action": "drop"},
            {"name": "size_in_range", "column": "size", "between": [1, 10], "action": "fail"},
            {"name": "end_after_start", "expr": "finish >= start", "action": "warn"},
            {"name": "raw_only", "expr": "_raw.size IS NOT NULL", "action": "quarantine"},
        ],
    }
)


def settings(tmp_path) -> Settings:
    return Settings(
        env="test",
        lake={"root": str(tmp_path / "lake"), "delta_engine": "delta-rs"},
        spark={},
        sources={"s3": {"uri": str(tmp_path)}, "postgres": {}, "gsheets": {}},
        warehouse={},
        data_dir=tmp_path,
    )


def test_rules_become_native_expectations_and_gate_by_stage(spark):
    df = spark.createDataFrame(
        [("1", "red", "ABC", 5, 1, 2)],
        "id string, colour string, code string, size int, start int, finish int",
    )
    batch = {c.name: c for c in rule_checks(RULES, df, "batch")}
    assert "raw_only" not in batch  # reads _raw, which this frame does not have
    kinds = {name: c.expectation.expectation_type for name, c in batch.items()}
    assert kinds == {
        "id_present": "expect_column_values_to_not_be_null",
        "colour_in_domain": "expect_column_values_to_be_in_set",
        "code_format": "expect_column_values_to_match_regex",
        "size_in_range": "expect_column_values_to_be_between",
        "end_after_start": "expect_column_values_to_be_in_set",  # on the projected `_rule__end_after_start`
    }
    assert list(batch["end_after_start"].derived) == ["_rule__end_after_start"]
    assert {n for n, c in batch.items() if c.gate} == {"id_present", "code_format", "size_in_range"}
    table = {c.name: c for c in rule_checks(RULES, df, "table")}
    # On stored data only `fail` gates, and quarantine/drop rules (met on entry) are not re-checked.
    assert set(table) == {"colour_in_domain", "size_in_range", "end_after_start"}
    assert {n for n, c in table.items() if c.gate} == {"size_in_range"}
    assert batch["colour_in_domain"].expectation.severity == "warning"
    assert batch["size_in_range"].expectation.meta == {
        "rule": "size_in_range",
        "action": "fail",
        "gate": True,
        "sql": "size IS NULL OR size BETWEEN 1 AND 10",
    }


def test_validate_counts_failures_gates_and_builds_docs(spark, tmp_path):
    s = settings(tmp_path)
    with pytest.raises(FileNotFoundError, match="no Data Docs yet"):
        docs_index(s)
    df = spark.createDataFrame(
        [("1", "red", "ABC", 5, 1, 2), ("2", "green", "ABC", 50, 2, 1), ("2", None, "ABC", 3, 1, 1)],
        "id string, colour string, code string, size int, start int, finish int",
    )
    gate = QualityGate(s)
    held = {i.id() for i in spark.sparkContext._jsc.sc().getRDDStorageInfo()}  # cached by earlier tests
    checks = [
        *key_checks(["id"]),
        *rule_checks(RULES, df, "table"),
        row_count_check("row_count_reconciles", 3, "n"),
    ]
    result = gate.validate(Suite("gold.things.table", "gold.things", "table", checks), df, "gold-run-1")
    got = {r.name: (r.success, r.rows_failed, r.gate) for r in result.results}
    assert got["id_unique"] == (False, 2, True)
    assert got["colour_in_domain"] == (False, 1, False)
    assert got["size_in_range"] == (False, 1, True)
    assert got["end_after_start"] == (False, 1, False)
    assert got["row_count_reconciles"] == (True, 0, True)
    assert {r.name for r in result.gating_failures} == {"id_unique", "size_in_range"}
    assert "expectation 'size_in_range' (fail) failed on 1 of 3 rows" in [
        r.describe() for r in result.gating_failures
    ]
    # The frame GE read was held for the validation only: no block of it stays in memory.
    assert {i.id() for i in spark.sparkContext._jsc.sc().getRDDStorageInfo()} == held
    metrics = {m.rule: m for m in result.metrics()}
    assert (metrics["colour_in_domain"].stage, metrics["colour_in_domain"].kind) == ("table", "expectation")
    index = gate.build_docs()
    assert index == docs_index(s) == tmp_path / "lake" / "_quality" / "data_docs" / "index.html"
    assert "expectations/gold/things/table.html" in index.read_text()
    assert (tmp_path / "lake" / "_quality" / "gx" / "great_expectations.yml").is_file()
    assert QualityGate(s).latest_results()["gold.things.table"]["run_name"] == "gold-run-1"


def test_old_validations_are_pruned_from_the_store_and_the_site(spark, tmp_path, monkeypatch):
    import coretelecoms.quality.gx as gxmod

    monkeypatch.setattr(gxmod, "KEEP_VALIDATIONS", 2)
    s = settings(tmp_path)
    gate = QualityGate(s)
    df = spark.createDataFrame([("1",)], "id string")
    suite = Suite("gold.tiny.table", "gold.tiny", "table", key_checks(["id"]))
    for run in ("r1", "r2", "r3"):
        gate.validate(suite, df, run)
        gate.build_docs()
    keys = gate.context.validation_results_store.list_keys()
    assert sorted(k.run_id.run_name for k in keys) == ["r2", "r3"]
    pages = tmp_path / "lake" / "_quality" / "data_docs" / "validations" / "gold" / "tiny" / "table"
    assert sorted(p.name for p in pages.iterdir()) == ["r2", "r3"]
    assert "/r1/" not in docs_index(s).read_text()
