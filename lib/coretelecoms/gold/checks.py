"""The gold quality gate: one Great Expectations suite per gold table (`<table>.table`), and for the fact a
second one over the rows the run wrote (`gold.fct_complaint.batch`), validated with the lake's shared GX
project (`coretelecoms.quality.gx`), so the results land in the same Data Docs site.

What each suite expects (gating unless marked):
- every table: its primary key present and unique;
- dimensions: the unknown member (-1) exists; SCD2 dimensions also have one current version per natural
  key and versions that tile time (first from 1900-01-01, each `valid_to` = the next `valid_from`, the
  last to 9999-12-31: no gaps, no overlaps);
- the fact: rows = silver complaint rows at the versions absorbed (whole table); every dimension key of the
  facts this run wrote present and resolving to a dimension row, facts on the unknown member counted
  (warning, not gating) (`.batch`: re-joining every stored fact to 2.5M customer keys each day cost more
  than the rest of the gate, and a stored fact changes only when a run rewrites it);
- lifecycle: rows = fact rows; aggregates: their counts add up to the fact rows; the mart: one row per
  customer and a score within 0–100.

The fact and the lifecycle grow with the history, so a daily run checks them as a whole by their commit
checks (`.commit`: the Delta log's rows and key NULLs, the keys the run wrote unique) and their `.table`
suites run in `maintenance` and `coretelecoms quality check`. The other tables are bounded (calendar,
members, customers, day x channel x category) and keep their `.table` suite whenever they are written.

Cross-table conditions (a key resolves, a sum reconciles) are computed on a prepared frame (the fact
joined to its dimensions) or passed as the expected value, so GX sees one frame per suite.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from coretelecoms.gold import refresh as R
from coretelecoms.gold.complaints import SOURCES
from coretelecoms.gold.incremental import watermark
from coretelecoms.gold.keys import HIGH_TIME, LOW_TIME, UNKNOWN_KEY, ts_literal
from coretelecoms.gold.marts import TIERS
from coretelecoms.lake import DeltaEngine
from coretelecoms.quality.commit_checks import commit_checks


@dataclass
class GoldSuite:
    suite: object  # coretelecoms.quality.gx.Suite
    frame: DataFrame


def _gx():
    import great_expectations.expectations as gxe

    from coretelecoms.quality import gx

    return gx, gxe


def _meta(name: str, gate: bool, note: str) -> dict:
    return {"rule": name, "action": "fail" if gate else "warn", "gate": gate, "sql": note}


def _check(
    name: str, expectation_cls, *, gate: bool = True, note: str = "", needs=(), derived=None, **kwargs
):
    gx, _ = _gx()
    severity = "critical" if gate else "warning"
    exp = expectation_cls(meta=_meta(name, gate, note), severity=severity, notes=note or name, **kwargs)
    return gx.Check(name, "fail" if gate else "warn", gate, exp, tuple(needs), dict(derived or {}))


def _always_true(name: str, expr: Column, note: str, gate: bool = True):
    """A derived boolean column that must be TRUE on every row."""
    _, gxe = _gx()
    column = f"_rule__{name}"
    return _check(
        name,
        gxe.ExpectColumnValuesToBeInSet,
        gate=gate,
        note=note,
        derived={column: F.coalesce(expr, F.lit(False))},
        column=column,
        value_set=[True],
    )


def _contains_unknown(key: str):
    """Exactly one row is the unknown member: a sum over a derived flag (one aggregation pass; the
    distinct-values expectation would bring every key to the driver)."""
    _, gxe = _gx()
    column = f"_rule__{key}_is_unknown"
    return _check(
        f"{key}_has_unknown_member",
        gxe.ExpectColumnSumToBeBetween,
        note=f"exactly one unknown member ({key} = -1)",
        derived={column: (F.col(key) == UNKNOWN_KEY).cast("int")},
        column=column,
        min_value=1,
        max_value=1,
    )


def _sum_is(column: str, value: int, note: str):
    _, gxe = _gx()
    return _check(
        f"sum_of_{column}_reconciles",
        gxe.ExpectColumnSumToBeBetween,
        note=note,
        needs=(column,),
        column=column,
        min_value=value,
        max_value=value,
    )


def _suite(table: str, checks: list, frame: DataFrame, stage: str = "table") -> GoldSuite:
    gx, _ = _gx()
    return GoldSuite(gx.Suite(f"{table}.{stage}", table, stage, checks), frame)


SCD2_KEYS = {R.DIM_CUSTOMER: ("customer_sk", "customer_id"), R.DIM_AGENT: ("agent_sk", "agent_id")}
STATIC_KEYS = {R.DIM_DATE: "date_key", R.DIM_CHANNEL: "channel_key", R.DIM_COMPLAINT_CATEGORY: "category_key"}


def scd2_flags(key: str) -> tuple[Column, Column]:
    """(one current version for the row's member, the row's range tiles time with its neighbours)."""
    member = Window.partitionBy(key)
    ordered = member.orderBy("valid_from")
    one_current = F.sum(F.col("is_current").cast("int")).over(member) == 1
    prev, nxt = F.lag("valid_from").over(ordered), F.lead("valid_from").over(ordered)
    tiles = (
        (F.col("valid_from") < F.col("valid_to"))
        & F.when(prev.isNull(), F.col("valid_from") == ts_literal(LOW_TIME)).otherwise(F.lit(True))
        & F.when(nxt.isNull(), F.col("valid_to") == ts_literal(HIGH_TIME)).otherwise(F.col("valid_to") == nxt)
    )
    return one_current, tiles


def dimension_suite(lake: DeltaEngine, table: str) -> GoldSuite:
    gx, _ = _gx()
    df = lake.read(table)
    if table in SCD2_KEYS:
        sk, natural = SCD2_KEYS[table]
        one_current, tiles = scd2_flags(natural)
        checks = [
            *gx.key_checks([sk]),
            _contains_unknown(sk),
            _always_true(
                "one_current_version_per_key", one_current, f"exactly one is_current row per {natural}"
            ),
            _always_true(
                "versions_tile_time", tiles, "valid_from/valid_to: no gap, no overlap, 1900 to 9999"
            ),
        ]
    else:
        sk = STATIC_KEYS[table]
        checks = [*gx.key_checks([sk]), _contains_unknown(sk)]
    return _suite(table, checks, df)


FACT_REFERENCES = (
    ("customer_sk", R.DIM_CUSTOMER, "customer_sk"),
    ("agent_sk", R.DIM_AGENT, "agent_sk"),
    ("channel_key", R.DIM_CHANNEL, "channel_key"),
    ("category_key", R.DIM_COMPLAINT_CATEGORY, "category_key"),
    ("request_date_key", R.DIM_DATE, "date_key"),
    ("resolution_date_key", R.DIM_DATE, "date_key"),
)


def silver_rows(lake: DeltaEngine) -> tuple[int, str]:
    """Silver complaint rows at the versions the fact absorbed (from the Delta log), and a note saying which."""
    total, parts = 0, []
    for source in SOURCES:
        done = watermark(lake, R.FCT_COMPLAINT_TABLE, source.table)
        if done is None or not lake.exists(source.table):
            continue
        n = lake.log_stats(source.table, version=done).rows
        total += n
        parts.append(f"{source.table} v{done}: {n}")
    return total, "; ".join(parts)


def fact_table_suite(lake: DeltaEngine) -> GoldSuite:
    """`.table`: the whole table's key is present and unique, and its rows equal silver's (one narrow column)."""
    gx, _ = _gx()
    expected, note = silver_rows(lake)
    whole = [
        *gx.key_checks(["complaint_sk"]),
        gx.row_count_check("fact_rows_equal_silver_rows", expected, note),
    ]
    return _suite(R.FCT_COMPLAINT_TABLE, whole, lake.read(R.FCT_COMPLAINT_TABLE))


def fact_batch_suite(lake: DeltaEngine, run_ids: list[str]) -> GoldSuite:
    """`.batch`: the facts these runs wrote (each carries its run's id: this run's, and those of commits no
    gate has seen) resolve every dimension key; facts on the unknown member are counted. A fact no run
    rewrote was checked by the run that wrote it, and a dimension change repoints (rewrites) the facts it
    touches, so the references need not be re-joined every day."""
    gx, gxe = _gx()
    table = R.FCT_COMPLAINT_TABLE
    stored = lake.read(table)
    frame = stored.filter(F.col("_run_id").isin(run_ids)).select(
        "complaint_sk", "is_resolved", *[c for c, _, _ in FACT_REFERENCES]
    )
    checks = []
    for i, (column, dim, key) in enumerate(FACT_REFERENCES):
        if not lake.exists(dim):
            continue
        # Every dimension's keys are broadcast (2.5M customer keys are ~20 MB): no shuffle of the fact.
        # (Dimension keys are unique: their own suites gate that whenever they are written.)
        keys = lake.read(dim).select(F.col(key).alias(f"_ref{i}"))
        frame = frame.join(F.broadcast(keys), F.col(column) == F.col(f"_ref{i}"), "left")
        # NULL never equals a key, so this also says "never NULL".
        checks.append(
            _always_true(
                f"{column}_resolves",
                F.col(f"_ref{i}").isNotNull(),
                f"{column} is never NULL and exists in {dim}.{key} (unknown references point at -1)",
            )
        )
        if column == "resolution_date_key":
            # An open complaint has no resolution date yet: only a resolved one on -1 is worth counting.
            checks.append(
                _always_true(
                    "resolved_complaints_have_a_resolution_date",
                    ~(F.col("is_resolved") & (F.col(column) == UNKNOWN_KEY)),
                    "resolved facts whose resolution date is unknown (counted, not failed)",
                    gate=False,
                )
            )
        else:
            checks.append(
                _check(
                    f"{column}_on_unknown_member",
                    gxe.ExpectColumnValuesToNotBeInSet,
                    gate=False,
                    needs=(column,),
                    column=column,
                    value_set=[UNKNOWN_KEY],
                    note="facts on the unknown member (counted, not failed)",
                )
            )
    return _suite(table, checks, frame, stage="batch")


def lifecycle_suite(lake: DeltaEngine) -> GoldSuite:
    gx, _ = _gx()
    facts = lake.log_stats(R.FCT_COMPLAINT_TABLE).rows
    checks = [
        *gx.key_checks(["complaint_sk"]),
        gx.row_count_check("rows_equal_fact_rows", facts, "one row per fact"),
    ]
    return _suite(R.LIFECYCLE, checks, lake.read(R.LIFECYCLE))


def aggregate_suite(lake: DeltaEngine, table: str) -> GoldSuite:
    gx, _ = _gx()
    keys, measure = {
        R.AGG_DAILY: (["date_key", "channel_key", "category_key"], "complaints"),
        R.AGG_AGENT: (["agent_sk", "month_key"], "handled"),
    }[table]
    facts = lake.log_stats(R.FCT_COMPLAINT_TABLE).rows
    checks = [*gx.key_checks(keys), _sum_is(measure, facts, "adds up to the fact rows")]
    return _suite(table, checks, lake.read(table))


def mart_suite(lake: DeltaEngine) -> GoldSuite:
    gx, gxe = _gx()
    checks = [
        *gx.key_checks(["customer_id"]),
        _check(
            "risk_score_0_to_100",
            gxe.ExpectColumnValuesToBeBetween,
            needs=("risk_score",),
            column="risk_score",
            min_value=0,
            max_value=100,
            note="score within 0-100",
        ),
        _check(
            "risk_tier_known",
            gxe.ExpectColumnValuesToBeInSet,
            needs=("risk_tier",),
            column="risk_tier",
            value_set=[name for _, name in TIERS],
            note="low | medium | high | critical",
        ),
    ]
    return _suite(R.MART_RISK, checks, lake.read(R.MART_RISK))


def suites_for(lake: DeltaEngine, table: str) -> list[GoldSuite]:
    """The full (whole-table) suite of `table`."""
    if table in SCD2_KEYS or table in STATIC_KEYS:
        return [dimension_suite(lake, table)]
    if table == R.FCT_COMPLAINT_TABLE:
        return [fact_table_suite(lake)]
    if table == R.LIFECYCLE:
        return [lifecycle_suite(lake)]
    if table in (R.AGG_DAILY, R.AGG_AGENT):
        return [aggregate_suite(lake, table)]
    if table == R.MART_RISK:
        return [mart_suite(lake)]
    raise ValueError(f"no quality suite for {table}")


def commit_checked(lake: DeltaEngine, table: str, run_ids: list[str]):
    """The fact and the lifecycle grow with the history: a daily run checks them at the cost of the batch
    (quality.commit_checks), their full suites run in maintenance and on demand."""
    if table == R.FCT_COMPLAINT_TABLE:
        expected, rule = silver_rows(lake)[0], "fact_rows_equal_silver_rows"
    else:
        expected, rule = lake.log_stats(R.FCT_COMPLAINT_TABLE).rows, "rows_equal_fact_rows"
    return commit_checks(lake, table, ["complaint_sk"], run_ids, expected, rule)


COMMIT_CHECKED = (R.FCT_COMPLAINT_TABLE, R.LIFECYCLE)


def validate(
    gate, lake: DeltaEngine, tables, run_id: str, writers: list[str] = (), full: bool = False
) -> list:
    """Validate `tables` (those that exist) with `gate` (a QualityGate); SuiteResults.

    A daily run (`full=False`) checks the fact and the lifecycle by their commit checks and the fact's batch
    suite (the rows this run and `writers` wrote); `full` runs every table's whole-table suite instead.
    `run_id` names the run in the results."""
    results = []
    for table in tables:
        if not lake.exists(table):
            continue
        if full or table not in COMMIT_CHECKED:
            results += [gate.validate(s.suite, s.frame, run_id) for s in suites_for(lake, table)]
            continue
        results.append(commit_checked(lake, table, [run_id, *writers]))
        if table == R.FCT_COMPLAINT_TABLE:
            batch = fact_batch_suite(lake, [run_id, *writers])
            results.append(gate.validate(batch.suite, batch.frame, run_id))
    return results


def summary(results: list) -> dict:
    """A table's SuiteResults as ledger details: every expectation's outcome and failing row count."""
    return {
        "suite": ", ".join(r.suite for r in results),
        "passed": not any(r.gating_failures for r in results),
        "success": all(r.success for r in results),
        "seconds": round(sum(r.seconds for r in results), 2),
        "expectations": {
            c.name: {"success": c.success, "failed": c.rows_failed, **({"gate": False} if not c.gate else {})}
            for r in results
            for c in r.results
        },
    }
