"""Synthetic CoreTelecoms source systems, shaped byte for byte like /work/shared/SOURCES.md.

Strings are built column-wise with numpy's StringDType, so scale 1.0 (2.5M customers, ~700k complaints
a day) takes about a minute. Every random draw comes from a seed sequence of (seed, source, date): the same
inputs give the same bytes, and a clean day's content does not depend on which other days were asked for.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2
from psycopg2 import sql

from . import faults
from .postgres import SCHEMA
from .vocabulary import (
    AGENT_COLUMNS,
    BROKEN_DOMAINS,
    CALL_COLUMNS,
    CATEGORIES,
    CITY_PREFIXES,
    CITY_SUFFIXES,
    CUSTOMER_COLUMNS,
    EXPERIENCE,
    FEMALE_FIRST,
    GOOD_DOMAINS,
    LAST_NAMES,
    MALE_FIRST,
    MEDIA_CHANNELS,
    MILITARY_STATES,
    SOCIAL_COLUMNS,
    STATE_CODES,
    STATUSES,
    STREET_SUFFIXES,
    STREET_WORDS,
    US_STATES,
    WEB_COLUMNS,
)

REAL_VOLUMES = {"customers": 2_500_000, "call_logs": 379_000, "social_media": 38_000, "web_forms": 279_000}
AGENT_COUNT = 100
MIN_ROWS = 10
STREAMS = {"customers": 1, "agents": 2, "call_logs": 3, "social_media": 4, "web_forms": 5}
FAULT_STREAM = 100
INDEX_STREAM = 200

LAKE = "s3/core-telecoms-data-lake"
CUSTOMERS_FILE = f"{LAKE}/customers/customers_dataset.csv"
AGENTS_FILE = "gsheets/agents.csv"
MANIFEST = "manifest.json"

EVENTS_FROM = np.datetime64("2025-01-01T00:00:00", "s")
EVENTS_TO = np.datetime64("2025-11-01T00:00:00", "s")

ROLES = {
    "customers": {
        "key": "customer_id",
        "name": "name",
        "gender": "Gender",
        "birth": "DATE of biRTH",
        "signup": "signup_date",
        "email": "email",
    },
    "agents": {"key": "iD", "name": "NamE", "experience": "experience", "state": "state"},
    "call_logs": {
        "key": "call ID",
        "customer": "customeR iD",
        "category": "COMPLAINT_catego ry",
        "agent": "agent ID",
        "event": "call_start_time",
        "end": "call_end_time",
        "status": "resolutionstatus",
        "generated": "callLogsGenerationDate",
    },
    "social_media": {
        "key": "complaint_id",
        "customer": "customeR iD",
        "category": "COMPLAINT_catego ry",
        "agent": "agent ID",
        "status": "resolutionstatus",
        "event": "request_date",
        "resolution": "resolution_date",
        "channel": "media_channel",
        "generated": "MediaComplaintGenerationDate",
    },
    "web_forms": {
        "key": "request_id",
        "customer": "customeR iD",
        "category": "COMPLAINT_catego ry",
        "agent": "agent ID",
        "status": "resolutionstatus",
        "event": "request_date",
        "resolution": "resolution_date",
        "generated": "webFormGenerationDate",
    },
}
# Data columns in delivery order; the call-log and web-form index column is added when writing.
COLUMNS = {
    "customers": list(CUSTOMER_COLUMNS),
    "agents": list(AGENT_COLUMNS),
    "call_logs": list(CALL_COLUMNS[1:]),
    "social_media": list(SOCIAL_COLUMNS),
    "web_forms": list(WEB_COLUMNS[1:]),
}
# One file-level schema fault per complaint source, on a fixed day of the run (index modulo days).
FILE_FAULTS = {
    "call_logs": ("extra_column", 1),
    "social_media": ("reordered_columns", 2),
    "web_forms": ("missing_column", 3),
}

TEXT = np.dtypes.StringDType()
HEX = b"0123456789abcdef"
DIGITS = b"0123456789"
ALNUM = b"abcdefghijklmnopqrstuvwxyz0123456789"


def call_log_file(day: date, part: str = "") -> str:
    return f"{LAKE}/call logs/call_logs_day_{day.isoformat()}{part}.csv"


def social_file(day: date, part: str = "") -> str:
    return f"{LAKE}/social_medias/media_complaint_day_{day.isoformat()}{part}.json"


def web_table(day: date) -> str:
    return f"{SCHEMA}.web_form_request_{day:%Y_%m_%d}"


# ---------------------------------------------------------------- vectorised building blocks


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *stream]))


def _cat(*parts):
    return functools.reduce(np.strings.add, parts)


def _pick(rng: np.random.Generator, options, n: int, p=None) -> np.ndarray:
    options = np.asarray(options, dtype=TEXT)
    if p is None:
        return options[rng.integers(0, len(options), n)]
    return options[rng.choice(len(options), size=n, p=p)]


def _chars(
    rng: np.random.Generator, n: int, alphabet: bytes, width: int, shortest: int | None = None
) -> np.ndarray:
    """n random strings over `alphabet`, `width` long (or shortest..width long)."""
    codes = np.frombuffer(alphabet, np.uint8)[rng.integers(0, len(alphabet), (n, width))]
    if shortest is not None:
        lengths = rng.integers(shortest, width + 1, n)
        codes[np.arange(width) >= lengths[:, None]] = 0  # numpy drops trailing NULs from bytes strings
    return np.ascontiguousarray(codes).view(f"S{width}").ravel().astype(TEXT)


def _uuids(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower-case UUID v4 strings, and the same 32 hex digits without hyphens."""
    raw = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    table = np.frombuffer(HEX, np.uint8)
    hexes = np.empty((n, 32), np.uint8)
    hexes[:, 0::2] = table[raw >> 4]
    hexes[:, 1::2] = table[raw & 15]
    dashed = np.full((n, 36), ord("-"), np.uint8)
    for lo, hi, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        dashed[:, at : at + hi - lo] = hexes[:, lo:hi]
    return dashed.view("S36").ravel().astype(TEXT), hexes.view("S32").ravel().astype(TEXT)


