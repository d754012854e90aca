"""Progress inside a layer: each layer says which source or table it is working on; whoever runs the
layers (the CLI, the benchmark) decides how to show it (LayerProgress). Without a listener a report costs
nothing."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_listeners: list[Callable[[str], None]] = []


def report(what: str) -> None:
    """`what` just started, e.g. "customers" or "write silver.call_logs"."""
    for listener in list(_listeners):
        listener(what)


@contextmanager
def listening(listener: Callable[[str], None]) -> Iterator[None]:
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


class LayerProgress:
    """Layer runs (dates × layers) done, elapsed and ETA, and the source or table the running layer is on
    (coretelecoms.progress). A live bar at a terminal; plain lines when stdout is not one; log records in
    JSON-log mode (EMR), where a bar would garble the log."""

    def __init__(self, total: int, console, mode: str, log: logging.Logger) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.total, self.finished, self.began = total, 0, time.perf_counter()
        self.console, self.mode, self.log = console, mode, log
        self.what = ""
        self.bar = None
        if self.mode == "live":
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("elapsed"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.task = self.bar.add_task("", total=total)

    def __enter__(self) -> LayerProgress:
        self._listening = listening(self.step)
        self._listening.__enter__()
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self._listening.__exit__(*exc)
        if self.bar:
            self.bar.stop()

    def start(self, layer: str, run_date) -> None:
        self.what = f"{layer} {run_date or ''}".strip()
        self.step("starting")

    def step(self, doing: str) -> None:
        line = f"{self.what}: {doing}"
        if self.mode == "live":
            self.bar.update(self.task, description=line)
            return
        elapsed = time.perf_counter() - self.began
        counts = f"({self.finished}/{self.total} layer runs done, {elapsed:.0f}s)"
        if self.mode == "json":
            self.log.info("%s %s", line, counts)
        else:
            self.console.print(f"{line} {counts}", highlight=False, soft_wrap=True)

    def done(self) -> None:
        self.finished += 1
        if self.bar:
            self.bar.advance(self.task)
