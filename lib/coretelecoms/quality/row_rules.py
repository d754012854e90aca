"""Evaluating row rules on a DataFrame: every broken rule named on the row, one fate per row, one pass of counts.

A row's fate is the strongest action among the rules it broke: fail > quarantine > drop > keep (warn rules
and unbroken rows keep the row). `_broken_rules` lists ALL the rules a row broke, in rule-file order, so a
quarantined row says everything that was wrong with it, warnings included.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from coretelecoms.quality.rules import Rule, RuleFileError, RuleSet

BROKEN = "_broken_rules"
FATE = "_fate"
KEEP, DROP, QUARANTINE, FAIL = "keep", "drop", "quarantine", "fail"


class QualityFailure(RuntimeError):
    """A `fail` rule or a gating expectation did not hold; the layer stops before committing."""

    def __init__(self, table: str, stage: str, failures: list[str]) -> None:
        self.table = table
        self.stage = stage
        self.failures = failures
        super().__init__(f"{table} ({stage}): " + "; ".join(failures))


def references(spark, rule: Rule) -> set[str]:
    """Top-level column names a rule reads, from Spark's SQL parser (no analysis, so no error logs)."""
    if rule.expr is None:
        return {rule.column}
    parsed = spark._jsparkSession.sessionState().sqlParser().parseExpression(rule.expr)
    names: set[str] = set()
    stack = [parsed]
    while stack:
        node = stack.pop()
        if node.getClass().getSimpleName() == "UnresolvedAttribute":
            names.add(node.nameParts().apply(0))
        children = node.children()
        stack.extend(children.apply(i) for i in range(children.size()))
    return names


def _analysis_error(df: DataFrame, rules: list[Rule]) -> str | None:
    try:
        df.select(*[r.predicate().alias(f"_c{i}") for i, r in enumerate(rules)]).schema  # noqa: B018
        return None
    except Exception as exc:
        return " ".join(str(exc).split("\n")[0].split())[:300]


def unresolved(df: DataFrame, rules: RuleSet) -> dict[str, str]:
    """Rules that cannot be evaluated on `df` (a column it reads is absent, or bad SQL): name -> reason."""
    columns = {c.lower() for c in df.columns}
    problems: dict[str, str] = {}
    candidates = []
    for rule in rules.rules:
        try:
            missing = sorted(n for n in references(df.sparkSession, rule) if n.lower() not in columns)
        except Exception as exc:  # the SQL does not parse
            problems[rule.name] = " ".join(str(exc).split("\n")[0].split())[:300]
            continue
        if missing:
            problems[rule.name] = f"reads {', '.join(missing)}, which this frame does not have"
        else:
            candidates.append(rule)
    if candidates and _analysis_error(df, candidates):  # rare: find the culprits one by one
        for rule in candidates:
            reason = _analysis_error(df, [rule])
            if reason:
                problems[rule.name] = reason
    return problems


def check_resolves(df: DataFrame, rules: RuleSet) -> None:
    """Raise RuleFileError naming the first rule that cannot be evaluated on `df`."""
    problems = unresolved(df, rules)
    if problems:
        name, reason = next(iter(problems.items()))
        raise RuleFileError(f"{rules.source or rules.table}: rule {name!r} cannot be evaluated: {reason}")