def _days(rng: np.random.Generator, n: int, first: str, last: str) -> np.ndarray:
    lo = np.datetime64(first, "D")
    span = int((np.datetime64(last, "D") - lo).astype(int)) + 1
    return np.datetime_as_string(lo + rng.integers(0, span, n), unit="D").astype(TEXT)


def _times(stamps: np.ndarray) -> np.ndarray:
    return np.strings.replace(np.datetime_as_string(stamps, unit="s").astype(TEXT), "T", " ")


def _volume(source: str, scale: float, rng: np.random.Generator) -> int:
    # Real daily drops differ a little in size; customers is one fixed file.
    jitter = 1.0 if source == "customers" else 1 + rng.uniform(-0.01, 0.01)
    return max(MIN_ROWS, round(REAL_VOLUMES[source] * scale * jitter))


def _gapped_index(rng: np.random.Generator, n: int) -> np.ndarray:
    """A leftover pandas index after rows were filtered out: 0, 2, 3, 6, 7, 15, ..."""
    steps = rng.geometric(0.5, n)
    return np.cumsum(steps) - steps[0]


def _names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    male = rng.random(n) < 0.5
    first = np.where(male, _pick(rng, MALE_FIRST, n), _pick(rng, FEMALE_FIRST, n))
    return male, first, _pick(rng, LAST_NAMES, n)


# ---------------------------------------------------------------- the sources, clean


