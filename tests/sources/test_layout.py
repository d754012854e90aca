"""The generated sources have exactly the names, headers and formats of SOURCES.md."""

from __future__ import annotations

import json
import re
from datetime import datetime

import psycopg2
import pytest
from source_readers import DATES, csv_records, json_records, table_records, web_tables

LAKE = "s3/core-telecoms-data-lake"
CUSTOMERS = f"{LAKE}/customers/customers_dataset.csv"
AGENTS = "gsheets/agents.csv"
CALL_HEADER = (
    b",call ID,customeR iD,COMPLAINT_catego ry,agent ID,call_start_time,call_end_time,resolutionstatus,"
    b"callLogsGenerationDate\n"
)
SOCIAL_KEYS = [
    "complaint_id",
    "customeR iD",
    "COMPLAINT_catego ry",
    "agent ID",
    "resolutionstatus",
    "request_date",
    "resolution_date",
    "media_channel",
    "MediaComplaintGenerationDate",
]
WEB_COLUMNS = [
    "Column1",
    "request_id",
    "customeR iD",
    "COMPLAINT_catego ry",
    "agent ID",
    "resolutionstatus",
    "request_date",
    "resolution_date",
    "webFormGenerationDate",
]
STATUSES = {"Resolved", "In-Progress", "Backlog", "Blocked"}
CATEGORIES = {"Technician Support", "Network Failure", "Router Delivery", "Payments"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def call_file(day) -> str:
    return f"{LAKE}/call logs/call_logs_day_{day.isoformat()}.csv"


def social_file(day) -> str:
    return f"{LAKE}/social_medias/media_complaint_day_{day.isoformat()}.json"


def test_file_names_and_folders(clean):
    root, manifest, _ = clean
    expected = {CUSTOMERS, AGENTS} | {call_file(d) for d in DATES} | {social_file(d) for d in DATES}
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert on_disk == expected | {"manifest.json"}
    assert set(manifest["files"]) == expected


def test_header_lines_are_byte_exact(clean):
    root, _, _ = clean
    with open(root / CUSTOMERS, "rb") as fh:
        assert fh.readline() == b"customer_id,name,Gender,DATE of biRTH,signup_date,email,address\n"
    with open(root / AGENTS, "rb") as fh:
        assert fh.readline() == b"iD,NamE,experience,state\n"
    for day in DATES:
        with open(root / call_file(day), "rb") as fh:
            assert fh.readline() == CALL_HEADER


def test_call_log_index_is_a_leftover_index_with_gaps(clean):
    root, _, _ = clean
    for day in DATES:
        _, rows = csv_records(root / call_file(day))
        index = [int(r[""]) for r in rows]
        steps = [b - a for a, b in zip(index, index[1:], strict=False)]
        assert index[0] == 0 and min(steps) >= 1 and max(steps) > 1


def test_social_json_is_column_oriented(clean):
    root, _, _ = clean
    for day in DATES:
        text = (root / social_file(day)).read_text()
        assert text.startswith('{"complaint_id":{"0":"')
        assert re.search(r'"agent ID":\{"\d+":\d+,"\d+":\d+', text), "agent ID must be a JSON number"
        columns, rows = json_records(root / social_file(day))
        assert columns == SOCIAL_KEYS
        keys = [int(r["_key"]) for r in rows]
        assert [str(k) for k in keys] == [r["_key"] for r in rows]
        assert keys == sorted(set(keys)) and keys[-1] > len(keys) - 1, "inner keys increase, with gaps"
        for r in rows:
            assert type(r["agent ID"]) is int
            assert r["MediaComplaintGenerationDate"] == day.isoformat()
            assert r["media_channel"] in {"Twitter", "Facebook", "Instagram", "LinkedIn"}
            if r["resolutionstatus"] == "Resolved":
                assert TIMESTAMP.match(r["resolution_date"]) and r["resolution_date"] > r["request_date"]
            else:
                assert r["resolution_date"] == ""


def test_agents_sheet(clean):
    root, _, _ = clean
    _, rows = csv_records(root / AGENTS)
    assert [int(r["iD"]) for r in rows] == list(range(1000, 1100))
    assert {r["experience"] for r in rows} == {"intern", "Junior", "Mid-level", "Senior"}
    assert all(len(r["state"]) > 3 and r["state"][0].isupper() for r in rows), "full state names"
    assert any(" " in r["state"] for r in rows)


def test_customers_rows(clean):
    root, _, _ = clean
    _, rows = csv_records(root / CUSTOMERS)
    uuid4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    email = re.compile(r"^[0-9a-f]{3,4}[a-z]+[._-][a-z]+[a-z0-9]{3}@[A-Za-z.]+$")
    for r in rows:
        assert uuid4.match(r["customer_id"])
        assert r["Gender"] in {"M", "F"}
        assert "1930-01-01" <= r["DATE of biRTH"] <= "2009-12-31"
        assert "2010-01-01" <= r["signup_date"] <= "2024-12-31"
        datetime.strptime(r["DATE of biRTH"], "%Y-%m-%d")
        assert email.match(r["email"]), r["email"]
        first, last = r["name"].lower().split(" ")
        assert first in r["email"] and last in r["email"]
        street, place = r["address"].split("\n")
        assert re.match(r"^[A-Z]{2} \d{5}$", " ".join(place.split(" ")[-2:])), r["address"]
    assert len({r["customer_id"] for r in rows}) == len(rows)


def test_complaint_ids_embed_the_customer_uuid(clean):
    root, _, target = clean
    for day in DATES:
        _, calls = csv_records(root / call_file(day))
        _, social = json_records(root / social_file(day))
        for key, r in [("call ID", r) for r in calls] + [("complaint_id", r) for r in social]:
            cid = r[key]
            assert 51 <= len(cid) <= 56 and cid[7] in "KQX" and cid[:3].isalpha(), cid
            assert cid[8:40] == r["customeR iD"].replace("-", "")
            assert cid[-3] in "KQX" and cid[-2:] in {"ak", "gd", "ad", "wq"}
        _, web = table_records(target, f"customer_complaints.web_form_request_{day:%Y_%m_%d}")
        for r in web:
            assert 51 <= len(r["request_id"]) <= 52 and r["request_id"][8:40] == r["customeR iD"].replace(
                "-", ""
            )


def test_every_complaint_references_a_real_customer_and_agent(clean):
    root, _, target = clean
    _, customers = csv_records(root / CUSTOMERS)
    known = {r["customer_id"] for r in customers}
    for day in DATES:
        _, calls = csv_records(root / call_file(day))
        _, social = json_records(root / social_file(day))
        _, web = table_records(target, f"customer_complaints.web_form_request_{day:%Y_%m_%d}")
        for r in calls + social + web:
            assert r["customeR iD"] in known
            assert 1000 <= int(r["agent ID"]) <= 1099


def test_call_times(clean):
    root, _, _ = clean
    for day in DATES:
        _, calls = csv_records(root / call_file(day))
        for r in calls:
            start = datetime.strptime(r["call_start_time"], "%Y-%m-%d %H:%M:%S")
            end = datetime.strptime(r["call_end_time"], "%Y-%m-%d %H:%M:%S")
            minutes, seconds = divmod((end - start).total_seconds(), 60)
            assert seconds == 0 and 2 <= minutes <= 20
            assert datetime(2025, 1, 1) <= start < datetime(2025, 11, 1)
            assert r["callLogsGenerationDate"] == day.isoformat()
            assert r["resolutionstatus"] in STATUSES and r["COMPLAINT_catego ry"] in CATEGORIES


def test_postgres_serves_the_daily_tables(clean):
    _, manifest, target = clean
    tables = web_tables(target)
    assert tables == [f"customer_complaints.web_form_request_{d:%Y_%m_%d}" for d in DATES]
    assert tables == sorted(manifest["tables"])
    with psycopg2.connect(target) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'customer_complaints' ORDER BY table_name, ordinal_position"
        )
        found = cur.fetchall()
    conn.close()
    for table in tables:
        name = table.split(".")[1]
        columns = [(c, t) for n, c, t in found if n == name]
        assert [c for c, _ in columns] == WEB_COLUMNS
        assert [t for _, t in columns] == ["integer"] + ["text"] * 8
    for day, table in zip(DATES, tables, strict=True):
        _, rows = table_records(target, table)
        assert all(v is not None for r in rows for v in r.values()), "'' for unresolved, never NULL"
        index = [r["Column1"] for r in rows]
        assert index[0] == 0 and index == sorted(set(index)) and index[-1] > len(index) - 1
        for r in rows:
            assert r["webFormGenerationDate"] == day.isoformat()
            assert TIMESTAMP.match(r["request_date"])
            assert (r["resolution_date"] != "") == (r["resolutionstatus"] == "Resolved")


