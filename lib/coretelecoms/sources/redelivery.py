"""Re-delivered files: the same name arrives again with new content.

Some complaints in an already delivered call-log or social-media file change status; everything else in
the file stays byte for byte the same, and the manifest records the new size, checksum and changes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from .faults import resolution_time
from .generator import read_manifest, write_atomic, write_manifest
from .vocabulary import STATUSES

STATUS = "resolutionstatus"


def redeliver(sources_dir: Path, path: str | Path, *, fraction: float = 0.05, seed: int = 0) -> dict:
    """Rewrite one delivered day file with about `fraction` of its statuses changed; return the manifest.

    Records already named by a fault are left alone, so earlier fault locations stay true.
    """
    sources_dir = Path(sources_dir)
    rel = (
        Path(path).resolve().relative_to(sources_dir.resolve()).as_posix()
        if Path(path).is_absolute()
        else str(path)
    )
    manifest = read_manifest(sources_dir)
    apply_redelivery(sources_dir, manifest, rel, fraction=fraction, seed=seed)
    write_manifest(sources_dir, manifest)
    return manifest


def apply_redelivery(sources_dir: Path, manifest: dict, rel: str, *, fraction: float, seed: int) -> None:
    """`redeliver` on a manifest in memory (also used by `generate` when messy): rewrites the file and
    updates its entry and the faults in place."""
    entry = manifest.get("files", {}).get(rel)
    if entry is None or entry["source"] not in ("call_logs", "social_media") or not entry["records"]:
        raise ValueError(f"{rel} is not a delivered call-log or social-media file with records")
    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(rel.encode())]))
    faulted = _named_records(manifest["faults"], rel)
    target = sources_dir / rel

    if entry["source"] == "call_logs":
        with open(target, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        frame = pd.read_csv(target, header=None, skiprows=1, names=header, dtype=str, keep_default_na=False)
        key = "call ID"
    else:
        document = json.loads(target.read_text(encoding="utf-8"))
        frame = pd.DataFrame({column: list(values.values()) for column, values in document.items()})
        key = "complaint_id"

    records = np.arange(1, len(frame) + 1)
    candidates = np.flatnonzero(frame[STATUS].isin(STATUSES).to_numpy() & ~np.isin(records, list(faulted)))
    if "request_date" in frame:
        parsed = pd.to_datetime(frame["request_date"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        candidates = candidates[parsed.notna().to_numpy()[candidates]]
    n = min(len(candidates), max(1, round(fraction * len(frame))))
    chosen = np.sort(rng.choice(candidates, size=n, replace=False))

    changes = []
    for row in chosen:
        old = frame[STATUS].iat[row]
        new = STATUSES[(STATUSES.index(old) + int(rng.integers(1, len(STATUSES)))) % len(STATUSES)]
        frame.iat[row, frame.columns.get_loc(STATUS)] = new
        if "resolution_date" in frame:
            resolution = resolution_time(frame["request_date"].iat[row], new, rng, entry["date"])
            frame.iat[row, frame.columns.get_loc("resolution_date")] = resolution
        changes.append(
            {
                "kind": "redelivered",
                "source": entry["source"],
                "file": rel,
                "record": int(row) + 1,
                "key": frame[key].iat[row],
                "column": STATUS,
                "value": new,
                "detail": f"was {old!r} in the earlier delivery",
            }
        )

    if entry["source"] == "call_logs":
        # One record per line: rewrite only the changed lines, so every other line (a cut, unparseable
        # one included) keeps its bytes.
        lines = target.read_text(encoding="utf-8").split("\n")
        for row in chosen:
            line = io.StringIO()
            csv.writer(line, lineterminator="").writerow(frame.iloc[row].tolist())
            lines[row + 1] = line.getvalue()
        content = "\n".join(lines)
    else:
        for column, values in document.items():
            document[column] = dict(zip(values, frame[column].tolist(), strict=True))
        # pandas escapes "/" in JSON strings; keep the bytes in the same style as the first delivery.
        content = json.dumps(document, separators=(",", ":")).replace("/", "\\/")
    entry.update(write_atomic(sources_dir, rel, content))
    entry["redelivered"] = entry.get("redelivered", 0) + 1
    manifest["faults"] = sorted(
        manifest["faults"] + changes, key=lambda f: (f.get("file") or f.get("table"), f["record"] or 0)
    )


def _named_records(faults: list[dict], rel: str) -> set[int]:
    """Records of `rel` that some fault points at, directly or as the original of a copy."""
    named = set()
    for fault in faults:
        if fault.get("file") == rel and fault["record"]:
            named.add(fault["record"])
            if fault["kind"] == "duplicate_row":
                named.add(int(re.search(r"record (\d+)", fault["detail"]).group(1)))
        elif found := re.search(f"{re.escape(rel)} record (\\d+)", fault["detail"] or ""):
            named.add(int(found.group(1)))
    return named
