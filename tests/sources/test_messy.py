"""Every fault the manifest names is really there, at the record it names; re-deliveries are recorded."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import datetime

import pytest
from source_readers import DATES, MESSY, csv_records, json_records, records_at

from coretelecoms.sources import generate, redeliver

LAKE = "s3/core-telecoms-data-lake"
KINDS = {
    "duplicate_row",
    "status_change",
    "extra_column",
    "reordered_columns",
    "missing_column",
    "empty_file",
    "header_only_file",
    "truncated_json",
    "out_of_domain",
    "bad_date",
    "unknown_customer",
    "unknown_agent",
    "whitespace_casing",
    "unparseable_line",
    "redelivered",
}
DOMAINS = {
    "COMPLAINT_catego ry": {"Technician Support", "Network Failure", "Router Delivery", "Payments"},
    "resolutionstatus": {"Resolved", "In-Progress", "Backlog", "Blocked"},
    "media_channel": {"Twitter", "Facebook", "Instagram", "LinkedIn"},
    "Gender": {"M", "F"},
}
KEYS = {"customers": "customer_id", "agents": "iD", "call_logs": "call ID", "social_media": "complaint_id"}
KEYS["web_forms"] = "request_id"
CONTRACT = {
    "call_logs": [
        "",
        "call ID",
        "customeR iD",
        "COMPLAINT_catego ry",
        "agent ID",
        "call_start_time",
        "call_end_time",
        "resolutionstatus",
        "callLogsGenerationDate",
    ],
    "social_media": [
        "complaint_id",
        "customeR iD",
        "COMPLAINT_catego ry",
        "agent ID",
        "resolutionstatus",
        "request_date",
        "resolution_date",
        "media_channel",
        "MediaComplaintGenerationDate",
    ],
    "web_forms": [
        "Column1",
        "request_id",
        "customeR iD",
        "COMPLAINT_catego ry",
        "agent ID",
        "resolutionstatus",
        "request_date",
        "resolution_date",
        "webFormGenerationDate",
    ],
}


def parses(value: str) -> bool:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            datetime.strptime(value, fmt)
            return True
        except ValueError:
            pass
    return False


@pytest.fixture(scope="module")
def located(messy):
    """Each fault with the columns and records of the file or table it names (each read once)."""
    root, manifest, target = messy
    cache = {}
    out = []
    for fault in manifest["faults"]:
        where = {k: fault[k] for k in ("file", "table") if k in fault}
        name = where.get("file") or where["table"]
        if fault["record"] is not None and name not in cache:
            cache[name] = records_at(root, target, where)
        out.append((fault, cache.get(name)))
    return out


def test_every_kind_of_fault_is_injected(messy):
    _, manifest, _ = messy
    kinds = Counter(f["kind"] for f in manifest["faults"])
    assert set(kinds) == KINDS
    sources = {f["source"] for f in manifest["faults"] if f["kind"] == "whitespace_casing"}
    assert sources == {"customers", "agents", "call_logs", "social_media", "web_forms"}


def test_fault_rate_is_roughly_the_messy_rate(messy):
    _, manifest, _ = messy
    records = sum(e["records"] or 0 for e in manifest["files"].values()) + sum(
        t["records"] for t in manifest["tables"].values()
    )
    row_faults = sum(1 for f in manifest["faults"] if f["record"] is not None)
    assert 0.01 < row_faults / records < 0.04


def test_row_faults_are_where_the_manifest_says(messy, located):
    root, _, _ = messy
    customers = {r["customer_id"] for r in csv_records(root / f"{LAKE}/customers/customers_dataset.csv")[1]}
    for fault, (_, rows) in ((f, t) for f, t in located if f["record"] is not None):
        row = rows[fault["record"] - 1]
        kind, column, value = fault["kind"], fault["column"], fault["value"]
        assert str(row[KEYS[fault["source"]]]) == str(fault["key"]), fault
        if kind == "unparseable_line":  # the line as delivered, fewer fields than the header
            columns = CONTRACT["call_logs"] + (["call_channel"] if "call_channel" in rows[0] else [])
            assert ",".join(row.values()) == value and 2 <= len(row) < len(columns), fault
            assert fault["detail"] == f"line cut after {len(row)} of {len(columns)} fields"
            continue
        if kind == "duplicate_row":
            original = rows[int(fault["detail"].rsplit(" ", 1)[1]) - 1]
            assert {k: v for k, v in row.items() if k != "_key"} == {
                k: v for k, v in original.items() if k != "_key"
            }
            continue
        assert row[column] == value, fault
        if kind == "out_of_domain":
            assert value not in DOMAINS[column] and value.strip() == value
        elif kind == "bad_date":
            assert not parses(value)
        elif kind == "unknown_customer":
            assert value not in customers
        elif kind == "unknown_agent":
            assert not 1000 <= int(value) <= 1099
            assert type(value) is (int if fault["source"] == "social_media" else str)
        elif kind == "whitespace_casing":
            old = re.fullmatch(r"was '(.*)'", fault["detail"]).group(1)
            assert value != old and value.strip().lower() == old.lower()
        elif kind == "status_change":
            old, first, record = re.fullmatch(
                r"first delivered with status '(.*)' in (.*) record (\d+)", fault["detail"]
            ).groups()
            assert value != old and value in DOMAINS["resolutionstatus"]
            where = {"table": first} if first.startswith("customer_complaints.") else {"file": first}
            earlier = records_at(root, messy[2], where)[1]
            assert earlier[int(record) - 1][KEYS[fault["source"]]] == fault["key"]
            assert earlier[int(record) - 1]["resolutionstatus"] == old
            assert first < (fault.get("file") or fault["table"]), "re-appears on a later day"
            if "resolution_date" in row:
                assert (row["resolution_date"] != "") == (value == "Resolved")


def test_file_faults_are_where_the_manifest_says(messy):
    root, manifest, target = messy
    file_faults = [f for f in manifest["faults"] if f["record"] is None]
    assert len(file_faults) == 6
    for fault in file_faults:
        kind = fault["kind"]
        path = root / fault["file"] if "file" in fault else None
        if kind == "empty_file":
            assert path.stat().st_size == 0 and manifest["files"][fault["file"]]["records"] == 0
        elif kind == "header_only_file":
            assert path.read_text() == ",".join(CONTRACT["call_logs"]) + "\n"
        elif kind == "truncated_json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(path.read_text())
            assert path.read_text().startswith('{"complaint_id":{')
        else:
            columns, _ = records_at(root, target, {k: fault[k] for k in ("file", "table") if k in fault})
            contract = CONTRACT[fault["source"]]
            columns = [c for c in columns if c != "_key"]
            if kind == "extra_column":
                assert columns == contract + [fault["column"]]
            elif kind == "reordered_columns":
                assert columns != contract and sorted(columns) == sorted(contract)
            elif kind == "missing_column":
                assert columns == [c for c in contract if c != fault["column"]]
    extra = [rel for rel in manifest["files"] if re.search(r"_part\d\.", rel)]
    assert sorted(extra) == sorted(f["file"] for f in file_faults if "file" in f and "_part" in f["file"])
    assert all(manifest["files"][rel]["date"] == DATES[-1].isoformat() for rel in extra)


def test_messy_keeps_the_clean_content_of_untouched_rows(clean, messy):
    """Faults are layered over the same data: the clean run's rows are all still there."""
    rel = f"{LAKE}/call logs/call_logs_day_{DATES[0]}.csv"
    clean_rows = {r["call ID"]: r for r in csv_records(clean[0] / rel)[1]}
    messy_rows = csv_records(messy[0] / rel)[1]
    touched = {f["record"] for f in messy[1]["faults"] if f.get("file") == rel}
    assert {r["call ID"] for r in messy_rows} == set(clean_rows)
    for number, row in enumerate(messy_rows, start=1):
        if number not in touched:
            assert {k: v for k, v in row.items() if k} == {
                k: v for k, v in clean_rows[row["call ID"]].items() if k
            }


