"""spark-submit.sh: syntax, lint, --help, exit codes, and the exact command it runs (--dry-run) in both modes."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from deploy_helpers import REPO, tool

from coretelecoms.deploy.jars import jar_paths

SCRIPT = REPO / "spark-submit.sh"
LAYERS = ["landing", "bronze", "silver", "gold", "publish", "maintenance"]


def run(*args: str, script: Path = SCRIPT, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CORETELECOMS")}
    return subprocess.run(
        ["bash", str(script), *args], capture_output=True, text=True, env=base | env, timeout=60
    )


def dry_run(*args: str, **env: str) -> list[str]:
    proc = run("--dry-run", *args, **env)
    assert proc.returncode == 0, proc.stderr
    return shlex.split(proc.stdout)


def conf_of(cmd: list[str]) -> dict[str, str]:
    return dict(cmd[i + 1].split("=", 1) for i, arg in enumerate(cmd) if arg == "--conf")


def test_syntax_and_shellcheck():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0
    proc = subprocess.run(
        [tool("shellcheck"), "--severity=style", str(SCRIPT)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout


def test_the_script_and_emr_submit_know_the_same_layers():
    from coretelecoms.deploy.emr import LAYERS as EMR_LAYERS

    declared = next(ln for ln in SCRIPT.read_text().splitlines() if ln.startswith("LAYERS="))
    assert declared.split("=", 1)[1].strip('"').split() == LAYERS == list(EMR_LAYERS)


def test_help_lists_every_layer_and_both_modes():
    proc = run("--help")
    assert proc.returncode == 0
    for layer in LAYERS:
        assert f"  {layer} " in proc.stdout
    assert "local (default)" in proc.stdout and "emr" in proc.stdout and "--dry-run" in proc.stdout
    assert run("-h").stdout == proc.stdout


def test_unknown_layer_or_no_layer_exits_2():
    proc = run("platinum", "--date", "2025-11-20")
    assert proc.returncode == 2 and "unknown layer 'platinum'" in proc.stderr
    assert run().returncode == 2


def test_a_layer_without_its_job_is_reported_not_built(tmp_path):
    (tmp_path / "jobs").mkdir()
    shutil.copy(SCRIPT, tmp_path / "spark-submit.sh")
    (tmp_path / "jobs" / "silver.py").write_text("")
    proc = run("landing", "--date", "2025-11-20", script=tmp_path / "spark-submit.sh")
    assert proc.returncode == 2 and "landing layer is not built yet" in proc.stderr
    listed = run("--help", script=tmp_path / "spark-submit.sh").stdout
    assert "silver       jobs/silver.py" in listed and "landing      (not built yet" in listed


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_has_a_job_that_runs_under_spark_submit_and_emr(layer, emr_conf):
    """spark-submit.sh and `emr submit` accept the same layers; each must have a job that starts."""
    from datetime import date

    from coretelecoms.deploy.config import emr_settings
    from coretelecoms.deploy.emr import job_driver

    job = REPO / "jobs" / f"{layer}.py"
    helped = subprocess.run([sys.executable, str(job), "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and f"usage: jobs/{layer}.py" in helped.stdout, helped.stderr
    cmd = dry_run(layer, "--date", "2025-11-20")
    assert cmd[-3] == str(job)
    # The job runs with exactly what EMR Serverless sends it, as far as its settings (broken on purpose).
    driver = job_driver(emr_conf, layer, date(2025, 11, 20), emr_settings(emr_conf))["sparkSubmit"]
    assert driver["entryPoint"].endswith(f"/jobs/{job.name}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORETELECOMS")}
    started = subprocess.run(
        [sys.executable, str(job), *driver["entryPointArguments"]],
        capture_output=True,
        text=True,
        timeout=60,
        env=env | {"CORETELECOMS__LAKE__DELTA_ENGINE": "bogus"},
    )
    assert started.returncode == 2 and "usage:" not in started.stderr, started.stderr
    line = json.loads(started.stderr.strip().splitlines()[-1])  # env emr: JSON log lines
    assert (
        line["level"] == "ERROR" and "settings error" in line["message"] and "delta_engine" in line["message"]
    )


def test_maintenance_needs_no_date():
    cmd = dry_run("maintenance")
    assert cmd[-1] == str(REPO / "jobs" / "maintenance.py")


def existing_layer() -> str:
    return next(layer for layer in LAYERS if (REPO / "jobs" / f"{layer}.py").exists())


def test_local_dry_run_is_local_star_with_the_job_and_its_arguments():
    layer = existing_layer()
    cmd = dry_run(layer, "--date", "2025-11-20")
    assert Path(cmd[0]).name == "spark-submit"
    assert cmd[cmd.index("--master") + 1] == "local[*]"
    assert cmd[cmd.index("--name") + 1] == f"coretelecoms-{layer}"
    assert cmd[-3:] == [str(REPO / "jobs" / f"{layer}.py"), "--date", "2025-11-20"]
    assert "--jars" not in cmd and "spark.sql.extensions" not in conf_of(cmd)
    # The environment variable does the same as the flag.
    assert shlex.split(run(layer, "--date", "2025-11-20", CORETELECOMS_DRY_RUN="1").stdout) == cmd


def test_emr_dry_run_adds_the_delta_jars_and_settings_of_conf_emr_yaml(emr_conf):
    layer = existing_layer()
    cmd = dry_run(layer, "--date", "2025-11-20", CORETELECOMS_ENV="emr", CORETELECOMS_PYTHON=sys.executable)
    assert "--master" not in cmd  # the cluster's spark-defaults decide
    # The Delta jars, then the connector's (conf/emr.yaml publishes through it), from <artifacts_uri>/jars.
    assert cmd[cmd.index("--jars") + 1] == ",".join(
        [*emr_conf.spark.delta_jars, *jar_paths("s3://coretelecoms-lake/_artifacts/jars")]
    )
    conf = conf_of(cmd)
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf["spark.sql.catalog.spark_catalog"] == "org.apache.spark.sql.delta.catalog.DeltaCatalog"
    assert conf["spark.sql.shuffle.partitions"] == str(emr_conf.spark.shuffle_partitions)
    assert cmd[-5:] == [str(REPO / "jobs" / f"{layer}.py"), "--date", "2025-11-20", "--env", "emr"]


def test_emr_dry_run_follows_overrides_master_and_extra_options():
    layer = existing_layer()
    cmd = dry_run(
        layer,
        "--date",
        "2025-11-20",
        "--env",
        "emr",
        CORETELECOMS_ENV="emr",
        CORETELECOMS_PYTHON=sys.executable,
        CORETELECOMS__SPARK__SHUFFLE_PARTITIONS="8",
        CORETELECOMS_SPARK_MASTER="yarn",
        CORETELECOMS_DEPLOY_MODE="cluster",
        SPARK_SUBMIT_OPTS_EXTRA="--conf spark.executor.memory=8g",
    )
    assert conf_of(cmd)["spark.sql.shuffle.partitions"] == "8"
    assert conf_of(cmd)["spark.executor.memory"] == "8g"
    assert cmd[cmd.index("--master") + 1] == "yarn" and cmd[cmd.index("--deploy-mode") + 1] == "cluster"
    assert cmd.count("--env") == 1  # not added twice


def test_emr_mode_with_broken_settings_exits_2():
    proc = run(
        "--dry-run",
        existing_layer(),
        "--date",
        "2025-11-20",
        CORETELECOMS_ENV="emr",
        CORETELECOMS_PYTHON=sys.executable,
        CORETELECOMS__LAKE__DELTA_ENGINE="bogus",
    )
    assert proc.returncode == 2 and "delta_engine" in proc.stderr


@pytest.mark.parametrize("env", ["emr"])
def test_sparkconf_module_prints_one_argument_per_line(env, emr_conf):
    out = subprocess.run(
        [sys.executable, "-m", "coretelecoms.deploy.sparkconf", "--env", env], capture_output=True, text=True
    )
    lines = out.stdout.splitlines()
    assert lines[:2] == [
        "--jars",
        ",".join([*emr_conf.spark.delta_jars, *jar_paths("s3://coretelecoms-lake/_artifacts/jars")]),
    ]
    assert all(lines[i] == "--conf" for i in range(2, len(lines), 2))
