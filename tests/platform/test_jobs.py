"""The spark-submit jobs: JSON log lines in EMR mode, and a non-zero exit when the layer fails."""

from __future__ import annotations

import json
import logging
import runpy
import sys
from pathlib import Path

import pytest
from pyspark.sql import types as T

from coretelecoms import job
from coretelecoms.context import RunContext
from coretelecoms.lake import engine_for
from coretelecoms.logs import JsonFormatter
from coretelecoms.ops import ledger
from coretelecoms.settings import load_settings

JOBS = Path(__file__).resolve().parents[2] / "jobs"
SCHEMA = T.StructType([T.StructField("customer_id", T.StringType()), T.StructField("n", T.LongType())])


@pytest.fixture(autouse=True)
def keep_logging():
    """job.main installs its own handler on the `coretelecoms` logger; put the test runner's back."""
    logger = logging.getLogger("coretelecoms")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


@pytest.fixture
def local_lake(spark, tmp_path, monkeypatch):
    """A local delta-rs lake that any settings file (local or emr) points at through variables."""
    monkeypatch.delenv("CORETELECOMS_ENV", raising=False)
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CORETELECOMS__LAKE__ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("CORETELECOMS__LAKE__DELTA_ENGINE", "delta-rs")
    monkeypatch.setenv("CORETELECOMS__MAINTENANCE__RETENTION_HOURS", "0")
    settings = load_settings("local")
    return RunContext(settings, spark, engine_for(spark, settings.lake.root, "delta-rs"), "test")


def test_json_formatter_writes_one_object_with_the_run_fields():
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "coretelecoms.job", logging.ERROR, __file__, 1, "silver %s", ("failed",), exc_info
    )
    record.layer, record.run_id, record.run_date = "silver", "silver-1", "2025-11-20"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    payload = json.loads(line)
    assert payload["level"] == "ERROR" and payload["logger"] == "coretelecoms.job"
    assert payload["message"] == "silver failed"
    assert (payload["layer"], payload["run_id"], payload["run_date"]) == ("silver", "silver-1", "2025-11-20")
    assert "source" not in payload  # only the fields the record carries
    assert payload["error"] == "second line"  # the exception's last line, not the traceback
    assert payload["ts"].endswith("+00:00")


def test_maintenance_job_in_emr_mode_runs_and_logs_json_lines(local_lake, capsys, monkeypatch):
    # A toy table under a real name: its full quality suite runs in tests/gold/test_gold_incremental.py.
    monkeypatch.setenv("CORETELECOMS__MAINTENANCE__TABLE_SUITES", "false")
    for i in range(3):
        local_lake.lake.append("silver.agents", local_lake.spark.createDataFrame([(f"c{i}", i)], SCHEMA))
    capsys.readouterr()

    code = job.main("maintenance", ["--env", "emr", "--date", "2025-11-20"])

    assert code == 0
    assert local_lake.lake.file_count("silver.agents") == 1  # it really compacted
    lines = [json.loads(ln) for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    mine = [ln for ln in lines if ln.get("source") == "silver.agents"]
    assert len(mine) == 1 and mine[0]["level"] == "INFO"
    assert (mine[0]["layer"], mine[0]["run_date"]) == ("maintenance", "2025-11-20")
    assert mine[0]["run_id"].startswith("maintenance-") and ": ok files=3" in mine[0]["message"]


def test_local_mode_logs_plain_lines_unless_log_json(local_lake, capsys):
    assert job.main("maintenance", []) == 0
    err = capsys.readouterr().err
    assert "INFO coretelecoms.job: maintenance - *: warn" in err  # empty lake: a warning, readable
    assert job.main("maintenance", ["--log-json"]) == 0
    assert json.loads(capsys.readouterr().err.strip().splitlines()[-1])["layer"] == "maintenance"


def test_a_failing_layer_exits_1_and_is_recorded(local_lake, monkeypatch, capsys):
    # A Snowflake warehouse without an account: publish cannot connect.
    monkeypatch.setenv("CORETELECOMS__WAREHOUSE__KIND", "snowflake")
    monkeypatch.setattr(sys, "argv", ["jobs/publish.py", "--date", "2025-11-20", "--log-json"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(JOBS / "publish.py"), run_name="__main__")
    assert exited.value.code == 1
    lines = [json.loads(ln) for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert any(ln["level"] == "ERROR" and "warehouse.account is not set" in ln["message"] for ln in lines)
    failed = ledger.read(local_lake).filter("layer = 'publish' AND status = 'failed'").collect()
    assert len(failed) == 1 and "warehouse.account is not set" in failed[0]["error"]
    assert not ledger.completed(local_lake, "publish", failed[0]["run_date"])  # a backfill retries it