@pytest.fixture
def fresh(tmp_path, database):
    target = database("redeliver")
    return tmp_path, generate(tmp_path, scale=0.002, days=2, messy=0.02, pg_dsn=target)


@pytest.mark.parametrize(
    "rel",
    [
        f"{LAKE}/call logs/call_logs_day_2025-11-21.csv",
        f"{LAKE}/social_medias/media_complaint_day_2025-11-20.json",
    ],
)
def test_redelivered_file_has_new_content_under_the_same_name(fresh, rel):
    root, before = fresh
    read = json_records if rel.endswith(".json") else csv_records
    old_columns, old_rows = read(root / rel)
    old_bytes = (root / rel).read_bytes()
    manifest = redeliver(root, rel, fraction=0.1)
    assert json.loads((root / "manifest.json").read_text()) == manifest
    columns, rows = read(root / rel)
    assert columns == old_columns and len(rows) == len(old_rows)
    entry = manifest["files"][rel]
    data = (root / rel).read_bytes()
    assert data != old_bytes and entry["bytes"] == len(data) and entry["redelivered"] == 1
    assert entry["sha256"] != before["files"][rel]["sha256"]
    changes = {f["record"]: f for f in manifest["faults"] if f["kind"] == "redelivered" and f["file"] == rel}
    assert len(changes) == round(0.1 * len(rows))
    named_before = {f["record"] for f in before["faults"] if f.get("file") == rel}
    assert not named_before & set(changes)
    for number, (old, new) in enumerate(zip(old_rows, rows, strict=True), start=1):
        if number in changes:
            change = changes[number]
            assert new["resolutionstatus"] == change["value"] != old["resolutionstatus"]
            assert change["detail"] == f"was {old['resolutionstatus']!r} in the earlier delivery"
            assert new[KEYS[change["source"]]] == change["key"] == old[KEYS[change["source"]]]
            if "resolution_date" in new:
                assert (new["resolution_date"] != "") == (new["resolutionstatus"] == "Resolved")
        else:
            assert new == old
    if rel.endswith(".csv"):  # untouched lines keep their bytes
        old_lines, new_lines = old_bytes.split(b"\n"), data.split(b"\n")
        assert sum(a != b for a, b in zip(old_lines, new_lines, strict=True)) == len(changes)


