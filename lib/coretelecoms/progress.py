"""Progress inside a layer: each layer says which source or table it is working on; whoever runs the
layers (the CLI, the benchmark) decides how to show it. Without a listener a report costs nothing."""

from __future__ import annotations

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