def make_customers(seed: int, scale: float) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The customers file, plus its ids and their hex digits for building complaint ids."""
    rng = _rng(seed, STREAMS["customers"])
    n = _volume("customers", scale, rng)
    ids, hexes = _uuids(rng, n)
    male, first, last = _names(rng, n)
    broken = rng.random(n) < 0.5
    domain = np.where(broken, _pick(rng, BROKEN_DOMAINS, n), _pick(rng, GOOD_DOMAINS, n))
    email = _cat(
        _chars(rng, n, HEX, 4, shortest=3),
        np.strings.lower(first),
        _pick(rng, (".", "_", "-"), n),
        np.strings.lower(last),
        _chars(rng, n, ALNUM, 3),
        "@",
        domain,
    )
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "name": _cat(first, " ", last),
            "Gender": np.where(male, "M", "F"),
            "DATE of biRTH": _days(rng, n, "1930-01-01", "2009-12-31"),
            "signup_date": _days(rng, n, "2010-01-01", "2024-12-31"),
            "email": email,
            "address": _addresses(rng, n),
        }
    )
    return frame, ids, hexes


def _addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    """Faker-like US addresses: "<street>\\n<City>, <ST> <ZIP>", about one in ten a military one."""
    street = _cat(
        rng.integers(100, 100_000, n).astype(TEXT),
        " ",
        _pick(rng, STREET_WORDS + LAST_NAMES, n),
        " ",
        _pick(rng, STREET_SUFFIXES, n),
    )
    unit = rng.random(n)
    street = np.where(unit < 0.15, _cat(street, " Apt. ", _chars(rng, n, DIGITS, 3)), street)
    street = np.where(
        (unit >= 0.15) & (unit < 0.3), _cat(street, " Suite ", _chars(rng, n, DIGITS, 3)), street
    )
    city = _cat(
        np.where(rng.random(n) < 0.3, _cat(_pick(rng, CITY_PREFIXES, n), " "), ""),
        _pick(rng, MALE_FIRST + FEMALE_FIRST + LAST_NAMES, n),
        np.where(rng.random(n) < 0.7, _pick(rng, CITY_SUFFIXES, n), ""),
    )
    address = _cat(street, "\n", city, ", ", _pick(rng, STATE_CODES, n), " ", _chars(rng, n, DIGITS, 5))

    military = np.flatnonzero(rng.random(n) < 0.1)
    m = len(military)
    tail = _cat(_pick(rng, MILITARY_STATES, m), " ", _chars(rng, m, DIGITS, 5))
    ship = _cat(_pick(rng, ("USNS ", "USS ", "USCGC "), m), _pick(rng, LAST_NAMES, m), "\nFPO ", tail)
    psc = _cat("PSC ", _chars(rng, m, DIGITS, 4), ", Box ", _chars(rng, m, DIGITS, 4), "\nAPO ", tail)
    box = _cat("Unit ", _chars(rng, m, DIGITS, 4), " Box ", _chars(rng, m, DIGITS, 4), "\nDPO ", tail)
    form = rng.integers(0, 3, m)
    address[military] = np.where(form == 0, ship, np.where(form == 1, psc, box))
    return address


def make_agents(seed: int) -> pd.DataFrame:
    """The agents sheet: always 100 agents, ids 1000-1099."""
    rng = _rng(seed, STREAMS["agents"])
    _, first, last = _names(rng, AGENT_COUNT)
    return pd.DataFrame(
        {
            "iD": np.arange(1000, 1000 + AGENT_COUNT),
            "NamE": _cat(first, " ", last),
            "experience": _pick(rng, EXPERIENCE, AGENT_COUNT, p=[0.2, 0.3, 0.3, 0.2]),
            "state": _pick(rng, US_STATES, AGENT_COUNT),
        }
    )


def make_complaints(
    source: str,
    seed: int,
    scale: float,
    day: date,
    customer_ids: np.ndarray,
    customer_hexes: np.ndarray,
    taken: set,
) -> pd.DataFrame:
    """One day of call logs, social media complaints or web forms (without the index column).

    Customers are drawn uniformly with replacement: over four days at scale 1 that touches
    2.5M x (1 - e^(-2.8/2.5)) ~ 1.69M distinct customers, the real figure.
    """
    rng = _rng(seed, STREAMS[source], day.toordinal())
    n = _volume(source, scale, rng)
    roles = ROLES[source]
    who = rng.integers(0, len(customer_ids), n)
    span = int((EVENTS_TO - EVENTS_FROM).astype(int))
    event = EVENTS_FROM + rng.integers(0, span, n).astype("timedelta64[s]")
    status = _pick(rng, STATUSES, n)
    agents = rng.integers(1000, 1000 + AGENT_COUNT, n)
    cols = {
        roles["key"]: _complaint_ids(rng, customer_hexes[who], source == "web_forms", taken),
        roles["customer"]: customer_ids[who],
        roles["category"]: _pick(rng, CATEGORIES, n),
        roles["agent"]: agents if source == "social_media" else agents.astype(TEXT),
        roles["event"]: _times(event),
        roles["status"]: status,
        roles["generated"]: np.full(n, day.isoformat(), dtype=TEXT),
    }
    if source == "call_logs":
        cols[roles["end"]] = _times(event + (60 * rng.integers(2, 21, n)).astype("timedelta64[s]"))
    else:
        # Social resolutions take ~13 days on average; web forms are quicker. Never after the drop.
        low, high = (86_400, 25 * 86_400) if source == "social_media" else (3_600, 10 * 86_400)
        latest = np.datetime64(day.isoformat(), "s") - np.timedelta64(1, "s")
        resolved = np.minimum(event + rng.integers(low, high, n).astype("timedelta64[s]"), latest)
        cols[roles["resolution"]] = np.where(status == "Resolved", _times(resolved), "")
    if source == "social_media":
        cols[roles["channel"]] = _pick(rng, MEDIA_CHANNELS, n)
    return pd.DataFrame({c: cols[c] for c in COLUMNS[source]})


def _complaint_ids(rng: np.random.Generator, hexes: np.ndarray, web: bool, taken: set) -> np.ndarray:
    """Opaque ids with the customer's 32 hex digits at [8:40]; unique within the run."""
    ids = _draw_ids(rng, hexes, web)
    while True:
        seen = pd.Index(ids.astype(object))
        clash = seen.duplicated() | seen.isin(taken)
        if not clash.any():
            taken.update(seen)
            return ids
        ids[clash] = _draw_ids(rng, hexes[clash], web)


