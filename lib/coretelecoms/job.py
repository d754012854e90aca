"""What every `jobs/<layer>.py` does under spark-submit: parse arguments, run the layer, exit non-zero on failure."""

from __future__ import annotations

import argparse
import functools
import sys
from datetime import date

from coretelecoms.settings import SettingsError, load_settings


def main(layer: str, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"jobs/{layer}.py", description=f"Run the {layer} layer.")
    parser.add_argument("--date", type=date.fromisoformat, help="drop date YYYY-MM-DD")
    parser.add_argument("--start", type=date.fromisoformat, help="first date of a range")
    parser.add_argument("--end", type=date.fromisoformat, help="last date of a range")
    parser.add_argument("--env", help="settings file conf/<env>.yaml (default CORETELECOMS_ENV or local)")
    if layer == "gold":
        parser.add_argument("--rebuild", action="store_true", help="recompute every gold table from silver")
    args = parser.parse_args(argv)
    from coretelecoms.context import RunContext
    from coretelecoms.runner import dates_between, layer_function

    if args.date and not (args.start or args.end):
        dates = [args.date]
    elif args.start and args.end and not args.date:
        dates = dates_between(args.start, args.end)
    else:
        parser.error("give either --date D, or --start D and --end D")
    try:
        settings = load_settings(args.env)
    except SettingsError as exc:
        print(f"settings error: {exc}", file=sys.stderr)
        return 2
    run = layer_function(layer)
    if getattr(args, "rebuild", False):
        run = functools.partial(run, rebuild=True)
    ctx = RunContext.create(settings, layer)
    failed = False
    for run_date in dates:
        ctx = ctx.for_layer(layer)
        for entry in run(ctx, run_date):
            print(
                f"{layer} {run_date} {entry.source}: {entry.status} files={entry.files} rows_in={entry.rows_in} "
                f"rows_out={entry.rows_out} rejected={entry.rejected}"
                + (f" error={entry.error}" if entry.error else "")
            )
            failed = failed or entry.status == "failed"
        if failed:
            break
    return 1 if failed else 0
