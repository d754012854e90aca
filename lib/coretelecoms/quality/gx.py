"""Great Expectations for every layer: suites generated from the rule files plus dataset expectations,
validated on Spark DataFrames, gating the layer, and published as one Data Docs site.

One file-backed GX project lives at `<lake>/_quality/gx` (suites, validation definitions, validation
results) and its site at `<lake>/_quality/data_docs/index.html`. Each layer validates a suite per table and
stage: `<table>.batch` (the rows about to be merged) and `<table>.table` (the whole table after the write).

How rules become expectations:
- structured rules map to native expectations (`not_null` -> ExpectColumnValuesToNotBeNull, `in` ->
  ExpectColumnValuesToBeInSet (the accepted values), `matches` -> ...ToMatchRegex, `between` -> ...ToBeBetween);
- a free-SQL rule is projected to a boolean column `_rule__<name>` on the validated frame and expected to be
  always TRUE. (UnexpectedRowsExpectation would run the same predicate but costs two Spark jobs per rule;
  a projected column joins the single aggregation pass GE bundles column metrics into.)

An expectation gates (GX severity `critical`) when its failure must stop the layer; the rest are
`warning`s that are counted and shown. Validated frames are held in memory (a local checkpoint) for the
duration of one validation.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from coretelecoms.quality.docs_site import LocalSite, make_offline
from coretelecoms.quality.metrics import Metric
from coretelecoms.quality.remote import PROJECT, SITE_DIR, RemoteProject, files, quality_site
from coretelecoms.quality.suites import (  # noqa: F401 (the layers build their suites through this module)
    Check,
    Suite,
    _gx,
    key_checks,
    row_count_check,
    rule_checks,
    true_check,
)
from coretelecoms.quality.summary import render as render_summary
from coretelecoms.settings import Settings

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no phoning home from a batch job

log = logging.getLogger(__name__)

DATASOURCE = "spark"
SITE = "lake"
KEEP_VALIDATIONS = 10  # per suite; older results and their pages are pruned so the site stays fast
# No sample of unexpected values: fetching one costs a Spark job per expectation (27 jobs instead of 8
# for a 20-expectation suite); counts are kept, and quarantine keeps the rejected rows themselves.
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}


def quality_root(settings: Settings) -> Path:
    """`<lake>/_quality` for a local lake; for an s3:// lake, `<data dir>/_quality` on this machine, the
    working copy of `<lake>/_quality/` on S3 (see quality.remote)."""
    if settings.is_local:
        return Path(settings.lake.root) / "_quality"
    return Path(settings.data_dir) / "_quality"


def docs_dir(settings: Settings) -> Path:
    return quality_root(settings) / SITE_DIR


def docs_index(settings: Settings) -> Path:
    """The Data Docs index page. Builds it when the GX project exists but the page does not (yet)."""
    index = docs_dir(settings) / "index.html"
    if not index.exists():
        if not (quality_root(settings) / "gx" / "great_expectations.yml").exists():
            raise FileNotFoundError(
                f"no Data Docs yet: {index} does not exist (run silver first: coretelecoms run silver --date D)"
            )
        QualityGate(settings).build_docs()
    return index


# ----------------------------------------------------------------------------------------------- results


@dataclass
class CheckResult:
    name: str
    action: str
    gate: bool
    success: bool
    rows_checked: int | None
    rows_failed: int | None
    observed: Any = None
    error: str | None = None

    def describe(self) -> str:
        what = f"expectation {self.name!r} ({self.action})"
        if self.error:
            return f"{what} raised {self.error}"
        if self.rows_failed is not None and self.rows_checked is not None:
            return f"{what} failed on {self.rows_failed} of {self.rows_checked} rows"
        return f"{what} failed (observed {self.observed})"


@dataclass
class SuiteResult:
    suite: str
    table: str
    stage: str
    success: bool
    results: list[CheckResult]
    seconds: float = 0.0
    # What `_quality.metrics` says produced the results (quality.commit_checks: check).
    kind: str = "expectation"

    @property
    def gating_failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.gate and not r.success]

    def metrics(self) -> list[Metric]:
        return [
            Metric(
                self.table,
                self.stage,
                self.kind,
                r.name,
                r.action,
                r.rows_checked,
                r.rows_failed,
                r.success,
            )
            for r in self.results
        ]


def _fresh(expectation):
    """A copy not yet bound to any suite (a suite object may be validated more than once)."""
    fresh = copy.copy(expectation)
    fresh.id = None
    return fresh


def _check_result(er) -> CheckResult:
    cfg = er.expectation_config
    meta = cfg.meta or {}
    res = er.result or {}
    rows_checked = res.get("element_count")
    rows_failed = res.get("unexpected_count")
    observed = res.get("observed_value")
    if rows_checked is None and cfg.type == "expect_table_row_count_to_equal" and observed is not None:
        rows_checked, rows_failed = int(observed), abs(int(observed) - int(cfg.kwargs.get("value", 0)))
    error = None
    info = er.exception_info or {}
    if info.get("raised_exception"):
        error = (info.get("exception_message") or "an exception").splitlines()[0][:300]
    return CheckResult(
        name=meta.get("rule", cfg.type),
        action=meta.get("action", "fail"),
        gate=bool(meta.get("gate", True)),
        success=bool(er.success),
        rows_checked=None if rows_checked is None else int(rows_checked),
        rows_failed=None if rows_failed is None else int(rows_failed),
        observed=observed,
        error=error,
    )


# A local lake's GX context, one per process and project: opening one costs ~0.5 s, and a process runs
# up to 4 days x 2 gated layers (the demo, the benchmark). A project on S3 is pulled afresh each run, so
# its context is too.
_CONTEXTS: dict[Path, Any] = {}


def _context(root: Path, docs: Path, cache: bool):
    gx, _ = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    config = root / "gx" / "great_expectations.yml"
    if cache and root in _CONTEXTS and config.exists():
        return _CONTEXTS[root]
    context = gx.get_context(mode="file", project_root_dir=str(root))
    site = {
        SITE: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    }
    if context.variables.data_docs_sites != site or context.variables.analytics_enabled is not False:
        context.variables.data_docs_sites = site
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.analytics_enabled = False
        context.variables.save()
        context = gx.get_context(mode="file", project_root_dir=str(root))
    if cache:
        _CONTEXTS[root] = context
    return context


@contextlib.contextmanager
def _held(frame: DataFrame):
    """The frame computed once and held in memory as a fresh one-leaf plan, released on exit.

    GE builds several DataFrames per expectation (withColumn, filter, select, limit, collect), and Spark
    analyses each one over its whole plan. Over a persisted silver batch (windows, joins, derived rule
    columns) that analysis dominated a small batch's validation (21 expectations: 2.6 s persisted, 1.6 s
    checkpointed, warm, checkpoint included); over a local checkpoint the plan is one leaf. Its blocks are
    dropped on exit rather than when the JVM collects the RDD: the checkpoint's plan is a LogicalRDD whose
    RDD holds them."""
    held = frame.localCheckpoint(eager=True)
    try:
        yield held
    finally:
        with contextlib.suppress(Exception):  # only memory is at stake; Spark's cleaner frees it later anyway
            held._jdf.queryExecution().analyzed().rdd().unpersist(False)


# ----------------------------------------------------------------------------------------------- the gate


class QualityGate:
    """The lake's GX project: validate suites on Spark DataFrames, keep results, build the Data Docs site."""

    def __init__(self, settings: Settings) -> None:
        self.root = quality_root(settings)
        self.lake_root = settings.lake.root
        self.docs = docs_dir(settings)
        self.root.mkdir(parents=True, exist_ok=True)
        self.remote = (
            None if settings.is_local else RemoteProject(quality_site(settings.lake.root), self.root)
        )
        if self.remote:
            self.remote.pull_project()
        self.context = _context(self.root, self.docs, cache=self.remote is None)
        self._validated: set[str] = set()

    def _batch_definition(self, asset_name: str, stage: str):
        # persist=False: `validate` hands GE a frame it already holds in memory; GE's default would cache a
        # second copy and never release it. Set on the loaded source too, for projects made before.
        try:
            source = self.context.data_sources.get(DATASOURCE)
            source.persist = False
        except KeyError:
            source = self.context.data_sources.add_spark(name=DATASOURCE, persist=False)
        try:
            asset = source.get_asset(asset_name)
        except LookupError:
            asset = source.add_dataframe_asset(name=asset_name)
        try:
            return asset.get_batch_definition(stage)
        except KeyError:
            return asset.add_batch_definition_whole_dataframe(stage)

    def validate(self, suite: Suite, df: DataFrame, run_name: str, cache: bool = True) -> SuiteResult:
        """Run `suite` on `df`, store the result, return what happened.

        The columns the suite reads are computed once and held while GE computes (`cache=False` when `df`
        already is cached)."""
        import great_expectations as gx
        from great_expectations.core.run_identifier import RunIdentifier

        began = datetime.now(UTC)
        needs = list(dict.fromkeys(c for check in suite.checks for c in check.needs))
        derived = {name: col for check in suite.checks for name, col in check.derived.items()}
        frame = df.select(
            *[F.col(f"`{c}`") for c in needs], *[col.alias(name) for name, col in derived.items()]
        )
        if not frame.columns:
            frame = df.select(F.lit(1).alias("_row"))
        with _held(frame) if cache else contextlib.nullcontext(frame) as frame:
            gx_suite = gx.ExpectationSuite(
                name=suite.name,
                expectations=[_fresh(c.expectation) for c in suite.checks],
                meta={
                    "notes": f"{suite.stage} stage of {suite.asset}; generated from conf/quality/{suite.asset}.yml "
                    "and the layer's dataset expectations"
                },
            )
            gx_suite = self.context.suites.add_or_update(gx_suite)
            definition = self.context.validation_definitions.add_or_update(
                gx.ValidationDefinition(
                    name=suite.name, data=self._batch_definition(suite.asset, suite.stage), suite=gx_suite
                )
            )
            result = definition.run(
                batch_parameters={"dataframe": frame},
                result_format=RESULT_FORMAT,
                run_id=RunIdentifier(run_name=run_name, run_time=began),
            )
        self._validated.add(suite.name)
        results = [_check_result(er) for er in result.results]
        seconds = (datetime.now(UTC) - began).total_seconds()
        log.info("validated %s in %.1fs: %s", suite.name, seconds, "ok" if result.success else "failures")
        return SuiteResult(suite.name, suite.asset, suite.stage, bool(result.success), results, seconds)

    # ------------------------------------------------------------------------------------------- docs

    def _prune(self) -> None:
        """Keep the newest KEEP_VALIDATIONS results per suite; drop older results and their pages."""
        store = self.context.validation_results_store
        by_suite: dict[str, list] = {}
        for key in store.list_keys():
            by_suite.setdefault(key.expectation_suite_identifier.name, []).append(key)
        for suite, keys in by_suite.items():
            keys.sort(key=lambda k: k.run_id.run_time or datetime.min.replace(tzinfo=UTC), reverse=True)
            for key in keys[KEEP_VALIDATIONS:]:
                store.remove_key(key)
                run_name, run_time = key.run_id.to_tuple()[:2]
                run_dir = self.docs / "validations" / Path(*suite.split(".")) / run_name
                shutil.rmtree(run_dir / run_time, ignore_errors=True)
                with contextlib.suppress(OSError):
                    run_dir.rmdir()  # only when no other validation of that run is left in it

    def build_docs(self) -> Path:
        """(Re)build the site: pages for this run's suites and results, and the index over everything kept."""
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        if self.remote:
            self.remote.pull_project(with_site=True)  # what other jobs published since this one started
        before = files(self.root, PROJECT) | files(self.root, SITE_DIR)
        self._prune()
        if self._validated:
            keys = [
                k
                for k in self.context.validation_results_store.list_keys()
                if k.expectation_suite_identifier.name in self._validated
            ]
            newest: dict[str, Any] = {}
            for k in keys:
                name = k.expectation_suite_identifier.name
                if name not in newest or k.run_id.run_time > newest[name].run_id.run_time:
                    newest[name] = k
            ids = [*newest.values(), *[ExpectationSuiteIdentifier(name=n) for n in self._validated]]
            self.context.build_data_docs(site_names=[SITE], resource_identifiers=ids)
        else:
            self.context.build_data_docs(site_names=[SITE])
        make_offline(LocalSite(self.docs))
        render_summary(self.lake_root, self.root)
        if self.remote:
            self.remote.publish(before - (files(self.root, PROJECT) | files(self.root, SITE_DIR)))
        return self.docs / "index.html"

    def latest_results(self) -> dict[str, dict]:
        """Suite name -> {run_name, run_time, success} of its newest stored validation."""
        latest: dict[str, dict] = {}
        store = self.context.validation_results_store
        for key in store.list_keys():
            name = key.expectation_suite_identifier.name
            if name not in latest or key.run_id.run_time > latest[name]["run_time"]:
                latest[name] = {"run_name": key.run_id.run_name, "run_time": key.run_id.run_time, "key": key}
        for info in latest.values():
            info["success"] = bool(store.get(info.pop("key")).success)
        return latest
