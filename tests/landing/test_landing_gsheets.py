"""Agents through gspread with a service account, answered at the HTTP level by `responses` with the
recorded Drive v3 and Sheets v4 payloads in fixtures/gsheets (the exact JSON gspread receives)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
import responses
from landing_support import AGENTS, by_source, make_ctx, settings, write_bucket
from responses import matchers

from coretelecoms.landing import run_landing
from coretelecoms.landing.registry import TABLE as LANDED

FIXTURES = Path(__file__).parent / "fixtures" / "gsheets"


def payload(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


SHEET = payload("spreadsheets_get")
SHEET_ID = SHEET["spreadsheetId"]
TITLE = SHEET["properties"]["title"]
TOKEN = payload("oauth_token")["access_token"]
SHEETS_URL = f"https://sheets.googleapis.com/v4/spreadsheets/{SHEET_ID}"


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


def token_and_drive(rsps, files: str) -> None:
    rsps.add(responses.POST, "https://oauth2.googleapis.com/token", json=payload("oauth_token"))
    rsps.add(
        responses.GET,
        "https://www.googleapis.com/drive/v3/files",
        json=payload(files),
        match=[
            matchers.query_param_matcher(
                {"q": f'mimeType="application/vnd.google-apps.spreadsheet" and name = "{TITLE}"'},
                strict_match=False,
            )
        ],
    )


def sheets_api(rsps, values: str) -> None:
    """The whole deterministic flow of open(title).worksheet("agents").get_all_values()."""
    token_and_drive(rsps, "drive_files_list")
    rsps.add(
        responses.GET,
        SHEETS_URL,
        json=SHEET,
        match=[matchers.query_param_matcher({"includeGridData": "false"})],
    )
    rsps.add(responses.GET, SHEETS_URL + "/values/" + quote("'agents'"), json=payload(values))


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
    with responses.RequestsMock() as rsps:  # every recorded answer must be asked for
        sheets_api(rsps, "values_get_agents")
        agents = by_source(run_landing(ctx, date(2025, 11, 20)))["agents"]
        assert agents.status == "ok" and agents.files == 1
        auth = [c.request.headers.get("Authorization") for c in rsps.calls if SHEETS_URL in c.request.url]
        assert auth and all(a == f"Bearer {TOKEN}" for a in auth)
    snapshot = tmp_path / "lake" / "landing" / "gsheets" / "agents" / "agents_2025-11-20.csv"
    assert snapshot.read_text() == AGENTS  # the sheet's own header, every cell as text

    with responses.RequestsMock() as rsps:
        sheets_api(rsps, "values_get_agents")
        assert by_source(run_landing(ctx, date(2025, 11, 21)))["agents"].files == 0

    with responses.RequestsMock() as rsps:
        sheets_api(rsps, "values_get_agents_changed")
        assert by_source(run_landing(ctx, date(2025, 11, 22)))["agents"].files == 1
    row = ctx.lake.read(LANDED).filter("source = 'agents' AND version = 2").first()
    assert row["source_uri"] == f"gsheets:{TITLE}/agents" and row["landing_path"].endswith(
        "agents_2025-11-22.csv"
    )
    assert (Path(ctx.settings.lake.root) / "landing" / row["landing_path"]).read_text() == AGENTS.replace(
        "intern", "Junior"
    )


def test_a_sheet_the_account_cannot_see_fails_only_the_agents(
    spark, tmp_path, monkeypatch, service_account_json
):
    monkeypatch.setenv("CORETELECOMS_TEST_SHEETS_SA", service_account_json)
    ctx = make_ctx(spark, api_settings(tmp_path))
    with responses.RequestsMock() as rsps:
        token_and_drive(rsps, "drive_files_list_empty")
        entries = by_source(run_landing(ctx, date(2025, 11, 20)))
    assert entries["agents"].status == "failed" and "not found or not shared" in entries["agents"].error
    assert entries["customers"].status == "ok"
