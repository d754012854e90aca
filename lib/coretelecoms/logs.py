"""Logging: readable lines on a laptop, one JSON object per line where machines read the logs (EMR)."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime

from coretelecoms.secrets import redact

_make_record = logging.getLogRecordFactory()


def _redacted_record(*args, **kwargs) -> logging.LogRecord:
    """Every record of every logger (ours, py4j's, a library's) is redacted when it is made, traceback
    included, so no handler (a console, a file, pytest's capture) ever sees a secret."""
    record = _make_record(*args, **kwargs)
    try:
        record.msg, record.args = redact(record.getMessage()), ()
    except Exception:  # a malformed %-format: leave it for logging to report
        return record
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


if getattr(logging.getLogRecordFactory(), "__name__", "") != "_redacted_record":
    logging.setLogRecordFactory(_redacted_record)


class Redacting(logging.Formatter):
    """Every line leaves through `redact`: a message, or a traceback, may quote a secret."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(Redacting):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("run_id", "layer", "source", "run_date"):
            if hasattr(record, key):
                payload[key] = str(getattr(record, key))
        if record.exc_info:
            payload["error"] = self.formatException(record.exc_info).splitlines()[-1]
        # Redacted before encoding: JSON escapes (of a newline, a quote) would hide a secret's known form.
        return json.dumps({k: redact(v) for k, v in payload.items()})


VERBOSE_ENV = "CORETELECOMS_VERBOSE"


def verbose() -> bool:
    """`--verbose` (or CORETELECOMS_VERBOSE=1): INFO lines, Spark's own log profile and the emulators'
    warnings come back. An environment variable, so that child processes (Spark's workers) see it too."""
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


def setup_logging(json_lines: bool = False, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines else Redacting("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("coretelecoms")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
