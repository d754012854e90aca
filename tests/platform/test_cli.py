"""The command line: clear exits for bad input, and `sources generate` against a real embedded Postgres."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg2
from typer.testing import CliRunner

from coretelecoms import cli
from coretelecoms.cli import app
from coretelecoms.lake import engine_for

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


def test_env_option_picks_the_settings_file(monkeypatch):
    monkeypatch.setenv("CORETELECOMS_ENV", "local")
    monkeypatch.setitem(cli._state, "env", None)
    result = runner.invoke(app, ["--env", "nope", "tables"])
    assert result.exit_code == 2 and "conf/nope.yaml: settings file not found" in result.output
    # --env wins over CORETELECOMS_ENV for every command that loads settings.
    runner.invoke(app, ["--env", "emr", "run", "bogus", "--date", "2025-11-20"])
    loaded = cli.settings()
    assert loaded.conf_file.name == "emr.yaml" and loaded.env == "emr"
    assert loaded.lake.root.startswith("s3://")


def table_rows(output: str) -> dict[str, list[str]]:
    """The rows of a rich table, by their first cell."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and cells[0] and "." in cells[0]:
            rows[cells[0]] = cells[1:]
    return rows


def test_tables_lists_every_delta_table(spark, monkeypatch, tmp_path):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    monkeypatch.setitem(cli._state, "env", None)
    lake = engine_for(spark, str(tmp_path / "lake"), "delta-rs")
    lake.append("bronze.calls", spark.createDataFrame([(1,), (2,)], "id long").coalesce(1))
    lake.append("bronze.calls", spark.createDataFrame([(3,)], "id long").coalesce(1))
    lake.merge("silver.calls", spark.createDataFrame([(1,)], "id long").coalesce(1), keys=["id"])
    (tmp_path / "lake" / "landing" / "calls").mkdir(parents=True)  # raw files, not a Delta table
    result = runner.invoke(app, ["tables"])
    assert result.exit_code == 0, result.output
    assert "Delta tables under" in result.output
    # table, version, rows, files, last commit (MM-DD HH:MM operation), one row per table
    rows = {
        line.split()[0]: line.split()[1:]
        for line in result.output.splitlines()
        if line.strip().startswith(("bronze.", "silver."))
    }
    assert list(rows) == ["bronze.calls", "silver.calls"]
    version, count, files, *_, operation = rows["bronze.calls"]
    assert (version, count, files, operation) == ("1", "3", "2", "WRITE")
    assert rows["silver.calls"][:3] == ["0", "1", "1"]


def test_bad_dates_are_one_line_usage_errors():
    result = runner.invoke(app, ["sources", "generate", "--start", "2025-13-01"])
    assert result.exit_code == 2
    assert "--start '2025-13-01' is not a date YYYY-MM-DD" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    result = runner.invoke(app, ["run", "bronze", "--date", "2025-02-30"])
    assert result.exit_code == 2 and "--date '2025-02-30' is not a date" in result.output
    result = runner.invoke(app, ["run", "bronze", "--start", "2025-11-20", "--end", "tomorrow"])
    assert result.exit_code == 2 and "--end 'tomorrow' is not a date" in result.output


def cli_without_java(tmp_path, java_version: str | None, *args: str) -> subprocess.CompletedProcess:
    """The CLI in a fresh process (this one may already hold a Spark session) whose PATH has only a fake
    `java` answering `java_version`, or no java at all."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    if java_version:
        (bin_dir / "java").write_text(f"#!/bin/sh\necho 'openjdk version \"{java_version}\"' >&2\n")
        (bin_dir / "java").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env |= {"PATH": str(bin_dir), "CORETELECOMS_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "300"}
    code = "import sys; from coretelecoms.cli import app; sys.argv[0] = 'coretelecoms'; app()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_missing_or_old_java_is_one_line_and_exit_2(tmp_path):
    # `tables` and `status` need no Java (delta-rs, no Spark); running a layer does.
    missing = cli_without_java(tmp_path, None, "run", "silver", "--date", "2025-11-20")
    assert missing.returncode == 2, missing.stderr
    assert missing.stderr.strip().startswith("error: Java 17+ is required by Spark (no `java` on PATH)")
    assert len(missing.stderr.strip().splitlines()) == 1 and "Traceback" not in missing.stderr
    old = cli_without_java(tmp_path / "old", "11.0.2", "run", "bronze", "--date", "2025-11-20")
    assert old.returncode == 2, old.stderr
    assert "Java 17+ is required by Spark, found Java 11" in old.stderr
    assert "Traceback" not in old.stderr


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


def test_publish_configured_for_the_spark_connector_without_its_jar_exits_1_and_changes_nothing(
    spark, monkeypatch, tmp_path
):
    """The acceptance line of the parity issue: one line naming the connector, and no table, ledger entry or
    warehouse file written (COPY INTO is never a silent fallback)."""
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CORETELECOMS__WAREHOUSE__METHOD", "spark-connector")
    monkeypatch.setitem(cli._state, "env", None)
    lake = engine_for(spark, str(tmp_path / "lake"), "delta-rs")
    lake.append("gold.dim_thing", spark.createDataFrame([(1, "one")], "thing_sk long, name string"))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "tmp" not in p.parts)
    result = runner.invoke(app, ["run", "publish", "--date", "2025-11-20"])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Snowflake Spark connector" in lines[0] and "net.snowflake:spark-snowflake_2.13:" in lines[0]
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "tmp" not in p.parts)
    assert after == before
