"""Runs layers for dates, in order, in one process, and says what happened.

Each layer is a function `run_<layer>(ctx, run_date) -> list[LedgerEntry]` in its package. A layer whose
package is not built yet is reported as such instead of pretending to run.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta

import coretelecoms.logs  # noqa: F401  (installs the redaction of every log record)
from coretelecoms.context import RunContext
from coretelecoms.ops import ledger
from coretelecoms.ops.ledger import LedgerEntry
from coretelecoms.ops.runlock import LakeRoot, RunLock
from coretelecoms.secrets import error_text

# Where each layer's `run_<layer>(ctx, run_date)` lives. Landing also runs at the start of bronze;
# `all` is the daily chain; maintenance runs on its own schedule.
MODULES = {
    "landing": "coretelecoms.landing",
    "bronze": "coretelecoms.bronze",
    "silver": "coretelecoms.silver",
    "gold": "coretelecoms.gold",
    "publish": "coretelecoms.publish",
    "maintenance": "coretelecoms.ops.maintenance",
}
LAYERS = list(MODULES)
DAILY_CHAIN = ["bronze", "silver", "gold", "publish"]
# The run locks a layer takes: bronze lands first, so it also excludes a landing run.
LOCKS = {"bronze": ["landing", "bronze"]}


class LayerNotBuilt(RuntimeError):
    pass


@dataclass
class LayerRun:
    layer: str
    run_date: date
    run_id: str
    seconds: float
    entries: list[LedgerEntry]

    @property
    def failed(self) -> bool:
        return any(e.status == "failed" for e in self.entries)

    @property
    def rows_out(self) -> int:
        return sum(e.rows_out for e in self.entries)


def lock_names(layers: list[str]) -> list[str]:
    return [name for layer in layers for name in LOCKS.get(layer, [layer])]


def hold_locks(settings, layers: list[str], run_id: str) -> ExitStack:
    """Take the layers' run locks before Spark starts, for the whole invocation: a second run is refused
    in about a second, naming `run_id` (the invocation's first run). Each layer's run then takes its lock
    again, which hands it over to that run. Raises `LockHeld`; release by closing the stack."""
    stack = ExitStack()
    try:
        for name in lock_names(layers):
            stack.enter_context(RunLock(LakeRoot(settings.lake.root), name, run_id, invocation=True))
    except BaseException:
        stack.close()
        raise
    return stack


def layer_function(layer: str) -> Callable[[RunContext, date], list[LedgerEntry]]:
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; choose from {', '.join(LAYERS)}")
    try:
        module = importlib.import_module(MODULES[layer])
    except ModuleNotFoundError as exc:
        # Only the layer's own package missing means "not built"; a broken import inside it is a real error.
        if exc.name and MODULES[layer].startswith(exc.name):
            raise LayerNotBuilt(f"the {layer} layer is not built yet") from None
        raise
    return getattr(module, f"run_{layer}")


def dates_between(start: date, end: date) -> list[date]:
    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def expand(layer: str) -> list[str]:
    return DAILY_CHAIN if layer == "all" else [layer]


def available_chain() -> list[str]:
    """The daily chain up to the first layer not built yet (used by the demo and the benchmark)."""
    chain = []
    for layer in DAILY_CHAIN:
        try:
            layer_function(layer)
        except LayerNotBuilt:
            break
        chain.append(layer)
    return chain


class PreflightError(RuntimeError):
    """A run that cannot succeed here, found before it reads or writes anything; the message is one line."""


def preflight(ctx: RunContext, layers: list[str]) -> None:
    """What a layer needs from the classpath, checked before the first layer starts: a publish configured for
    the Spark connector without the connector's jars would otherwise fail after gold had already run."""
    from coretelecoms.publish.loaders import ConnectorMissingError, require_spark_connector

    if "publish" in layers and ctx.settings.warehouse.method == "spark-connector":
        try:
            require_spark_connector(ctx.spark)
        except ConnectorMissingError as exc:
            raise PreflightError(str(exc)) from None


def start_context(settings, layers: list[str]) -> RunContext:
    """The run's context (session, lake engine), then the preflight; either failing raises PreflightError."""
    from coretelecoms.lake import DeltaEngineError

    try:
        ctx = RunContext.create(settings, layers[0])
    except DeltaEngineError as exc:
        raise PreflightError(str(exc)) from None
    preflight(ctx, layers)
    return ctx


def run_recorded(
    ctx: RunContext, layer: str, run: Callable, run_date: date | None, log: logging.Logger | None = None
) -> list[LedgerEntry]:
    """`run(ctx, run_date)` under the layer's run lock; an exception becomes one failed ledger entry,
    recorded, so `coretelecoms status` shows it and a backfill retries it, instead of a traceback that loses it.

    A lock held by another run raises `LockHeld` before anything runs, and is not recorded: this run did
    nothing, and a failed entry would hide the other run's outcome from the ledger."""
    with ExitStack() as locks:
        for name in lock_names([layer]):
            locks.enter_context(RunLock(ctx.lake, name, ctx.run_id, run_date))
        return _recorded(ctx, layer, run, run_date, log)


def _recorded(ctx, layer, run, run_date, log) -> list[LedgerEntry]:
    try:
        return run(ctx, run_date)
    except Exception as exc:
        (log or logging.getLogger(__name__)).exception(
            "%s %s failed", layer, run_date or "-", extra={"layer": layer, "run_id": ctx.run_id}
        )
        entries = [LedgerEntry(source="*", run_date=run_date, status="failed", error=error_text(exc))]
        ledger.record(ctx, entries)
        return entries