def _draw_ids(rng: np.random.Generator, hexes: np.ndarray, web: bool) -> np.ndarray:
    n = len(hexes)
    stem = np.strings.slice(_pick(rng, MALE_FIRST + FEMALE_FIRST, n), 0, 3)
    stem = np.where(rng.random(n) < 0.5, np.strings.lower(stem), stem)
    ending = _cat(_pick(rng, ("K", "Q", "X"), n), _pick(rng, ("ak", "gd", "ad", "wq"), n))
    if web:  # 8 + 32 + 4 + 4..5 + 3 = 51..52 characters
        keep = rng.integers(4, 6, n)
        head = _cat(stem, _chars(rng, n, HEX, 5))
        middle = _chars(rng, n, DIGITS, 4)
    else:  # 8 + 32 + 1..4 + 7..9 + 3 = 51..56 characters
        keep = rng.integers(7, 10, n)
        head = _cat(stem, _chars(rng, n, HEX, 4), _pick(rng, ("K", "Q", "X"), n))
        middle = _chars(rng, n, DIGITS, 4, shortest=1)
    return _cat(head, hexes, middle, np.strings.slice(hexes, 32 - keep, 32), ending)


# ---------------------------------------------------------------- writing


def write_atomic(sources_dir: Path, rel: str, content: str | bytes | Callable) -> dict:
    """Write atomically (temp name in the same folder, then rename); return size and sha256."""
    path = sources_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if isinstance(content, bytes):
        tmp.write_bytes(content)
    else:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            if isinstance(content, str):
                fh.write(content)
            else:
                content(fh)
    digest = hashlib.sha256()
    with open(tmp, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    size = tmp.stat().st_size
    os.replace(tmp, path)
    return {"bytes": size, "sha256": digest.hexdigest()}


def _load_table(conn, name: str, frame: pd.DataFrame) -> None:
    """Replace one daily table: DROP, CREATE and COPY in one transaction, so readers see old or new."""
    schema, table = name.split(".")
    target = sql.Identifier(schema, table)
    text_columns = [c for c in frame.columns if c != "Column1"]
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL("integer" if c == "Column1" else "text"))
        for c in frame.columns
    )
    # FORCE_NOT_NULL: an unquoted empty CSV field is '' (unresolved), never NULL.
    copy = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({}))").format(
        target,
        sql.SQL(", ").join(map(sql.Identifier, frame.columns)),
        sql.SQL(", ").join(map(sql.Identifier, text_columns)),
    )
    data = io.StringIO(frame.to_csv(index=False, header=False, lineterminator="\n"))
    with conn, conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
        cur.execute(sql.SQL("CREATE TABLE {} ({})").format(target, columns))
        cur.copy_expert(copy.as_string(cur), data)


