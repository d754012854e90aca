"""What every `jobs/<layer>.py` does under spark-submit: parse arguments, run the layer, exit non-zero on failure.

Logs go through the `coretelecoms` logger: one JSON object per line with `--log-json` or in EMR mode (the
driver's stdout/stderr is what EMR keeps), readable lines otherwise.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
from datetime import date

from coretelecoms.logs import setup_logging
from coretelecoms.settings import SettingsError, load_settings

log = logging.getLogger("coretelecoms.job")


def parser_for(layer: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"jobs/{layer}.py", description=f"Run the {layer} layer.")
    if layer == "maintenance":
        parser.add_argument("--date", type=date.fromisoformat, help="run date kept in the ledger (optional)")
    else:
        parser.add_argument("--date", type=date.fromisoformat, help="drop date YYYY-MM-DD")
        parser.add_argument("--start", type=date.fromisoformat, help="first date of a range")
        parser.add_argument("--end", type=date.fromisoformat, help="last date of a range")
    parser.add_argument("--env", help="settings file conf/<env>.yaml (default CORETELECOMS_ENV or local)")
    parser.add_argument(
        "--log-json", action="store_true", help="one JSON object per log line (always on with env emr)"
    )
    if layer == "gold":
        parser.add_argument("--rebuild", action="store_true", help="recompute every gold table from silver")
    return parser


def start_logging(args: argparse.Namespace) -> None:
    env = args.env or os.environ.get("CORETELECOMS_ENV")
    setup_logging(json_lines=args.log_json or env == "emr")


def log_entry(layer: str, run_id: str, run_date, entry) -> None:
    """One line per source; failures at ERROR so they stand out in the driver log."""
    level = logging.ERROR if entry.status == "failed" else logging.INFO
    log.log(
        level,
        f"{layer} {run_date or '-'} {entry.source}: {entry.status} files={entry.files} rows_in={entry.rows_in} "
        f"rows_out={entry.rows_out} rejected={entry.rejected}"
        + (f" error={entry.error}" if entry.error else ""),
        extra={"layer": layer, "run_id": run_id, "source": entry.source, "run_date": run_date},
    )


def main(layer: str, argv: list[str] | None = None) -> int:
    parser = parser_for(layer)
    args = parser.parse_args(argv)
    start_logging(args)
    from coretelecoms.context import new_run_id
    from coretelecoms.ops.runlock import LockHeld
    from coretelecoms.runner import dates_between, hold_locks, layer_function

    if layer == "maintenance" or (args.date and not (args.start or args.end)):
        dates = [args.date]  # maintenance: None when no date is given
    elif args.start and args.end and not args.date:
        try:
            dates = dates_between(args.start, args.end)
        except ValueError as exc:
            parser.error(str(exc))
    else:
        parser.error("give either --date D, or --start D and --end D")
    try:
        settings = load_settings(args.env)
    except SettingsError as exc:
        log.error(f"settings error: {exc}")
        return 2
    run = layer_function(layer)
    if getattr(args, "rebuild", False):
        run = functools.partial(run, rebuild=True)
    first_run = new_run_id(layer)
    try:
        locks = hold_locks(settings, [layer], first_run)
    except LockHeld as exc:  # another run holds the layer: one line, exit 1, before Spark starts
        log.error(str(exc), extra={"layer": layer})
        return 1
    with locks:
        return _run_dates(settings, layer, run, dates, first_run)


def _run_dates(settings, layer: str, run, dates: list, first_run: str) -> int:
    from coretelecoms.ops.runlock import LockHeld
    from coretelecoms.runner import PreflightError, run_recorded, start_context

    try:
        ctx = start_context(settings, [layer])
    except PreflightError as exc:
        log.error(str(exc))
        return 1
    failed = False
    pending = [first_run]  # the run the locks name already
    for run_date in dates:
        ctx = ctx.for_layer(layer, pending.pop() if pending else "")
        try:
            entries = run_recorded(ctx, layer, run, run_date, log)
        except LockHeld as exc:  # another run holds the layer: one line, exit 1
            log.error(str(exc), extra={"layer": layer, "run_id": ctx.run_id})
            return 1
        for entry in entries:
            log_entry(layer, ctx.run_id, run_date, entry)
            failed = failed or entry.status == "failed"
        if failed:
            break
    return 1 if failed else 0


def smoke_main(argv: list[str] | None = None) -> int:
    """jobs/smoke.py: run coretelecoms.ops.smoke on this cluster, log each check, write the report."""
    parser = argparse.ArgumentParser(prog="jobs/smoke.py", description="The cluster's first-run checks.")
    parser.add_argument("--smoke-id", required=True, help="names the scratch prefix and the report")
    parser.add_argument("--env", help="settings file conf/<env>.yaml (default CORETELECOMS_ENV or local)")
    parser.add_argument("--log-json", action="store_true", help="one JSON object per log line")
    args = parser.parse_args(argv)
    start_logging(args)
    from coretelecoms.ops.smoke import passed, run_smoke
    from coretelecoms.spark import get_spark

    try:
        settings = load_settings(args.env)
    except SettingsError as exc:
        log.error(f"settings error: {exc}")
        return 2
    checks = run_smoke(settings, get_spark(settings), args.smoke_id)
    for check in checks:
        level = logging.ERROR if check.status == "fail" else logging.INFO
        log.log(level, f"smoke {check.name}: {check.status} ({check.seconds}s) {check.detail}")
    return 0 if passed(checks) else 1
