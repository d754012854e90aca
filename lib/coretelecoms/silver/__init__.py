"""Silver: typed, cleaned, deduplicated tables upserted from bronze, with quarantine and quality gates.

`run_silver(ctx, run_date)` processes whatever bronze holds that silver has not consumed, in three phases:

1. plan (no writes): agents and customers, then the three complaint tables (their customer and agent
   references checked against the dimensions as they will be after this run); for each, clean the new
   bronze rows, apply `conf/quality/<table>.yml`, deduplicate, compare with silver, count, and validate
   the batch with Great Expectations. A `fail` rule or a gating expectation stops here: nothing written.
2. commit: quarantine, status history, then the MERGE, each carrying the bronze version consumed;
   reconcile rows in = upserted + unchanged + quarantined + dropped (raise if not).
3. check each written table as a whole at the batch's cost (quality.commit_checks: the Delta log's row
   and null counts, the written keys unique), build the Data Docs site, append `_quality.metrics`, and
   append one `_ops.runs` entry per table. The full table suites run in `maintenance` and on demand.

Before it commits, the run journals each table's entry and metrics (`ops/journal.py`). A run killed after a
commit but before step 3 is finished by the next run: it checks the tables that run committed and
records that run's entries and metrics, so no committed row escapes the gate.

Tables: `silver.agents`, `silver.customers`, `silver.call_logs`, `silver.social_complaints`,
`silver.web_complaints`, `silver.complaint_status_history`, `silver.quarantine`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from coretelecoms import progress
from coretelecoms.context import RunContext
from coretelecoms.ops import journal, ledger
from coretelecoms.ops.ledger import LedgerEntry
from coretelecoms.quality.commit_checks import STAGE, commit_checks
from coretelecoms.quality.metrics import Metric, append_metrics
from coretelecoms.quality.quarantine import SCHEMA as QUARANTINE_SCHEMA
from coretelecoms.quality.row_rules import QualityFailure
from coretelecoms.quality.rules import RuleFileError, RuleSet, quality_dir, rules_for
from coretelecoms.silver.complaints import HISTORY_TABLE
from coretelecoms.silver.incremental import (
    Committed,
    Plan,
    ReconciliationError,
    app_id,
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

# Test hook: called after every table's commit, before the whole-table checks (a kill there is what
# `journal` recovers from).
AFTER_COMMITS: Callable[[], None] | None = None


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
        self.note_result(suite.asset, suite.stage, result)
        self.raise_gating(suite.asset, suite.stage, result)

    def note_result(self, table: str, stage: str, result) -> None:
        self.metrics += result.metrics()
        self.details[table].setdefault("expectations", {})[stage] = _summary(result)

    @staticmethod
    def raise_gating(table: str, stage: str, result) -> None:
        if result.gating_failures:
            raise QualityFailure(
                table, f"{stage} expectations", [r.describe() for r in result.gating_failures]
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

    def record_commit(self, plan: Plan, counts: dict, version: int | None, note: str | None = None) -> None:
        """Fill the table's entry from its reconciled counts (planned ones for the journal, then the real)."""
        spec, ctx = plan.spec, self.ctx
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
                "silver_version": version,
                **({"orphans": plan.orphans} if plan.orphans else {}),
                **({"note": note} if note else {}),
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

    def write_journal(self, expected: dict[str, int]) -> None:
        """What each table's commit will make its entry and metrics: a killed run's gate is finished from it."""
        rows = []
        for spec in TABLES:
            plan = self.plans.get(spec.table)
            if plan is None:
                continue
            self.record_commit(plan, reconcile(plan, Committed(plan.inserted, plan.updated, None)), None)
            if spec.table in expected:
                self.details[spec.table]["expected_rows"] = expected[spec.table]
            rows.append(
                journal.Unchecked(
                    table=spec.table,
                    entry=self.entries[spec.table],
                    metrics=[m for m in self.metrics if m.table_name == spec.table],
                    txn_app=app_id(spec.table, spec.bronze),
                    txn_version=plan.wm.end,
                )
            )
        for u in rows:
            u.entry.details = json.dumps(self.details[u.table], default=str)
        journal.write(self.ctx, rows)

    def check_table(self, spec: SilverTable, expected: int, run_id: str):
        """The commit checks (quality.commit_checks): the whole table's count, key NULLs and the written
        keys' uniqueness, without reading every stored row; the full suite runs in maintenance."""
        return commit_checks(self.ctx.lake, spec.table, [spec.key], [run_id], expected)

    def recover(self) -> None:
        """Finish the gate of runs killed after committing: check what they committed, record their entries."""
        specs = {s.table: s for s in TABLES}
        for run_id, rows in journal.by_run(journal.pending(self.ctx)).items():
            for u in rows:
                spec = specs[u.table]
                d = json.loads(u.entry.details or "{}")
                if not u.landed(self.ctx.lake):
                    u.entry.status, u.metrics = "failed", []
                    u.entry.error = f"killed before its commit landed; run {self.ctx.run_id} redid it"
                elif self.expectations and "expected_rows" in d:
                    progress.report(f"check {spec.table} (committed by {run_id})")
                    result = self.check_table(spec, d["expected_rows"], run_id)
                    u.metrics += result.metrics()
                    d.setdefault("expectations", {})[STAGE] = _summary(result)
                    try:
                        self.raise_gating(spec.table, STAGE, result)
                    except QualityFailure as exc:
                        u.entry.status, u.entry.error = "failed", str(exc)[:1000]
                u.entry.details = json.dumps(d, default=str)
            journal.finish(self.ctx, run_id, rows)

    def run(self) -> None:
        ctx = self.ctx
        self.recover()
        rulesets = {s.table: rules_for(s.table, self.rules_dir) for s in TABLES}
        for spec in DIMENSIONS:
            self.plan(spec, rulesets[spec.table], None)
        for spec in COMPLAINTS:
            if self.known is None and watermark(ctx.lake, spec).has_news:
                self.known = known_dimensions(ctx, self.plans)
            self.plan(spec, rulesets[spec.table], self.known)
        # Every batch passed its rules and expectations: write.
        expected = {
            t: (ctx.lake.log_stats(t).rows if p.table_existed else 0) + p.inserted
            for t, p in self.plans.items()
            if p is not None and self.expectations
        }
        self.write_journal(expected)
        for spec in TABLES:
            plan = self.plans.get(spec.table)
            if plan is None:
                continue
            began = time.perf_counter()
            progress.report(f"write {spec.table}")
            done = commit(ctx, plan)
            self.record_commit(plan, reconcile(plan, done), done.version, done.note)
            self.details[spec.table]["commit_seconds"] = round(time.perf_counter() - began, 2)
        # A clean first run quarantines nothing, yet readers query silver.quarantine: it exists, empty.
        if not ctx.lake.exists(QUARANTINE_TABLE):
            ctx.lake.append(QUARANTINE_TABLE, ctx.spark.createDataFrame([], QUARANTINE_SCHEMA))
        if AFTER_COMMITS is not None:
            AFTER_COMMITS()
        if self.expectations:
            failures = []
            for spec in TABLES:
                plan = self.plans.get(spec.table)
                if plan is None:
                    continue
                progress.report(f"check {spec.table}")
                result = self.check_table(spec, expected[spec.table], ctx.run_id)
                self.note_result(spec.table, STAGE, result)
                try:
                    self.raise_gating(spec.table, STAGE, result)
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


def _summary(result) -> dict:
    return {
        "success": result.success,
        "seconds": round(result.seconds, 2),
        "failed": [r.name for r in result.results if not r.success],
    }


def _batch_suite(plan: Plan):
    from coretelecoms.silver.expectations import batch_suite

    return batch_suite(plan, plan.batch)


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