def _drop_stale_tables(conn, keep: set) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = %s AND table_name LIKE 'web_form_request_%%'",
            (SCHEMA,),
        )
        for (table,) in cur.fetchall():
            if f"{SCHEMA}.{table}" not in keep:
                cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(SCHEMA, table)))


def read_manifest(sources_dir: Path) -> dict:
    path = Path(sources_dir) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def write_manifest(sources_dir: Path, manifest: dict) -> None:
    write_atomic(Path(sources_dir), MANIFEST, json.dumps(manifest, indent=1) + "\n")


# ---------------------------------------------------------------- the run


def generate(
    sources_dir: Path,
    *,
    scale: float = 0.01,
    start: date = date(2025, 11, 20),
    days: int = 4,
    seed: int = 42,
    messy: float = 0.0,
    pg_dsn: str,
) -> dict:
    """Generate every source system under `sources_dir` (and the web forms into `pg_dsn`).

    The result is one complete source-system state: files and tables of an earlier run that this run
    does not produce are removed. Returns the manifest, also written to `sources_dir/manifest.json`.
    """
    sources_dir = Path(sources_dir)
    sources_dir.mkdir(parents=True, exist_ok=True)
    previous = read_manifest(sources_dir)
    dates = [start + timedelta(days=i) for i in range(days)]
    manifest = {
        "seed": seed,
        "scale": scale,
        "start": start.isoformat(),
        "days": days,
        "messy": messy,
        "generated_at": f"{dates[-1].isoformat()}T00:00:00",
        "files": {},
        "tables": {},
        "faults": [],
    }
    run = _Run(sources_dir, manifest, seed, messy)

    customers, customer_ids, customer_hexes = make_customers(seed, scale)
    delivery = faults.Delivery("customers", {"file": CUSTOMERS_FILE}, customers, ROLES["customers"])
    run.inject(delivery, faults.CUSTOMER_KINDS, (STREAMS["customers"],))
    run.write_file(delivery, None, delivery.frame[COLUMNS["customers"]])
    del customers, delivery

    agents = faults.Delivery("agents", {"file": AGENTS_FILE}, make_agents(seed), ROLES["agents"])
    run.inject(agents, faults.AGENT_KINDS, (STREAMS["agents"],))
    run.write_file(agents, None, agents.frame[COLUMNS["agents"]])

    customer_index = pd.Index(customer_ids.astype(object)) if messy > 0 else None
    conn = psycopg2.connect(pg_dsn)
    try:
        for source in ("call_logs", "social_media", "web_forms"):
            earlier: list[faults.Delivery] = []
            taken: set = set()
            for i, day in enumerate(dates):
                frame = make_complaints(source, seed, scale, day, customer_ids, customer_hexes, taken)
                where = (
                    {"table": web_table(day)} if source == "web_forms" else {"file": _day_file(source, day)}
                )
                delivery = faults.Delivery(source, where, frame, ROLES[source])
                stream = (STREAMS[source], day.toordinal())
                kinds = faults.COMPLAINT_KINDS + (faults.LINE_KINDS if source == "call_logs" else ())
                run.inject(delivery, kinds, stream, customer_index, earlier, day.isoformat())
                out = run.shape(delivery, _rng(seed, INDEX_STREAM, *stream), i, days)
                if source == "web_forms":
                    _load_table(conn, where["table"], out)
                    manifest["tables"][where["table"]] = {"date": day.isoformat(), "records": len(out)}
                    run.faults += faults.resolve(delivery)
                else:
                    run.write_file(delivery, day, out)
                earlier.append(delivery)
            if source == "social_media" and messy > 0:
                run.extra_files(dates[-1], earlier[-1])
        _drop_stale_tables(conn, set(manifest["tables"]))
    finally:
        conn.close()

    manifest["faults"] = sorted(run.faults, key=lambda f: (f.get("file") or f.get("table"), f["record"] or 0))
    if messy > 0 and days > 1:
        run.redeliver(call_log_file(dates[0]))

    keep = set(manifest["files"]) | set(_first_deliveries(manifest))
    for rel in [*previous.get("files", {}), *_first_deliveries(previous)]:
        path = (sources_dir / rel).resolve()
        if rel not in keep and path.is_relative_to(sources_dir.resolve()):
            path.unlink(missing_ok=True)
    write_manifest(sources_dir, manifest)
    return manifest


