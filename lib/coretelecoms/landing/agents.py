"""Agents: a snapshot of the Google Sheet tab `agents`, landed only when its content changed.

`api` mode reads the sheet with gspread and a service account (credentials JSON from a secret
reference), `get_all_values()` so every cell stays text, and writes it as CSV with the sheet's own
header (`iD,NamE,experience,state`). `export` mode copies the sheet export file. Either way the snapshot
lands as `landing/gsheets/agents/agents_<run date>.csv` when its SHA-256 differs from the last one.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

from coretelecoms.landing.copier import Lander, Outcome
from coretelecoms.secrets import resolve_secret
from coretelecoms.settings import GsheetsSourceSettings

SYSTEM = "gsheets"
SOURCE = "agents"
KEY = "agents"


class SheetUnavailable(RuntimeError):
    pass


def sheet_values(cfg: GsheetsSourceSettings, client=None) -> list[list[str]]:
    """All cells of the worksheet as text, header row first."""
    import gspread

    try:
        if client is None:
            info = json.loads(resolve_secret(cfg.service_account_secret, what="the Google service account"))
            client = gspread.service_account_from_dict(info, scopes=gspread.auth.READONLY_SCOPES)
        return client.open(cfg.spreadsheet).worksheet(cfg.worksheet).get_all_values()
    except gspread.exceptions.SpreadsheetNotFound:
        raise SheetUnavailable(
            f"spreadsheet {cfg.spreadsheet!r} not found or not shared with the service account"
        ) from None
    except gspread.exceptions.WorksheetNotFound:
        raise SheetUnavailable(f"worksheet {cfg.worksheet!r} not found in {cfg.spreadsheet!r}") from None
    except gspread.exceptions.APIError as exc:
        raise SheetUnavailable(f"Google Sheets API error for {cfg.spreadsheet!r}: {exc}") from None


def to_csv(values: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows(values)
    return buf.getvalue().encode("utf-8")


def land_agents(lander: Lander, cfg: GsheetsSourceSettings, run_date: date, client=None) -> Outcome:
    out = Outcome()
    rel = f"{SYSTEM}/agents/agents_{run_date.isoformat()}.csv"
    if cfg.mode == "api":
        content = to_csv(sheet_values(cfg, client))
        source_uri = f"gsheets:{cfg.spreadsheet}/{cfg.worksheet}"

        def write(w):
            w.write(content)
    else:
        if not cfg.export_path or not Path(cfg.export_path).is_file():
            raise SheetUnavailable(
                f"agents export file {cfg.export_path} not found (sources.gsheets.export_path)"
            )
        source_uri = str(cfg.export_path)

        def write(w):
            with open(cfg.export_path, "rb") as fh:
                w.copy_from(fh)

    landed = lander.land(
        source=SOURCE, system=SYSTEM, source_uri=source_uri, key=KEY, rel=rel, write=write, drop_date=run_date
    )
    if landed is None:
        out.skipped.append(KEY)
    else:
        out.landed.append(landed)
    return out