def test_a_day_that_was_not_dropped_is_missing(clean):
    root, _, target = clean
    assert not (root / f"{LAKE}/call logs/call_logs_day_2025-11-24.csv").exists()
    with (
        psycopg2.connect(target) as conn,
        conn.cursor() as cur,
        pytest.raises(psycopg2.errors.UndefinedTable),
    ):
        cur.execute("SELECT * FROM customer_complaints.web_form_request_2025_11_24")
    conn.close()


def test_manifest_lists_every_drop_with_its_date(clean):
    _, manifest, _ = clean
    assert {k: manifest[k] for k in ("seed", "scale", "start", "days", "messy")} == {
        "seed": 42,
        "scale": 0.004,
        "start": "2025-11-20",
        "days": 4,
        "messy": 0.0,
    }
    assert manifest["generated_at"] == "2025-11-23T00:00:00"
    assert manifest["faults"] == []
    by_source = {}
    for entry in manifest["files"].values():
        by_source.setdefault(entry["source"], []).append(entry["date"])
    assert by_source["customers"] == [None] and by_source["agents"] == [None]
    for source in ("call_logs", "social_media"):
        assert by_source[source] == [d.isoformat() for d in DATES]
    assert [t["date"] for t in manifest["tables"].values()] == [d.isoformat() for d in DATES]
    assert json.loads(json.dumps(manifest)) == manifest
