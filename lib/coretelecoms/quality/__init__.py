"""Data quality shared by every layer: row rules, quarantine, Great Expectations gates, Data Docs, metrics.

- `rules`: the rule files `conf/quality/<table>.yml` (typed loader with clear errors).
- `row_rules`: evaluate rules on a DataFrame (`_broken_rules`, `_fate`), count, name `fail`s.
- `quarantine`: the quarantine row shape (raw record as JSON, rule names, lineage, run id).
- `gx`: suites generated from the rules plus dataset expectations, validation on Spark, the Data Docs site.
- `metrics`: the `_quality.metrics` history.

Great Expectations is imported only when a gate is opened, so the rest stays light.
"""

from __future__ import annotations

from coretelecoms.quality.gx import QualityGate, Suite, SuiteResult, docs_dir, docs_index, quality_root
from coretelecoms.quality.metrics import TABLE as METRICS_TABLE
from coretelecoms.quality.metrics import Metric, append_metrics
from coretelecoms.quality.quarantine import quarantine_rows, with_raw
from coretelecoms.quality.row_rules import QualityFailure, RuleOutcome, apply_rules, summarize
from coretelecoms.quality.rules import (
    Rule,
    RuleFileError,
    RuleSet,
    load_rules,
    parse_rules,
    quality_dir,
    rules_for,
)

__all__ = [
    "METRICS_TABLE",
    "Metric",
    "QualityFailure",
    "QualityGate",
    "Rule",
    "RuleFileError",
    "RuleOutcome",
    "RuleSet",
    "Suite",
    "SuiteResult",
    "append_metrics",
    "apply_rules",
    "docs_dir",
    "docs_index",
    "load_rules",
    "parse_rules",
    "quality_dir",
    "quarantine_rows",
    "quality_root",
    "rules_for",
    "summarize",
    "with_raw",
]
