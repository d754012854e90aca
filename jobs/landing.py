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
    args = parser.parse_args(argv)
    if not (bool(args.date) ^ bool(args.start and args.end)) or bool(args.start) != bool(args.end):
        parser.error("give either --date D, or --start D and --end D")
    if args.start and args.end < args.start:
        parser.error(f"--end {args.end} is before --start {args.start}")

    from coretelecoms.context import RunContext
    from coretelecoms.landing import run_landing
    from coretelecoms.settings import SettingsError, load_settings

    try:
        settings = load_settings(args.env)
    except SettingsError as exc:
        print(f"settings error: {exc}", file=sys.stderr)
        return 2
    ctx = RunContext.create(settings, "landing")
    entries = run_landing(ctx, args.date, args.start, args.end)
    label = str(args.date) if args.date else f"{args.start}..{args.end}"
    for e in entries:
        print(
            f"landing {label} {e.source}: {e.status} files={e.files}"
            + (f" error={e.error}" if e.error else "")
        )
    return 1 if any(e.status == "failed" for e in entries) else 0


if __name__ == "__main__":
    sys.exit(main())
