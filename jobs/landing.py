"""spark-submit entry point for landing: `spark-submit jobs/landing.py --date D | --start D --end D [--env E]`.

With a range, each daily object and table of the range not yet landed is landed in one pass.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jobs/landing.py", description="Land the source deliveries.")
    parser.add_argument("--date", type=date.fromisoformat, help="drop date YYYY-MM-DD")
    parser.add_argument("--start", type=date.fromisoformat, help="first date of a range")
    parser.add_argument("--end", type=date.fromisoformat, help="last date of a range")
    parser.add_argument("--env", help="settings file conf/<env>.yaml (default CORETELECOMS_ENV or local)")
    parser.add_argument(
        "--log-json", action="store_true", help="one JSON object per log line (always on with env emr)"
    )
    args = parser.parse_args(argv)
    if not (bool(args.date) ^ bool(args.start and args.end)) or bool(args.start) != bool(args.end):
        parser.error("give either --date D, or --start D and --end D")
    if args.start and args.end < args.start:
        parser.error(f"--end {args.end} is before --start {args.start}")

    from coretelecoms.context import RunContext
    from coretelecoms.job import log, log_entry, start_logging
    from coretelecoms.landing import run_landing
    from coretelecoms.settings import SettingsError, load_settings

    start_logging(args)
    try:
        settings = load_settings(args.env)
    except SettingsError as exc:
        log.error(f"settings error: {exc}")
        return 2
    ctx = RunContext.create(settings, "landing")
    entries = run_landing(ctx, args.date, args.start, args.end)
    label = str(args.date) if args.date else f"{args.start}..{args.end}"
    for e in entries:
        log_entry("landing", ctx.run_id, label, e)
    return 1 if any(e.status == "failed" for e in entries) else 0


if __name__ == "__main__":
    sys.exit(main())
