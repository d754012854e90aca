"""Ordinary-life faults injected into the synthetic sources when `messy > 0`.

Row-level kinds (the manifest names record, key, column and the value written), about `messy` of each
file's records split evenly over the kinds that apply, at least one each:
  duplicate_row      exact copy straight after the original (JSON: same values under a new inner key)
  status_change      a complaint of an earlier drop re-appears with another status (not on the first day)
  out_of_domain      category, status, media channel or gender outside its domain
  bad_date           an unparseable date or timestamp
  unknown_customer   a customer id that is not in the customers file
  unknown_agent      an agent id outside 1000-1099
  whitespace_casing  padded or re-cased text (customers, agents and complaints)
  unparseable_line   a call-log line cut short after 2-7 of its 9 fields (the rest of the line lost);
                     the manifest value is the line as delivered
File-level kinds (record null): extra_column (call logs, 2nd day of the run), reordered_columns (social
media, 3rd day), missing_column (web forms, 4th day, resolution_date), and on the last day three extra
files: empty_file (media_complaint_day_<d>_part2.json), header_only_file (call_logs_day_<d>_part2.csv),
truncated_json (media_complaint_day_<d>_part3.json). Re-delivery ("redelivered" entries, one per changed
record): with two days or more, the first day's call-log file arrives again on the last day under the same
name with about `messy` of its statuses changed (`redelivery.py`; `redeliver()` does the same on demand).

Rows are tracked by a private `_uid` column while faults are injected, so every fault can be reported by
its final 1-based record number once the delivery order is fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .vocabulary import STATUSES

COMPLAINT_KINDS = (
    "duplicate_row",
    "status_change",
    "out_of_domain",
    "bad_date",
    "unknown_customer",
    "unknown_agent",
    "whitespace_casing",
)
CUSTOMER_KINDS = ("duplicate_row", "out_of_domain", "bad_date", "whitespace_casing")
AGENT_KINDS = ("whitespace_casing",)
# CSV files with one record per line only: a cut customers line would open a quote that swallows the next.
LINE_KINDS = ("unparseable_line",)

OUT_OF_DOMAIN = {
    "category": ("Billing", "Roaming", "Other"),
    "status": ("Closed", "Escalated", "Pending"),
    "channel": ("TikTok", "Reddit", "Email"),
    "gender": ("U", "X", "Unknown"),
}
BAD_TIMESTAMPS = (
    "2025-02-30 10:15:00",
    "2025-13-01 08:00:00",
    "15/07/2025 09:30",
    "not available",
    "2025-07-15 25:61:00",
)
BAD_DAYS = ("1987-02-31", "31/12/1987", "unknown", "1987-13-01", "00-00-0000")
UNKNOWN_AGENTS = (999, 1100, 1123, 1187, 0, 2001)

# Which roles each kind may touch, per source family.
TARGETS = {
    "customers": {
        "out_of_domain": ("gender",),
        "bad_date": ("birth", "signup"),
        "whitespace_casing": ("name", "email", "gender"),
    },
    "agents": {"whitespace_casing": ("name", "experience", "state")},
    "call_logs": {
        "out_of_domain": ("category", "status"),
        "bad_date": ("event", "end"),
        "unknown_customer": ("customer",),
        "unknown_agent": ("agent",),
        "whitespace_casing": ("customer", "category", "status", "agent"),
    },
    "social_media": {
        "out_of_domain": ("category", "status", "channel"),
        "bad_date": ("event",),
        "unknown_customer": ("customer",),
        "unknown_agent": ("agent",),
        "whitespace_casing": ("customer", "category", "status", "channel"),
    },
    "web_forms": {
        "out_of_domain": ("category", "status"),
        "bad_date": ("event",),
        "unknown_customer": ("customer",),
        "unknown_agent": ("agent",),
        "whitespace_casing": ("customer", "category", "status", "agent"),
    },
}


@dataclass
class Delivery:
    """One file or table being built: rows in delivery order plus the faults pending a record number."""

    source: str
    where: dict  # {"file": relative path} or {"table": qualified name}
    frame: pd.DataFrame  # carries `_uid`; `_clean` marks rows no fault touched
    roles: dict  # role -> column name
    pending: list = field(default_factory=list)


def counts(rate: float, rows: int, kinds: tuple) -> dict:
    """Rows per kind: the fault rate is split across kinds, with at least one each when rows allow."""
    if rate <= 0 or not kinds:
        return {}
    each = max(1, round(rate * rows / len(kinds)))
    budget = rows // 2  # keep most rows clean so faults never stack on one row
    if each * len(kinds) > budget:
        each = budget // len(kinds)
    return {kind: each for kind in kinds} if each else {}


def inject_rows(
    delivery: Delivery,
    rng: np.random.Generator,
    rate: float,
    kinds: tuple,
    *,
    customer_index: pd.Index | None = None,
    earlier: Sequence[Delivery] = (),
    day: str | None = None,
) -> None:
    """Inject row-level faults in place; rows each get at most one fault."""
    frame = delivery.frame
    roles = delivery.roles
    kinds = tuple(k for k in kinds if k != "status_change" or earlier)
    plan = counts(rate, len(frame), kinds)
    if not plan:
        return
    order = rng.permutation(len(frame))
    cursor = 0

    def take(kind: str) -> np.ndarray:
        nonlocal cursor
        rows = np.sort(order[cursor : cursor + plan.get(kind, 0)])
        cursor += len(rows)
        return rows

    targets = TARGETS[delivery.source]
    for kind in ("out_of_domain", "bad_date", "unknown_customer", "unknown_agent", "whitespace_casing"):
        if kind not in plan:
            continue
        for row in take(kind):
            role = _pick(rng, targets[kind])
            column = roles[role]
            old = frame[column].iat[row]
            old = old.item() if isinstance(old, np.generic) else old
            value = _faulty_value(kind, role, old, rng, customer_index)
            frame.iat[row, frame.columns.get_loc(column)] = value
            frame.iat[row, frame.columns.get_loc("_clean")] = False
            delivery.pending.append(
                {
                    "kind": kind,
                    "uid": frame["_uid"].iat[row],
                    "column": column,
                    "value": value,
                    "detail": f"was {old!r}",
                }
            )
    for row in take("unparseable_line"):
        frame.iat[row, frame.columns.get_loc("_clean")] = False
        # The cut is made when the file is written (`cut_lines`); keep at least the index and the key.
        delivery.pending.append(
            {
                "kind": "unparseable_line",
                "uid": frame["_uid"].iat[row],
                "column": None,
                "keep": int(rng.integers(2, 8)),
            }
        )
    next_uid = int(frame["_uid"].max()) + 1
    extra = [_duplicates(delivery, take("duplicate_row"), next_uid)]
    if "status_change" in plan:
        next_uid += len(extra[0])
        extra.append(_status_changes(delivery, rng, plan["status_change"], earlier, day, next_uid))
    extra = [e for e in extra if len(e)]
    if extra:
        frame["_after"] = np.arange(len(frame), dtype=float)
        merged = pd.concat([frame, *extra]).sort_values("_after", kind="stable")
        delivery.frame = merged.drop(columns="_after").reset_index(drop=True)


def _pick(rng: np.random.Generator, options: tuple):
    return options[int(rng.integers(0, len(options)))]


def _faulty_value(kind: str, role: str, old, rng: np.random.Generator, customer_index: pd.Index | None):
    if kind == "out_of_domain":
        return _pick(rng, OUT_OF_DOMAIN[role])
    if kind == "bad_date":
        return _pick(rng, BAD_DAYS if role in ("birth", "signup") else BAD_TIMESTAMPS)
    if kind == "unknown_customer":
        while True:
            value = _uuid(rng)
            if customer_index is None or value not in customer_index:
                return value
    if kind == "unknown_agent":
        value = _pick(rng, UNKNOWN_AGENTS)
        return value if isinstance(old, (int, np.integer)) else str(value)
    return _whitespace_casing(str(old), rng)


def _whitespace_casing(old: str, rng: np.random.Generator) -> str:
    value = (" " + old, old + "  ", old.upper(), " " + old.lower() + " ")[int(rng.integers(0, 4))]
    return value if value != old else " " + old + " "


def _uuid(rng: np.random.Generator) -> str:
    raw = bytearray(rng.integers(0, 256, 16, dtype=np.uint8).tobytes())
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _duplicates(delivery: Delivery, rows: np.ndarray, first_uid: int) -> pd.DataFrame:
    frame = delivery.frame
    copies = frame.iloc[rows].copy()
    copies["_uid"] = np.arange(first_uid, first_uid + len(rows))
    copies["_after"] = rows + 0.5  # straight after the original: a double write
    copies["_clean"] = False
    frame.iloc[rows, frame.columns.get_loc("_clean")] = False
    for uid, original in zip(copies["_uid"], frame["_uid"].iloc[rows], strict=True):
        delivery.pending.append({"kind": "duplicate_row", "uid": uid, "dup_of": original})
    return copies


def _status_changes(
    delivery: Delivery,
    rng: np.random.Generator,
    n: int,
    earlier: Sequence[Delivery],
    day: str,
    first_uid: int,
) -> pd.DataFrame:
    """Complaints from earlier drops delivered again today with another status."""
    pools = [np.flatnonzero(d.frame["_clean"].to_numpy()) for d in earlier]
    which = np.concatenate([np.full(len(rows), i) for i, rows in enumerate(pools)])
    where = np.concatenate(pools)
    chosen = np.sort(rng.choice(len(where), size=min(n, len(where)), replace=False))
    roles = delivery.roles
    status = roles["status"]
    pieces = []
    for uid, c in enumerate(chosen, start=first_uid):
        source = earlier[which[c]]
        row = source.frame.iloc[[where[c]]].copy()
        old = row[status].iat[0]
        new = _pick(rng, tuple(s for s in STATUSES if s != old))
        row[status] = new
        row[roles["generated"]] = day
        if "resolution" in roles:
            row[roles["resolution"]] = resolution_time(row[roles["event"]].iat[0], new, rng, day)
        row["_uid"] = uid
        pieces.append(row)
        first = f"{_where_text(source.where)} record {where[c] + 1}"
        delivery.pending.append(
            {
                "kind": "status_change",
                "uid": uid,
                "column": status,
                "value": new,
                "detail": f"first delivered with status {old!r} in {first}",
            }
        )
    if not pieces:
        return delivery.frame.iloc[0:0]
    changed = pd.concat(pieces)
    changed["_after"] = rng.integers(0, len(delivery.frame), len(changed)) + 0.25
    changed["_clean"] = False
    return changed


def resolution_time(event: str, status: str, rng: np.random.Generator, day: str) -> str:
    """'' unless Resolved; else 1-25 days after the event (~13 on average), never after the drop day."""
    if status != "Resolved":
        return ""
    start = pd.Timestamp(event)
    latest = pd.Timestamp(day) - pd.Timedelta(seconds=1)
    end = min(start + pd.Timedelta(seconds=int(rng.integers(86_400, 25 * 86_400))), latest)
    return end.strftime("%Y-%m-%d %H:%M:%S")


def _where_text(where: dict) -> str:
    return where.get("file") or where["table"]


def cut_lines(delivery: Delivery, text: str) -> str:
    """Cut the lines of pending `unparseable_line` faults in a one-record-per-line CSV text (after the
    header) and note each line as delivered; `text` is the file as written in delivery order."""
    cuts = [p for p in delivery.pending if p["kind"] == "unparseable_line"]
    if not cuts:
        return text
    position = pd.Series(np.arange(1, len(delivery.frame) + 1), index=delivery.frame["_uid"].to_numpy())
    lines = text.split("\n")
    for p in cuts:
        record = int(position[p["uid"]])
        fields = lines[record].split(",")
        assert '"' not in lines[record], "a cut line must not open a quote"
        p["value"] = ",".join(fields[: p["keep"]])
        p["detail"] = f"line cut after {p['keep']} of {len(fields)} fields"
        lines[record] = p["value"]
    return "\n".join(lines)


def resolve(delivery: Delivery) -> list[dict]:
    """Turn pending faults into manifest entries, numbered by the final delivery order."""
    frame = delivery.frame
    position = pd.Series(np.arange(1, len(frame) + 1), index=frame["_uid"].to_numpy())
    key_column = delivery.roles["key"]
    keys = pd.Series(frame[key_column].to_numpy(), index=frame["_uid"].to_numpy())
    out = []
    for p in delivery.pending:
        entry = {"kind": p["kind"], "source": delivery.source, **delivery.where}
        entry["record"] = int(position[p["uid"]])
        key = keys[p["uid"]]
        entry["key"] = key.item() if isinstance(key, np.generic) else key
        if p["kind"] == "duplicate_row":
            entry.update(column=None, value=None, detail=f"duplicate of record {int(position[p['dup_of']])}")
        else:
            value = p["value"]
            entry.update(column=p["column"], value=value.item() if isinstance(value, np.generic) else value)
            entry["detail"] = p["detail"]
        out.append(entry)
    return out