def test_only_delivered_day_files_can_be_redelivered(fresh):
    root, _ = fresh
    for rel in (
        f"{LAKE}/customers/customers_dataset.csv",
        f"{LAKE}/social_medias/media_complaint_day_2025-11-21_part2.json",
    ):
        with pytest.raises(ValueError):
            redeliver(root, rel)


def test_generate_redelivers_the_first_call_log_on_the_last_day(messy, clean):
    root, manifest, _ = messy
    rel = f"{LAKE}/call logs/call_logs_day_{DATES[0]}.csv"
    entry = manifest["files"][rel]
    assert [r for r, e in manifest["files"].items() if "first_delivery" in e] == [rel]
    assert entry["redelivered"] == 1 and entry["redelivered_on"] == DATES[-1].isoformat()
    first = root / entry["first_delivery"]["path"]
    old_bytes, new_bytes = first.read_bytes(), (root / rel).read_bytes()
    assert entry["first_delivery"]["sha256"] == hashlib.sha256(old_bytes).hexdigest() != entry["sha256"]
    changes = {f["record"]: f for f in manifest["faults"] if f["kind"] == "redelivered"}
    assert {f["file"] for f in changes.values()} == {rel}
    assert len(changes) == round(MESSY * entry["records"])
    old_lines, new_lines = old_bytes.split(b"\n"), new_bytes.split(b"\n")
    differ = {i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b}
    assert differ == set(changes)  # line i is record i: every other line keeps its bytes, cut ones too
    old_rows, new_rows = csv_records(first)[1], csv_records(root / rel)[1]
    for record, change in changes.items():
        was = re.fullmatch(r"was '(.*)' in the earlier delivery", change["detail"]).group(1)
        assert old_rows[record - 1]["resolutionstatus"] == was != change["value"]
        assert new_rows[record - 1]["resolutionstatus"] == change["value"]
    # a clean generation re-delivers nothing and keeps no noncurrent versions
    assert not (clean[0] / "noncurrent").exists()
    assert not any("first_delivery" in e for e in clean[1]["files"].values())


def test_fault_entries_have_one_shape(messy):
    _, manifest, _ = messy
    for fault in manifest["faults"]:
        where = "file" if "file" in fault else "table"
        assert set(fault) == {"kind", "source", where, "record", "key", "column", "value", "detail"}
        assert (fault["record"] is None) == (fault["key"] is None)
        assert fault["source"] in {"customers", "agents", "call_logs", "social_media", "web_forms"}


def test_messy_social_files_keep_agent_ids_numeric(messy):
    root, manifest, _ = messy
    for rel, entry in manifest["files"].items():
        if entry["source"] == "social_media" and entry["records"]:
            _, rows = json_records(root / rel)
            assert all(type(r["agent ID"]) is int for r in rows), rel