def _first_deliveries(manifest: dict) -> list[str]:
    return [e["first_delivery"]["path"] for e in manifest.get("files", {}).values() if "first_delivery" in e]


def _day_file(source: str, day: date) -> str:
    return call_log_file(day) if source == "call_logs" else social_file(day)


def _content(source: str, out: pd.DataFrame):
    """What a delivered frame looks like on disk."""
    if source == "social_media":
        return out.to_json(orient="columns")
    if source == "call_logs":
        return lambda fh: out.to_csv(fh, lineterminator="\n")  # unnamed index: header starts with ","
    return lambda fh: out.to_csv(fh, index=False, lineterminator="\n")


class _Run:
    """State shared by one generate() call: where files go, the manifest, the faults found so far."""

    def __init__(self, sources_dir: Path, manifest: dict, seed: int, messy: float):
        self.sources_dir = sources_dir
        self.manifest = manifest
        self.seed = seed
        self.messy = messy
        self.faults: list[dict] = []

    def inject(self, delivery, kinds, stream, customer_index=None, earlier=(), day=None) -> None:
        delivery.frame["_uid"] = np.arange(len(delivery.frame))
        delivery.frame["_clean"] = True
        if self.messy > 0:
            rng = _rng(self.seed, FAULT_STREAM, *stream)
            faults.inject_rows(
                delivery,
                rng,
                self.messy,
                kinds,
                customer_index=customer_index,
                earlier=list(earlier),
                day=day,
            )

    def write_file(self, delivery, day: date | None, out: pd.DataFrame) -> None:
        rel = delivery.where["file"]
        entry = {"source": delivery.source, "date": day.isoformat() if day else None, "records": len(out)}
        content = _content(delivery.source, out)
        if any(p["kind"] == "unparseable_line" for p in delivery.pending):
            text = io.StringIO()
            content(text)
            content = faults.cut_lines(delivery, text.getvalue())
        entry.update(write_atomic(self.sources_dir, rel, content))
        self.manifest["files"][rel] = entry
        self.faults += faults.resolve(delivery)

    def shape(self, delivery, rng: np.random.Generator, i: int, days: int) -> pd.DataFrame:
        """The rows as delivered: gapped index (shared by exact duplicates), maybe one schema fault."""
        source = delivery.source
        out = delivery.frame[COLUMNS[source]].copy()
        position = pd.Series(np.arange(len(out)), index=delivery.frame["_uid"].to_numpy())
        duplicates = [p for p in delivery.pending if p["kind"] == "duplicate_row"]
        copies = position[[p["uid"] for p in duplicates]].to_numpy()
        originals = position[[p["dup_of"] for p in duplicates]].to_numpy()
        index = _gapped_index(rng, len(out))
        if source != "social_media":  # a CSV line or table row repeated verbatim; JSON keys must stay unique
            index[copies] = index[originals]
        out.index = index
        kind, at = FILE_FAULTS[source]
        if self.messy > 0 and i == at % days:
            out = self._schema_fault(delivery, out, kind, rng, copies, originals)
        if source == "web_forms":
            out.insert(0, "Column1", index)
        return out

    def _schema_fault(
        self, delivery, out, kind: str, rng: np.random.Generator, copies, originals
    ) -> pd.DataFrame:
        column = None
        if kind == "extra_column":
            column = "call_channel"
            values = _pick(rng, ("IVR", "Agent", "Callback"), len(out))
            values[copies] = values[originals]
            out[column] = values
            detail = f"column {column!r} appended"
        elif kind == "reordered_columns":
            order = list(out.columns)
            while order == list(out.columns):
                order = list(rng.permutation(out.columns))
            out = out[order]
            detail = "columns delivered as " + ", ".join(order)
        else:
            column = delivery.roles["resolution"]
            out = out.drop(columns=column)
            detail = f"column {column!r} missing"
        self.faults.append(_file_fault(kind, delivery.source, delivery.where, detail, column))
        return out

    def redeliver(self, rel: str) -> None:
        """Re-deliver `rel` on the last day: same name, about `messy` of its statuses changed. The bucket
        now holds the new content; the first delivery is kept as a noncurrent version under
        `noncurrent/<rel>` (as a versioned S3 bucket would), so a test can land it first and then see
        the re-delivery arrive."""
        from .redelivery import apply_redelivery  # redelivery.py imports this module

        entry = self.manifest["files"][rel]
        first = f"noncurrent/{rel}"
        shown = write_atomic(self.sources_dir, first, (self.sources_dir / rel).read_bytes())
        entry["first_delivery"] = {"path": first, **shown}
        apply_redelivery(self.sources_dir, self.manifest, rel, fraction=self.messy, seed=self.seed)
        entry["redelivered_on"] = self.manifest["generated_at"][:10]

    def extra_files(self, day: date, social: faults.Delivery) -> None:
        """Files that show up beside the real drop: empty, header-only, truncated."""
        empty = social_file(day, "_part2")
        self._extra(empty, "social_media", day, b"", 0)
        self.faults.append(_file_fault("empty_file", "social_media", {"file": empty}, "0 bytes"))

        header = call_log_file(day, "_part2")
        self._extra(header, "call_logs", day, ",".join(CALL_COLUMNS) + "\n", 0)
        self.faults.append(
            _file_fault("header_only_file", "call_logs", {"file": header}, "header line, no records")
        )

        cut = social_file(day, "_part3")
        whole = social.frame[COLUMNS["social_media"]].head(40).to_json(orient="columns").encode()
        self._extra(cut, "social_media", day, whole[: len(whole) // 2], None)
        detail = (
            f"cut at byte {len(whole) // 2} of {len(whole)}; {min(40, len(social.frame))} records intended"
        )
        self.faults.append(_file_fault("truncated_json", "social_media", {"file": cut}, detail))

    def _extra(self, rel: str, source: str, day: date, content, records: int | None) -> None:
        entry = {"source": source, "date": day.isoformat(), "records": records}
        entry.update(write_atomic(self.sources_dir, rel, content))
        self.manifest["files"][rel] = entry


def _file_fault(kind: str, source: str, where: dict, detail: str, column: str | None = None) -> dict:
    return {
        "kind": kind,
        "source": source,
        **where,
        "record": None,
        "key": None,
        "column": column,
        "value": None,
        "detail": detail,
    }
