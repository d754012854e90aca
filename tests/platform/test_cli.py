"""The command line: clear exits for bad input, and `sources generate` against a real embedded Postgres."""

from __future__ import annotations

import json

import psycopg2
from typer.testing import CliRunner

from coretelecoms.cli import app

runner = CliRunner()


def test_unknown_layer_and_missing_dates_exit_2():
    result = runner.invoke(app, ["run", "bogus", "--date", "2025-11-20"])
    assert result.exit_code == 2 and "unknown layer 'bogus'" in result.output
    result = runner.invoke(app, ["run", "bronze"])
    assert result.exit_code == 2 and "give either --date D" in result.output
    result = runner.invoke(app, ["run", "bronze", "--start", "2025-11-22", "--end", "2025-11-20"])
    assert result.exit_code == 2 and "before --start" in result.output
    result = runner.invoke(app, ["run", "silver", "--rebuild", "--date", "2025-11-20"])
    assert result.exit_code == 2 and "--rebuild applies to gold only" in result.output


def test_a_bad_setting_exits_2_with_one_line(monkeypatch):
    monkeypatch.setenv("CORETELECOMS__LAKE__DELTA_ENGINE", "nope")
    result = runner.invoke(app, ["tables"])
    assert result.exit_code == 2
    assert "CORETELECOMS__LAKE__DELTA_ENGINE: setting 'lake.delta_engine'" in result.output


def test_sources_generate_writes_the_tree_the_tables_and_the_manifest(tmp_path, monkeypatch):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, ["sources", "generate", "--scale", "0.001", "--days", "2", "--seed", "7"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "sources" / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["days"] == 2
    lake = tmp_path / "sources" / "s3" / "core-telecoms-data-lake"
    assert (lake / "call logs" / "call_logs_day_2025-11-21.csv").is_file()
    assert (lake / "customers" / "customers_dataset.csv").is_file()
    assert "call_logs_day_2025-11-21.csv" in result.output
    from coretelecoms.sources import dsn, local_postgres

    with (
        psycopg2.connect(dsn(local_postgres(tmp_path / "sources" / "postgres"))) as conn,
        conn.cursor() as cur,
    ):
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'customer_complaints' "
            "AND table_name LIKE 'web_form_request_%' ORDER BY 1"
        )
        assert [r[0] for r in cur.fetchall()] == [
            "web_form_request_2025_11_20",
            "web_form_request_2025_11_21",
        ]
        cur.execute('SELECT COUNT(*) FROM customer_complaints."web_form_request_2025_11_21"')
        expected = manifest["tables"]["customer_complaints.web_form_request_2025_11_21"]["records"]
        assert cur.fetchone()[0] == expected
