"""Quick checks that the synthetic data looks like the real drops, at a small scale."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from source_readers import DATES, SCALE, csv_records, json_records, table_records

LAKE = "s3/core-telecoms-data-lake"
REAL = {"customers": 2_500_000, "call_logs": 379_000, "social_media": 38_000}
STATUSES = ("Resolved", "In-Progress", "Backlog", "Blocked")
TERRITORIES = {"PR", "GU", "VI", "MP", "AS", "DC", "FM", "MH", "PW"}
BROKEN = {
    "GmaiL.om",
    "hotmai.com",
    "gmial.com",
    "yahoo.om",
    "Hotmai.com",
    "GMAIL.com",
    "gmial.om",
    "YaHoo.com",
}


@pytest.fixture(scope="module")
def complaints(clean):
    root, _, target = clean
    out = {"call_logs": [], "social_media": [], "web_forms": []}
    for day in DATES:
        out["call_logs"] += csv_records(root / f"{LAKE}/call logs/call_logs_day_{day}.csv")[1]
        out["social_media"] += json_records(root / f"{LAKE}/social_medias/media_complaint_day_{day}.json")[1]
        out["web_forms"] += table_records(target, f"customer_complaints.web_form_request_{day:%Y_%m_%d}")[1]
    return out


@pytest.fixture(scope="module")
def customers(clean):
    return csv_records(clean[0] / f"{LAKE}/customers/customers_dataset.csv")[1]


def test_volumes_follow_the_scale(clean):
    _, manifest, _ = clean
    for entry in manifest["files"].values():
        if entry["source"] in REAL:
            assert entry["records"] == pytest.approx(REAL[entry["source"]] * SCALE, rel=0.02)
        elif entry["source"] == "agents":
            assert entry["records"] == 100
    for entry in manifest["tables"].values():
        assert entry["records"] == pytest.approx(279_000 * SCALE, rel=0.02)


def test_channel_mix(complaints):
    total = sum(len(rows) for rows in complaints.values())
    share = {source: len(rows) / total for source, rows in complaints.items()}
    assert share == pytest.approx({"call_logs": 0.544, "web_forms": 0.401, "social_media": 0.055}, abs=0.01)


def test_statuses_are_about_uniform(complaints):
    for rows in complaints.values():
        counted = Counter(r["resolutionstatus"] for r in rows)
        assert set(counted) == set(STATUSES)
        for status in STATUSES:
            assert counted[status] / len(rows) == pytest.approx(0.25, abs=0.06)


def test_resolution_dates_only_when_resolved(complaints):
    for source in ("social_media", "web_forms"):
        for r in complaints[source]:
            assert (r["resolution_date"] != "") == (r["resolutionstatus"] == "Resolved")
    fmt = "%Y-%m-%d %H:%M:%S"
    days = [
        (
            datetime.strptime(r["resolution_date"], fmt) - datetime.strptime(r["request_date"], fmt)
        ).total_seconds()
        / 86_400
        for r in complaints["social_media"]
        if r["resolution_date"]
    ]
    assert sum(days) / len(days) == pytest.approx(13, abs=2.5)


def test_event_times_spread_over_the_preceding_months(complaints):
    months = Counter(r["call_start_time"][:7] for r in complaints["call_logs"])
    assert set(months) == {f"2025-{m:02d}" for m in range(1, 11)}


def test_about_half_the_email_domains_are_broken(customers):
    broken = sum(r["email"].split("@")[1] in BROKEN for r in customers)
    assert broken / len(customers) == pytest.approx(0.5, abs=0.03)
    assert {"gmail.com", "yahoo.com"} <= {r["email"].split("@")[1] for r in customers}


def test_military_and_territory_addresses(customers):
    places = [r["address"].split("\n")[1] for r in customers]
    states = Counter(p.split(" ")[-2] for p in places)
    assert set(states) >= TERRITORIES
    assert {"AA", "AE", "AP"} & set(states)
    for form in ("APO ", "FPO ", "DPO "):
        assert any(p.startswith(form) for p in places), form
    assert any(r["address"].startswith("PSC ") for r in customers)
    assert any(r["address"].startswith(("USNS ", "USS ")) for r in customers)
    assert all(r["address"].count("\n") == 1 for r in customers)


def test_complaints_reach_about_two_thirds_of_customers_over_four_days(complaints, customers):
    touched = {r["customeR iD"] for rows in complaints.values() for r in rows}
    # Real: ~1.7M of 2.5M customers over the four drops.
    assert len(touched) / len(customers) == pytest.approx(1.7 / 2.5, abs=0.03)


def test_categories_and_channels_cover_their_domains(complaints):
    for rows in complaints.values():
        assert {r["COMPLAINT_catego ry"] for r in rows} == {
            "Technician Support",
            "Network Failure",
            "Router Delivery",
            "Payments",
        }
    assert {r["media_channel"] for r in complaints["social_media"]} == {
        "Twitter",
        "Facebook",
        "Instagram",
        "LinkedIn",
    }
