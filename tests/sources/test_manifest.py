"""The manifest tells the truth about the disk and the database, and generation is deterministic."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import psycopg2
import pytest
from source_readers import SCALE, csv_records, json_records, table_checksum, table_records, web_tables

from coretelecoms.sources import generate


def recount(path) -> int | None:
    """Data records by parsing the file; None when it does not parse (a truncated JSON)."""
    if path.stat().st_size == 0:
        return 0
    if path.suffix == ".json":
        try:
            return len(json_records(path)[1])
        except json.JSONDecodeError:
            return None
    return len(csv_records(path)[1])


@pytest.mark.parametrize("which", ["clean", "messy"])
def test_manifest_matches_disk(which, request):
    root, manifest, target = request.getfixturevalue(which)
    on_disk = json.loads((root / "manifest.json").read_text())
    assert on_disk == manifest
    for rel, entry in manifest["files"].items():
        path = root / rel
        data = path.read_bytes()
        assert entry["bytes"] == len(data), rel
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), rel
        assert entry["records"] == recount(path), rel
    assert web_tables(target) == sorted(manifest["tables"])
    for table, entry in manifest["tables"].items():
        assert entry["records"] == len(table_records(target, table)[1])


def _snapshot(root, target) -> tuple[dict, dict]:
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    return files, {t: table_checksum(target, t) for t in web_tables(target)}


@pytest.mark.parametrize("rate", [0.0, 0.02])
def test_same_seed_gives_identical_bytes_and_tables(rate, tmp_path, database, request):
    first = request.getfixturevalue("messy" if rate else "clean")
    target = database("again")
    generate(tmp_path, scale=SCALE, seed=42, messy=rate, pg_dsn=target)
    files, tables = _snapshot(first[0], first[2])
    again_files, again_tables = _snapshot(tmp_path, target)
    assert again_files.keys() == files.keys()
    for rel in files:
        assert again_files[rel] == files[rel], rel
    assert again_tables == tables


def test_another_seed_differs(clean, tmp_path, database):
    target = database("other")
    generate(tmp_path, scale=SCALE, seed=43, pg_dsn=target)
    files, tables = _snapshot(clean[0], clean[2])
    other_files, other_tables = _snapshot(tmp_path, target)
    assert other_files.keys() == files.keys()
    assert all(other_files[rel] != files[rel] for rel in files)
    assert all(other_tables[t] != tables[t] for t in tables)


def test_a_clean_day_does_not_depend_on_which_days_were_asked_for(clean, tmp_path, database):
    target = database("oneday")
    generate(tmp_path, scale=SCALE, seed=42, start=date(2025, 11, 22), days=1, pg_dsn=target)
    files, tables = _snapshot(clean[0], clean[2])
    one_files, one_tables = _snapshot(tmp_path, target)
    for rel, data in one_files.items():
        if rel != "manifest.json":
            assert data == files[rel], rel
    assert one_tables == {t: tables[t] for t in one_tables} and len(one_tables) == 1


def test_regenerating_replaces_the_previous_state(tmp_path, database):
    target = database("regen")
    before = generate(tmp_path, scale=0.002, days=3, messy=0.02, pg_dsn=target)
    after = generate(tmp_path, scale=0.002, days=2, pg_dsn=target)
    on_disk = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert on_disk == set(after["files"]) | {"manifest.json"}
    assert len(before["files"]) > len(after["files"])
    assert web_tables(target) == sorted(after["tables"]) and len(after["tables"]) == 2
    assert not list(tmp_path.rglob(".*.tmp")), "no temporary files left behind"
    with psycopg2.connect(target) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM customer_complaints.web_form_request_2025_11_20")
        assert (
            cur.fetchone()[0] == after["tables"]["customer_complaints.web_form_request_2025_11_20"]["records"]
        )
    conn.close()