def apply_rules(rules: RuleSet):
    """`df.transform(apply_rules(rules))`: add `_broken_rules` (array<string>) and `_fate`.

    Built from plain expressions (no higher-order functions) so the whole check stays in generated code."""

    def transform(df: DataFrame) -> DataFrame:
        check_resolves(df, rules)
        if not rules.rules:
            return df.withColumns({BROKEN: F.array().cast("array<string>"), FATE: F.lit(KEEP)})
        flags = {f"_broke_{i}": r.broken() for i, r in enumerate(rules.rules)}
        out = df.withColumns(flags)
        names = F.concat_ws(
            "\u0001", *[F.when(F.col(f), F.lit(r.name)) for f, r in zip(flags, rules.rules, strict=True)]
        )
        # `names` once (it is long generated code): no rule broken -> "" -> [""] -> [].
        broken = F.array_remove(F.split(names, "\u0001"), "")

        def any_of(action: str):
            cols = [F.col(f) for f, r in zip(flags, rules.rules, strict=True) if r.action == action]
            out = F.lit(False)
            for c in cols:
                out = out | c
            return out

        fate = (
            F.when(any_of(FAIL), F.lit(FAIL))
            .when(any_of(QUARANTINE), F.lit(QUARANTINE))
            .when(any_of(DROP), F.lit(DROP))
            .otherwise(F.lit(KEEP))
        )
        return out.withColumns({BROKEN: broken, FATE: fate}).drop(*flags)

    return transform


@dataclass
class RuleOutcome:
    """What the rules did to one batch: rows per fate and rows breaking each rule."""

    rows_in: int = 0
    kept: int = 0
    warned: int = 0
    dropped: int = 0
    quarantined: int = 0
    failed: int = 0
    files: int = 0
    broken: dict[str, int] = field(default_factory=dict)

    def holds(self) -> bool:
        return self.rows_in == self.kept + self.dropped + self.quarantined + self.failed


def _contains_any(names: list[str]):
    out = F.lit(False)
    for name in names:
        out = out | F.array_contains(F.col(BROKEN), name)
    return out


def count_if(cond: Column) -> Column:
    """An aggregation: how many rows satisfy `cond` (NULL on an empty frame, like any SUM)."""
    return F.sum(F.when(cond, 1).otherwise(0)).cast("long")


def outcome_columns(evaluated: DataFrame, rules: RuleSet) -> list:
    """The aggregations behind a RuleOutcome, to run alone (`summarize`) or beside a caller's own counts."""
    warn_names = [r.name for r in rules.by_action("warn")]
    fate = F.col(FATE)
    # Files: a set of a few names (COUNT DISTINCT would make Spark expand every row for its own pass).
    files = (
        F.size(F.collect_set("_source_file")) if "_source_file" in evaluated.columns else F.lit(0)
    ).alias("files")
    aggs = [
        F.count(F.lit(1)).alias("rows_in"),
        count_if(fate == KEEP).alias("kept"),
        count_if((fate == KEEP) & _contains_any(warn_names)).alias("warned"),
        count_if(fate == DROP).alias("dropped"),
        count_if(fate == QUARANTINE).alias("quarantined"),
        count_if(fate == FAIL).alias("failed"),
        files,
    ]
    return aggs + [
        count_if(F.array_contains(F.col(BROKEN), r.name)).alias(f"r{i}") for i, r in enumerate(rules.rules)
    ]


def outcome_of(row, rules: RuleSet) -> RuleOutcome:
    """The RuleOutcome from a row holding the `outcome_columns` aggregations."""
    return RuleOutcome(
        rows_in=row["rows_in"] or 0,
        kept=row["kept"] or 0,
        warned=row["warned"] or 0,
        dropped=row["dropped"] or 0,
        quarantined=row["quarantined"] or 0,
        failed=row["failed"] or 0,
        files=row["files"] or 0,
        broken={r.name: row[f"r{i}"] or 0 for i, r in enumerate(rules.rules)},
    )


def summarize(evaluated: DataFrame, rules: RuleSet) -> RuleOutcome:
    """One aggregation over the evaluated batch."""
    return outcome_of(evaluated.agg(*outcome_columns(evaluated, rules)).first(), rules)


def fail_messages(outcome: RuleOutcome, rules: RuleSet) -> list[str]:
    """One line per `fail` rule that some row broke."""
    return [
        f"rule {r.name!r} (action fail: {r.sql}) broken by {outcome.broken[r.name]} of {outcome.rows_in} rows"
        for r in rules.by_action(FAIL)
        if outcome.broken.get(r.name)
    ]
