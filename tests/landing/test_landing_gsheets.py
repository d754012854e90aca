"""Agents through gspread with a service account, answered at the HTTP level by `responses` with
payloads shaped like the real Drive v3 and Sheets v4 answers."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
import responses
from landing_support import AGENTS, by_source, make_ctx, settings, write_bucket

from coretelecoms.landing import run_landing
from coretelecoms.landing.registry import TABLE as LANDED

SHEET_ID = "1xYzCoreTelecommsAgentsSheet0000000000000"
TITLE = "CORETELECOMMS AGENTS"
VALUES = [line.split(",") for line in AGENTS.strip().splitlines()]


@pytest.fixture(scope="module")
def service_account_json():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "coretelecoms-test",
            "private_key_id": "0123456789abcdef",
            "private_key": pem,
            "client_email": "agents-reader@coretelecoms-test.iam.gserviceaccount.com",
            "client_id": "100000000000000000001",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )


def sheets_api(rsps, values):
    rsps.add(
        responses.POST,
        "https://oauth2.googleapis.com/token",
        json={"access_token": "ya29.test-token", "expires_in": 3599, "token_type": "Bearer"},
    )
    rsps.add(
        responses.GET,
        "https://www.googleapis.com/drive/v3/files",
        json={
            "kind": "drive#fileList",
            "files": [
                {
                    "id": SHEET_ID,
                    "name": TITLE,
                    "createdTime": "2025-01-06T09:12:44.000Z",
                    "modifiedTime": "2025-11-19T17:03:10.000Z",
                }
            ],
        },
    )
    rsps.add(
        responses.GET,
        f"https://sheets.googleapis.com/v4/spreadsheets/{SHEET_ID}",
        json={
            "spreadsheetId": SHEET_ID,
            "properties": {
                "title": TITLE,
                "locale": "en_US",
                "autoRecalc": "ON_CHANGE",
                "timeZone": "Etc/GMT",
            },
            "sheets": [
                {
                    "properties": {
                        "sheetId": 0,
                        "title": "agents",
                        "index": 0,
                        "sheetType": "GRID",
                        "gridProperties": {"rowCount": 1000, "columnCount": 26},
                    }
                }
            ],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{SHEET_ID}/edit",
        },
    )
    rsps.add(
        responses.GET,
        re.compile(rf"https://sheets\.googleapis\.com/v4/spreadsheets/{SHEET_ID}/values/.*agents.*"),
        json={"range": f"agents!A1:D{len(values)}", "majorDimension": "ROWS", "values": values},
    )


def api_settings(tmp_path):
    bucket = write_bucket(tmp_path / "src")
    return settings(
        tmp_path,
        s3={"uri": str(bucket)},
        gsheets={
            "mode": "api",
            "spreadsheet": TITLE,
            "worksheet": "agents",
            "service_account_secret": "CORETELECOMS_TEST_SHEETS_SA",
        },
    )


def test_the_sheet_snapshot_lands_only_when_it_changed(spark, tmp_path, monkeypatch, service_account_json):
    monkeypatch.setenv("CORETELECOMS_TEST_SHEETS_SA", service_account_json)
    ctx = make_ctx(spark, api_settings(tmp_path))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sheets_api(rsps, VALUES)
        agents = by_source(run_landing(ctx, date(2025, 11, 20)))["agents"]
        assert agents.status == "ok" and agents.files == 1
        auth = [
            c.request.headers.get("Authorization") for c in rsps.calls if "googleapis.com/v4" in c.request.url
        ]
        assert auth and all(a == "Bearer ya29.test-token" for a in auth)
    snapshot = tmp_path / "lake" / "landing" / "gsheets" / "agents" / "agents_2025-11-20.csv"
    assert snapshot.read_text() == AGENTS  # the sheet's own header, every cell as text

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sheets_api(rsps, VALUES)
        assert by_source(run_landing(ctx, date(2025, 11, 21)))["agents"].files == 0

    changed = [row[:] for row in VALUES]
    changed[1][2] = "Junior"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sheets_api(rsps, changed)
        assert by_source(run_landing(ctx, date(2025, 11, 22)))["agents"].files == 1
    row = ctx.lake.read(LANDED).filter("source = 'agents' AND version = 2").first()
    assert row["source_uri"] == f"gsheets:{TITLE}/agents" and row["landing_path"].endswith(
        "agents_2025-11-22.csv"
    )


def test_a_sheet_the_account_cannot_see_fails_only_the_agents(
    spark, tmp_path, monkeypatch, service_account_json
):
    monkeypatch.setenv("CORETELECOMS_TEST_SHEETS_SA", service_account_json)
    ctx = make_ctx(spark, api_settings(tmp_path))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(
            responses.POST,
            "https://oauth2.googleapis.com/token",
            json={"access_token": "ya29.test-token", "expires_in": 3599, "token_type": "Bearer"},
        )
        rsps.add(
            responses.GET,
            "https://www.googleapis.com/drive/v3/files",
            json={"kind": "drive#fileList", "files": []},
        )
        entries = by_source(run_landing(ctx, date(2025, 11, 20)))
    assert entries["agents"].status == "failed" and "not found or not shared" in entries["agents"].error
    assert entries["customers"].status == "ok"
