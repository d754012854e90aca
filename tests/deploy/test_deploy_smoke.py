"""`coretelecoms emr smoke`: the job's checks run for real here on delta-rs (the cluster runs them on
delta-spark), and the CLI submits it and reads its report back from S3 (moto)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from coretelecoms.deploy.cli import emr_app
from coretelecoms.lake.contract import CASES
from coretelecoms.ops import smoke
from coretelecoms.settings import load_settings

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/coretelecoms-emr-job"


def test_the_smoke_job_runs_the_contract_and_a_generated_day_and_reports_them(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    settings = load_settings("local")
    checks = smoke.run_smoke(settings, spark, "t1")
    by_name = {c.name: c for c in checks}
    assert [c.name for c in checks[: len(CASES)]] == [f"delta-contract {c.__name__}" for c in CASES]
    assert all(c.status == "pass" and c.detail == "delta-rs" for c in checks[: len(CASES)]), checks
    e2e = by_name["end-to-end landing→gold"]
    assert e2e.status == "pass", e2e.detail
    assert "complaint facts on delta-rs" in e2e.detail and "/_smoke/t1/lake" in e2e.detail
    assert by_name["snowflake spark connector"].status == "skip"  # local warehouse.method is copy-into
    report = tmp_path / "lake" / "_smoke" / "t1" / smoke.REPORT
    assert smoke.parse_report(report.read_text()) == checks and smoke.passed(checks)
    # The production lake is untouched: everything lives under the scratch prefix.
    assert sorted(p.name for p in (tmp_path / "lake").iterdir()) == ["_smoke"]


def test_a_failing_case_is_a_failed_check_with_its_reason_and_the_rest_still_run(
    spark, tmp_path, monkeypatch
):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    settings = load_settings("local")
    settings.lake.delta_engine = "delta-spark"  # not on this classpath: every case fails, naming why
    checks = smoke.delta_contract(settings, spark, str(tmp_path / "scratch"))
    assert len(checks) == len(CASES) and all(c.status == "fail" for c in checks)
    assert (
        "DeltaEngineError: lake.delta_engine is delta-spark but delta-spark is not usable" in checks[0].detail
    )
    assert not smoke.passed(checks)


def test_parse_report_refuses_what_is_not_a_report():
    with pytest.raises(ValueError, match="not a smoke report"):
        smoke.parse_report("{}")
    with pytest.raises(ValueError, match="not a smoke report"):
        smoke.parse_report(json.dumps({"checks": [{"name": "x", "status": "maybe", "seconds": 1}]}))


@pytest.fixture
def emr_env(clean_env):
    with mock_aws():
        aws = boto3.client("emr-serverless", region_name="eu-west-2")
        # moto 5.2.5 accepts only emr-X.Y.0 labels, not the engine-specific emr-spark-8.2.0.
        app_id = aws.create_application(name="coretelecoms", releaseLabel="emr-8.2.0", type="SPARK")[
            "applicationId"
        ]
        s3 = boto3.client("s3", region_name="eu-west-2")
        s3.create_bucket(
            Bucket="coretelecoms-lake", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
        )
        clean_env.setenv("CORETELECOMS__EMR__APPLICATION_ID", app_id)
        clean_env.setenv("CORETELECOMS__EMR__EXECUTION_ROLE_ARN", ROLE)
        clean_env.setenv("CORETELECOMS__EMR__POLL_SECONDS", "0")
        yield aws, app_id, s3


def put_report(s3, smoke_id, checks):
    body = json.dumps({"checks": [c.__dict__ for c in checks]})
    s3.put_object(Bucket="coretelecoms-lake", Key=f"_smoke/{smoke_id}/{smoke.REPORT}", Body=body.encode())


def test_cli_submits_the_smoke_job_and_prints_the_report(emr_env):
    aws, app_id, s3 = emr_env
    runner = CliRunner()
    missing = runner.invoke(emr_app, ["smoke", "--smoke-id", "s0"])
    assert missing.exit_code == 1 and "wrote no report" in missing.output

    ok = [
        smoke.Check("delta-contract delete", "pass", 1.0, "delta-spark"),
        smoke.Check("connector", "skip", 0),
    ]
    put_report(s3, "s1", ok)
    result = runner.invoke(emr_app, ["smoke", "--smoke-id", "s1"])
    assert result.exit_code == 0, result.output
    assert "delta-contract delete" in result.output and "pass" in result.output
    (run,) = [r for r in aws.list_job_runs(applicationId=app_id)["jobRuns"] if r["name"].endswith("-s1")]
    sent = aws.get_job_run(applicationId=app_id, jobRunId=run["id"])["jobRun"]
    driver = sent["jobDriver"]["sparkSubmit"]
    assert driver["entryPoint"] == "s3://coretelecoms-lake/_artifacts/jobs/smoke.py"
    assert driver["entryPointArguments"] == ["--smoke-id", "s1", "--env", "emr"]
    assert "/usr/share/aws/delta/lib/delta-spark.jar" in driver["sparkSubmitParameters"]
    assert "_artifacts/jars/spark-snowflake_2.13-3.2.1-spark_4.1.jar" in driver["sparkSubmitParameters"]

    put_report(s3, "s2", [*ok, smoke.Check("end-to-end landing→gold", "fail", 3.0, "RuntimeError: silver")])
    failed = runner.invoke(emr_app, ["smoke", "--smoke-id", "s2"])
    assert failed.exit_code == 1 and "RuntimeError: silver" in failed.output and "fail" in failed.output


def test_smoke_help_explains_the_check():
    out = CliRunner().invoke(emr_app, ["smoke", "--help"], terminal_width=200).output
    for words in ("Delta contract suite", "delta-spark", "landing→gold", "connector round trip", "exits 1"):
        assert words in out, words
