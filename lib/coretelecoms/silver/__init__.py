"""Silver: typed, cleaned, deduplicated tables upserted from bronze, with quarantine and quality gates.

`run_silver(ctx, run_date)` processes whatever bronze holds that silver has not consumed, in three phases:

1. plan (no writes): agents and customers, then the three complaint tables (their customer and agent
   references checked against the dimensions as they will be after this run); for each, clean the new
   bronze rows, apply `conf/quality/<table>.yml`, deduplicate, compare with silver, count, and validate
   the batch with Great Expectations. A `fail` rule or a gating expectation stops here: nothing written.
2. commit: quarantine, status history, then the MERGE, each carrying the bronze version consumed;
   reconcile rows in = upserted + unchanged + quarantined + dropped (raise if not).
3. validate each written table as a whole, build the Data Docs site, append `_quality.metrics`, and
   append one `_ops.runs` entry per table.

Tables: `silver.agents`, `silver.customers`, `silver.call_logs`, `silver.social_complaints`,
`silver.web_complaints`, `silver.complaint_status_history`, `silver.quarantine`.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

from coretelecoms import progress
from coretelecoms.context import RunContext
from coretelecoms.ops import ledger
from coretelecoms.ops.ledger import LedgerEntry
from coretelecoms.quality.metrics import Metric, append_metrics
from coretelecoms.quality.quarantine import SCHEMA as QUARANTINE_SCHEMA
from coretelecoms.quality.row_rules import QualityFailure
from coretelecoms.quality.rules import RuleFileError, RuleSet, quality_dir, rules_for
from coretelecoms.silver.complaints import HISTORY_TABLE
from coretelecoms.silver.incremental import (
    Plan,
    ReconciliationError,
    commit,
    known_dimensions,
    plan_table,
    reconcile,
    watermark,
)
from coretelecoms.silver.tables import COMPLAINTS, DIMENSIONS, QUARANTINE_TABLE, TABLES, SilverTable

__all__ = [
    "COMPLAINTS",
    "DIMENSIONS",
    "HISTORY_TABLE",
    "QUARANTINE_TABLE",
    "TABLES",
    "ReconciliationError",
    "SilverTable",
    "run_silver",
]


def _rule_metrics(plan: Plan) -> list[Metric]:
    o = plan.outcome
    return [
        Metric(
            plan.spec.table,
            "batch",
            "rule",
            r.name,
            r.action,
            o.rows_in,
            o.broken.get(r.name, 0),
            o.broken.get(r.name, 0) == 0,
        )
        for r in plan.rules.rules
    ]


class _Run:
    """One silver run's bookkeeping: ledger entries, their details, metrics, the GX gate."""

    def __init__(self, ctx: RunContext, run_date: date, rules_dir: Path, expectations: bool) -> None:
        self.ctx = ctx
        self.run_date = run_date
        self.rules_dir = rules_dir
        self.expectations = expectations
        self.entries = {s.table: LedgerEntry(source=s.entity, run_date=run_date) for s in TABLES}
        self.details: dict[str, dict] = {s.table: {"table": s.table, "bronze": s.bronze} for s in TABLES}
        self.metrics: list[Metric] = []
        self.plans: dict[str, Plan | None] = {}
        self.known = None  # dimension keys for the orphan checks
        self.gate = None

    def open_gate(self):
        if self.expectations and self.gate is None:
            from coretelecoms.quality.gx import QualityGate

            self.gate = QualityGate(self.ctx.settings)
        return self.gate

    def validate(self, suite, df, cache: bool) -> None:
        result = self.open_gate().validate(suite, df, self.ctx.run_id, cache=cache)
        self.metrics += result.metrics()
        d = self.details[suite.asset].setdefault("expectations", {})
        d[suite.stage] = {
            "success": result.success,
            "seconds": round(result.seconds, 2),
            "failed": [r.name for r in result.results if not r.success],
        }
        if result.gating_failures:
            raise QualityFailure(
                suite.asset, f"{suite.stage} expectations", [r.describe() for r in result.gating_failures]
            )

    def plan(self, spec: SilverTable, rules: RuleSet, known) -> None:
        began = time.perf_counter()
        progress.report(f"plan {spec.table}")
        plan = plan_table(self.ctx, spec, rules, known)
        self.plans[spec.table] = plan
        d = self.details[spec.table]
        if plan is None:
            wm = watermark(self.ctx.lake, spec)
            entry = self.entries[spec.table]
            entry.status = "skipped"
            d["reason"] = (
                f"{spec.bronze} does not exist yet"
                if wm.bronze_missing
                else f"nothing new in {spec.bronze} (consumed up to version {wm.consumed})"
            )
            return
        d["bronze_versions"] = plan.wm.describe()
        d["plan_seconds"] = round(time.perf_counter() - began, 2)
        self.metrics += _rule_metrics(plan)
        if self.expectations:
            self.validate(_batch_suite(plan), plan.batch, cache=True)

    def run(self) -> None:
        ctx = self.ctx
        rulesets = {s.table: rules_for(s.table, self.rules_dir) for s in TABLES}
        for spec in DIMENSIONS:
            self.plan(spec, rulesets[spec.table], None)
        for spec in COMPLAINTS:
            if self.known is None and watermark(ctx.lake, spec).has_news:
                self.known = known_dimensions(ctx, self.plans)
            self.plan(spec, rulesets[spec.table], self.known)
        # Every batch passed its rules and expectations: write.
        rows_before = {
            t: (ctx.lake.count(t) if p.table_existed else 0)
            for t, p in self.plans.items()
            if p is not None and self.expectations
        }
        for spec in TABLES:
            plan = self.plans.get(spec.table)
            if plan is None:
                continue
            began = time.perf_counter()
            progress.report(f"write {spec.table}")
            done = commit(ctx, plan)
            counts = reconcile(plan, done)
            entry, d = self.entries[spec.table], self.details[spec.table]
            entry.files = plan.files
            entry.rows_in = counts["rows_in"]
            entry.rows_out = counts["upserted"]
            entry.rejected = counts["quarantined"] + counts["dropped_by_rule"]
            d.update(counts)
            d.update(
                {
                    "reconciled": True,
                    "warned": plan.outcome.warned,
                    "rules_broken": {k: v for k, v in plan.outcome.broken.items() if v},
                    "history_rows": plan.history_rows,
                    "silver_version": done.version,
                    "commit_seconds": round(time.perf_counter() - began, 2),
                    **({"orphans": plan.orphans} if plan.orphans else {}),
                    **({"note": done.note} if done.note else {}),
                }
            )
            if plan.outcome.warned:
                entry.status = "warn"
            share = ctx.settings.quality.quarantine_warn_share
            if counts["rows_in"] and counts["quarantined"] > share * counts["rows_in"]:
                entry.status = "warn"
                d["quarantine_share"] = round(counts["quarantined"] / counts["rows_in"], 4)
                entry.error = (
                    f"quarantined {counts['quarantined']:,} of {counts['rows_in']:,} rows "
                    f"(over quality.quarantine_warn_share = {share:g}): a broken delivery?"
                )
        # A clean first run quarantines nothing, yet readers query silver.quarantine: it exists, empty.
        if not ctx.lake.exists(QUARANTINE_TABLE):
            ctx.lake.append(QUARANTINE_TABLE, ctx.spark.createDataFrame([], QUARANTINE_SCHEMA))
        if self.expectations:
            failures = []
            for spec in TABLES:
                plan = self.plans.get(spec.table)
                if plan is None:
                    continue
                table = ctx.lake.read(spec.table)
                expected = rows_before[spec.table] + plan.inserted
                note = f"rows before {rows_before[spec.table]} + inserted {plan.inserted}"
                try:
                    self.validate(_table_suite(spec, plan.rules, table, expected, note), table, cache=True)
                except QualityFailure as exc:
                    failures.append(exc)
                    self.fail(spec.table, str(exc))
            if failures:
                raise failures[0]

    def fail(self, table: str, message: str) -> None:
        entry = self.entries[table]
        entry.status, entry.error = "failed", message[:1000]

    def stopped_before_commit(self, exc: Exception) -> None:
        culprit = getattr(exc, "table", None)
        for table, entry in self.entries.items():
            if table == culprit or culprit is None:
                self.fail(table, str(exc))
            elif entry.status != "skipped":
                self.fail(table, f"not written: silver stopped before committing ({exc})")

    def finish(self) -> list[LedgerEntry]:
        for plan in self.plans.values():
            if plan is not None:
                plan.release()
        ctx = self.ctx
        append_metrics(ctx.lake, ctx.spark, ctx.run_id, self.run_date, self.metrics)
        if self.gate is not None:
            try:
                index = self.gate.build_docs()
                for d in self.details.values():
                    d["data_docs"] = str(index)
            except Exception as exc:  # docs are a report: a failure to render them must not fail the data
                for d in self.details.values():
                    d["data_docs_error"] = f"{type(exc).__name__}: {exc}"[:300]
        entries = []
        for table, entry in self.entries.items():
            entry.details = json.dumps(self.details[table], default=str)
            entries.append(entry)
        ledger.record(ctx, entries)
        return entries


