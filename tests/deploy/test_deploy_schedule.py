"""The generated Step Functions definition: valid ASL, every layer in order, retries, alerts, committed copy."""

from __future__ import annotations

import copy
import json
import subprocess

import pytest
from deploy_helpers import REPO, tool
from typer.testing import CliRunner

from coretelecoms.deploy import schedule
from coretelecoms.deploy.cli import emr_app
from coretelecoms.deploy.config import EmrSettings
from coretelecoms.deploy.emr import spark_submit_parameters

INFRA = REPO / "infra"


@pytest.fixture
def definition(emr_conf):
    return schedule.state_machine(emr_conf)


def statelint(path) -> subprocess.CompletedProcess:
    return subprocess.run([tool("statelint"), str(path)], capture_output=True, text=True)


def test_committed_files_are_the_generators_output(emr_conf):
    rendered = schedule.render(emr_conf)
    for name, text in rendered.items():
        committed = (INFRA / name).read_text()
        assert committed == text, f"infra/{name} is stale: run `coretelecoms emr schedule`"


def test_committed_definition_passes_statelint_and_the_structural_checks():
    proc = statelint(INFRA / "state_machine.asl.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert schedule.validate(json.loads((INFRA / "state_machine.asl.json").read_text())) == []


def test_statelint_and_validate_catch_a_broken_definition(definition, tmp_path):
    broken = copy.deepcopy(definition)
    broken["States"]["Silver"]["Next"] = "Nowhere"
    broken["States"]["Gold"]["Retry"][0]["BackoffRate"] = 0.5
    del broken["States"]["Publish"]["Resource"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    assert statelint(path).returncode != 0
    problems = " | ".join(schedule.validate(broken))
    assert "Silver: transition to missing state 'Nowhere'" in problems
    assert "Gold: BackoffRate must be >= 1.0" in problems
    assert "Publish: a Task needs a Resource ARN" in problems
    assert "Gold: unreachable" in problems


def test_names_every_layer_in_daily_order(definition):
    assert schedule.layer_order(definition) == ["landing", "bronze", "silver", "gold", "publish"]
    states = definition["States"]
    assert states["ResolveDate"]["Choices"][0]["Next"] == "Landing"
    assert states["Publish"]["Next"] == "Succeeded" and states["Succeeded"]["Type"] == "Succeed"


@pytest.mark.parametrize("layer", schedule.DAILY_LAYERS)
def test_each_layer_is_an_emr_serverless_sync_task_with_retries_and_an_alert(definition, emr_conf, layer):
    states = definition["States"]
    task = states[layer.capitalize()]
    assert task["Resource"] == "arn:aws:states:::emr-serverless:startJobRun.sync"
    assert task["Retry"] == [
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 300, "MaxAttempts": 3, "BackoffRate": 1.0}
    ]
    params = task["Parameters"]
    assert params["ApplicationId"] == "${application_id}"
    assert params["ExecutionRoleArn"] == "${execution_role_arn}"
    assert params["ClientToken.$"] == "States.UUID()"
    driver = params["JobDriver"]["SparkSubmit"]
    assert driver["EntryPoint"] == f"${{artifacts_uri}}/jobs/{layer}.py"
    assert driver["EntryPointArguments.$"] == "States.Array('--date', $.date, '--env', 'emr')"
    # The same Spark parameters as `coretelecoms emr submit`.
    same = EmrSettings(artifacts_uri="${artifacts_uri}", logs_uri="${logs_uri}")
    assert driver["SparkSubmitParameters"] == spark_submit_parameters(emr_conf, same)
    assert "spark.archives=${artifacts_uri}/venv.tar.gz#environment" in driver["SparkSubmitParameters"]
    assert "--jars /usr/share/aws/delta/lib/delta-spark.jar" in driver["SparkSubmitParameters"]
    assert params["ConfigurationOverrides"]["MonitoringConfiguration"]["S3MonitoringConfiguration"][
        "LogUri"
    ] == ("${logs_uri}/")
    # Failure path: catch → note the step → SNS → Fail.
    (catch,) = task["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"] and catch["ResultPath"] == "$.error"
    failed = states[catch["Next"]]
    assert failed["Parameters"]["failed_step"] == layer and failed["Next"] == "NotifyFailure"
    notify = states["NotifyFailure"]
    assert notify["Resource"] == "arn:aws:states:::sns:publish"
    assert notify["Parameters"]["TopicArn"] == "${topic_arn}"
    assert states[notify["Next"]]["Type"] == "Fail"


def test_scheduled_runs_process_the_previous_day():
    import jsonata

    output = json.loads((INFRA / "state_machine.asl.json").read_text())["States"]["DateFromSchedule"][
        "Output"
    ]
    source = output["date"].removeprefix("{%").removesuffix("%}").strip()
    ev = jsonata.Jsonata(source)
    for fired, run_date in [
        ("2025-11-21T02:00:00Z", "2025-11-20"),
        ("2025-03-01T02:00:00Z", "2025-02-28"),
        ("2026-01-01T02:00:00Z", "2025-12-31"),
    ]:
        ev.assign("states", {"input": {"scheduled_time": fired}})
        assert ev.evaluate(None) == run_date
    assert schedule.schedule_input() == {"scheduled_time": "<aws.scheduler.scheduled-time>"}


def test_failure_pattern_matches_failed_job_runs_of_the_application():
    pattern = json.loads((INFRA / "emr_job_failed.pattern.json").read_text())
    assert pattern["source"] == ["aws.emr-serverless"]
    assert pattern["detail-type"] == ["EMR Serverless Job Run State Change"]
    assert pattern["detail"] == {"applicationId": ["${application_id}"], "state": ["FAILED"]}


def test_cli_schedule_writes_the_same_files(clean_env, tmp_path, emr_conf):
    result = CliRunner().invoke(emr_app, ["schedule", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name, text in schedule.render(emr_conf).items():
        assert (tmp_path / name).read_text() == text