def _batch_suite(plan: Plan):
    from coretelecoms.silver.expectations import batch_suite

    return batch_suite(plan, plan.batch)


def _table_suite(spec, rules, table, expected, note):
    from coretelecoms.silver.expectations import table_suite

    return table_suite(spec, rules, table, expected, note)


def run_silver(
    ctx: RunContext, run_date: date, *, rules_dir: Path | None = None, expectations: bool = True
) -> list[LedgerEntry]:
    """Bring silver up to date with bronze; one ledger entry per silver table (also appended to `_ops.runs`).

    `rules_dir` defaults to `conf/quality` beside the settings file. `expectations=False` skips the Great
    Expectations gates and Data Docs (row rules, quarantine and reconciliation still apply)."""
    run = _Run(ctx, run_date, rules_dir or quality_dir(ctx.settings), expectations)
    try:
        run.run()
    except QualityFailure as exc:
        if any(e.status == "failed" for e in run.entries.values()):
            pass  # failed after commit (whole-table expectations): entries already say which
        else:
            run.stopped_before_commit(exc)
    except RuleFileError as exc:
        for table in run.entries:
            run.fail(table, str(exc))
    except Exception as exc:
        for table, entry in run.entries.items():
            if entry.status != "skipped":
                run.fail(table, f"{type(exc).__name__}: {exc}")
        run.finish()
        raise
    return run.finish()
