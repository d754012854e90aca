"""EMR Serverless submit / status / upload against moto's emr-serverless and S3."""

from __future__ import annotations

import shlex
from datetime import date

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from coretelecoms.deploy import emr as emr_mod
from coretelecoms.deploy.cli import emr_app
from coretelecoms.deploy.config import EmrSettings, emr_settings
from coretelecoms.settings import SettingsError

ACCOUNT = "123456789012"  # moto's account: EMR Serverless refuses a role from another account
ROLE = f"arn:aws:iam::{ACCOUNT}:role/coretelecoms-emr-job"
D = date(2025, 11, 20)


@pytest.fixture
def aws(clean_env):
    with mock_aws():
        yield boto3.client("emr-serverless", region_name="eu-west-2")


@pytest.fixture
def app_id(aws):
    # moto 5.2.5 accepts only labels shaped emr-X.Y.0, not the engine-specific emr-spark-8.2.0 Terraform
    # sets (tested in test_deploy_terraform); the label plays no part in what submit sends.
    return aws.create_application(name="coretelecoms", releaseLabel="emr-8.2.0", type="SPARK")[
        "applicationId"
    ]


@pytest.fixture
def emr(app_id):
    return EmrSettings(
        application_id=app_id,
        execution_role_arn=ROLE,
        artifacts_uri="s3://coretelecoms-lake/_artifacts",
        logs_uri="s3://coretelecoms-lake/_logs/emr",
        poll_seconds=0,
    )


def backend_runs(app_id):
    from moto.emrserverless.models import emrserverless_backends

    return emrserverless_backends[ACCOUNT]["eu-west-2"].job_runs.get(app_id, [])


def spark_params(run: dict) -> dict[str, str]:
    args = shlex.split(run["jobDriver"]["sparkSubmit"]["sparkSubmitParameters"])
    out = {}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        if flag == "--conf":
            key, _, val = value.partition("=")
            out[key] = val
        else:
            out[flag] = value
    return out


def test_submit_sends_the_job_emr_serverless_needs(aws, app_id, emr, emr_conf):
    run = emr_mod.submit(emr_conf, "silver", D, emr=emr)

    assert run.application_id == app_id and run.name == "coretelecoms-silver-2025-11-20"
    assert run.client_token == "coretelecoms-silver-2025-11-20-1" and not run.reused
    sent = aws.get_job_run(applicationId=app_id, jobRunId=run.run_id)["jobRun"]
    driver = sent["jobDriver"]["sparkSubmit"]
    assert driver["entryPoint"] == "s3://coretelecoms-lake/_artifacts/jobs/silver.py"
    assert driver["entryPointArguments"] == ["--date", "2025-11-20", "--env", "emr"]
    assert sent["executionRole"] == ROLE
    assert sent["configurationOverrides"]["monitoringConfiguration"]["s3MonitoringConfiguration"] == {
        "logUri": "s3://coretelecoms-lake/_logs/emr/"
    }
    params = spark_params(sent)
    # The Delta jars and settings come from conf/emr.yaml, as spark-submit.sh reads them; conf/emr.yaml
    # publishes through the Spark connector, so its pinned jars follow, uploaded beside the archive.
    assert params["--jars"] == ",".join(
        [
            *emr_conf.spark.delta_jars,
            "s3://coretelecoms-lake/_artifacts/jars/spark-snowflake_2.13-3.2.1-spark_4.1.jar",
            "s3://coretelecoms-lake/_artifacts/jars/snowflake-jdbc-4.0.2.jar",
        ]
    )
    assert params["spark.sql.redaction.options.regex"].startswith("(?i)url|pem_private_key")
    assert params["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert params["spark.sql.catalog.spark_catalog"] == "org.apache.spark.sql.delta.catalog.DeltaCatalog"
    assert params["spark.sql.shuffle.partitions"] == str(emr_conf.spark.shuffle_partitions)
    assert params["spark.archives"] == "s3://coretelecoms-lake/_artifacts/venv.tar.gz#environment"
    assert params["spark.emr-serverless.driverEnv.PYSPARK_PYTHON"] == "./environment/bin/python"
    assert params["spark.executorEnv.PYSPARK_PYTHON"] == "./environment/bin/python"
    assert params["spark.emr-serverless.driverEnv.CORETELECOMS_CONF_DIR"] == "./environment/conf"
    assert backend_runs(app_id)[0].client_token == "coretelecoms-silver-2025-11-20-1"
    assert run.log_uri == (
        f"s3://coretelecoms-lake/_logs/emr/applications/{app_id}/jobs/{run.run_id}/SPARK_DRIVER/stdout.gz"
    )


def test_status_follows_the_run_and_names_unknown_runs(aws, app_id, emr, emr_conf):
    run = emr_mod.submit(emr_conf, "gold", D, emr=emr)
    assert emr_mod.status(emr_conf, run.run_id, emr=emr).state == "SUCCESS"
    aws.cancel_job_run(applicationId=app_id, jobRunId=run.run_id)
    assert emr_mod.status(emr_conf, run.run_id, emr=emr).state == "CANCELLED"
    with pytest.raises(emr_mod.EmrError, match="no job run 00nope"):
        emr_mod.status(emr_conf, "00nope", emr=emr)


def test_resubmit_is_idempotent_and_a_failed_run_is_retried_with_a_new_token(aws, app_id, emr, emr_conf):
    first = emr_mod.submit(emr_conf, "bronze", D, emr=emr)
    again = emr_mod.submit(emr_conf, "bronze", D, emr=emr)
    assert again.run_id == first.run_id and again.reused
    assert len(backend_runs(app_id)) == 1

    # Another date or layer is another run.
    other = emr_mod.submit(emr_conf, "bronze", date(2025, 11, 21), emr=emr)
    assert other.run_id != first.run_id

    backend_runs(app_id)[0].state = "FAILED"
    retry = emr_mod.submit(emr_conf, "bronze", D, emr=emr)
    assert retry.run_id != first.run_id and not retry.reused
    assert retry.client_token == "coretelecoms-bronze-2025-11-20-2"
    assert [r.client_token for r in backend_runs(app_id)] == [
        "coretelecoms-bronze-2025-11-20-1",
        "coretelecoms-bronze-2025-11-21-1",
        "coretelecoms-bronze-2025-11-20-2",
    ]
    # The retry succeeded: submitting again returns it; --force starts a deliberate re-run.
    assert emr_mod.submit(emr_conf, "bronze", D, emr=emr).run_id == retry.run_id
    forced = emr_mod.submit(emr_conf, "bronze", D, emr=emr, force=True)
    assert forced.run_id not in {first.run_id, retry.run_id}
    assert forced.client_token == "coretelecoms-bronze-2025-11-20-3"


def test_same_token_for_racing_submits():
    assert emr_mod.client_token("publish", D) == emr_mod.client_token("publish", D)
    assert emr_mod.client_token("publish", D, 2) != emr_mod.client_token("publish", D)
    assert len(emr_mod.client_token("maintenance", D, 99)) <= 64


def test_submit_wait_polls_until_the_run_finishes(aws, app_id, emr, emr_conf):
    run = emr_mod.submit(emr_conf, "publish", D, emr=emr)
    states = iter(["PENDING", "RUNNING", "RUNNING", "FAILED"])
    real = aws.get_job_run

    def fake_get_job_run(**kwargs):
        out = real(**kwargs)
        out["jobRun"]["state"] = next(states)
        return out

    aws.get_job_run = fake_get_job_run
    seen, sleeps = [], []
    final = emr_mod.wait_for(
        emr_conf, run.run_id, emr=emr, client=aws, sleep=sleeps.append, on_change=seen.append
    )
    assert final.state == "FAILED" and not final.succeeded
    assert [r.state for r in seen] == ["PENDING", "RUNNING", "FAILED"]
    assert len(sleeps) == 3


def test_unknown_layer_and_missing_settings_fail_clearly(aws, app_id, emr, emr_conf):
    with pytest.raises(emr_mod.EmrError, match="unknown layer 'platinum'"):
        emr_mod.submit(emr_conf, "platinum", D, emr=emr)
    with pytest.raises(SettingsError, match="CORETELECOMS__EMR__APPLICATION_ID"):
        emr_mod.submit(emr_conf, "silver", D, emr=EmrSettings(execution_role_arn=ROLE))


def test_emr_settings_come_from_the_environment(clean_env):
    from coretelecoms.settings import load_settings

    clean_env.setenv("CORETELECOMS__EMR__APPLICATION_ID", "00abc")
    clean_env.setenv("CORETELECOMS__EMR__EXECUTION_ROLE_ARN", ROLE)
    clean_env.setenv("CORETELECOMS__EMR__SPARK_CONF", '{"spark.executor.memory": "8g"}')
    emr_conf = load_settings("emr")
    emr = emr_settings(emr_conf)
    assert (emr.application_id, emr.execution_role_arn) == ("00abc", ROLE)
    assert emr.spark_conf == {"spark.executor.memory": "8g"}
    assert "spark.executor.memory=8g" in emr_mod.spark_submit_parameters(emr_conf, emr)


def test_image_mode_uses_the_image_python_and_no_archive(emr_conf):
    params = emr_mod.spark_submit_parameters(emr_conf, EmrSettings(python="image"))
    assert "spark.archives" not in params
    assert "/opt/coretelecoms/jars/spark-snowflake_2.13-3.2.1-spark_4.1.jar" in params
    assert "spark.emr-serverless.driverEnv.PYSPARK_PYTHON=/usr/bin/python3.11" in params
    assert "spark.executorEnv.CORETELECOMS_CONF_DIR=/opt/coretelecoms/conf" in params


def test_upload_puts_jobs_wheel_and_archive_under_the_artifacts_prefix(aws, emr, emr_conf, tmp_path):
    s3 = boto3.client("s3", region_name="eu-west-2")
    s3.create_bucket(
        Bucket="coretelecoms-lake", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    wheel = tmp_path / "coretelecoms-0.1.0-py3-none-any.whl"
    archive = tmp_path / "venv.tar.gz"
    wheel.write_bytes(b"wheel")
    archive.write_bytes(b"archive")
    built = emr_mod.PackageResult(wheel=wheel, archive=archive, requirements=[])
    # conf/emr.yaml publishes through the connector: its jars must be fetched and match their pins first.
    with pytest.raises(
        emr_mod.EmrError, match=r"not uploading: net.snowflake:spark-snowflake_2.13:.* is missing"
    ):
        emr_mod.upload(emr_conf, built, emr=emr, s3_client=s3)
    assert "Contents" not in s3.list_objects_v2(Bucket="coretelecoms-lake")
    emr_conf.warehouse.method = "copy-into"
    uris = emr_mod.upload(emr_conf, built, emr=emr, s3_client=s3)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="coretelecoms-lake")["Contents"]}
    assert "_artifacts/venv.tar.gz" in keys and "_artifacts/coretelecoms-0.1.0-py3-none-any.whl" in keys
    assert {f"_artifacts/jobs/{p.name}" for p in (emr_mod.REPO_ROOT / "jobs").glob("*.py")} <= keys
    assert "s3://coretelecoms-lake/_artifacts/jobs/silver.py" in uris
    assert (
        s3.get_object(Bucket="coretelecoms-lake", Key="_artifacts/venv.tar.gz")["Body"].read() == b"archive"
    )


def test_cli_submit_and_status(aws, app_id, clean_env):
    clean_env.setenv("CORETELECOMS__EMR__APPLICATION_ID", app_id)
    clean_env.setenv("CORETELECOMS__EMR__EXECUTION_ROLE_ARN", ROLE)
    clean_env.setenv("CORETELECOMS__EMR__POLL_SECONDS", "0")
    runner = CliRunner()
    result = runner.invoke(emr_app, ["submit", "gold", "--date", "2025-11-20"])
    assert result.exit_code == 0, result.output
    run_id = backend_runs(app_id)[0].id
    assert run_id in result.output and "coretelecoms-gold-2025-11-20" in result.output

    again = runner.invoke(emr_app, ["submit", "gold", "--date", "2025-11-20", "--wait"])
    assert again.exit_code == 0 and "already submitted" in again.output and "SUCCESS" in again.output

    status = runner.invoke(emr_app, ["status", run_id])
    assert status.exit_code == 0 and "SUCCESS" in status.output

    aws.cancel_job_run(applicationId=app_id, jobRunId=run_id)
    assert runner.invoke(emr_app, ["status", run_id]).exit_code == 1
    assert runner.invoke(emr_app, ["submit", "platinum", "--date", "2025-11-20"]).exit_code == 2
    assert runner.invoke(emr_app, ["submit", "gold", "--date", "20-11-2025"]).exit_code == 2


def test_cli_submit_without_application_id_exits_2(clean_env):
    result = CliRunner().invoke(emr_app, ["submit", "gold", "--date", "2025-11-20"])
    assert result.exit_code == 2
    assert "CORETELECOMS__EMR__APPLICATION_ID" in result.output


def test_emr_section_is_read_from_conf_emr_yaml(emr_conf):
    emr = emr_settings(emr_conf)
    assert isinstance(emr, EmrSettings)
    assert (emr.region, emr.python, emr.artifacts_uri) == (
        "eu-west-2",
        "archive",
        "s3://coretelecoms-lake/_artifacts",
    )
    with pytest.raises(SettingsError, match="CORETELECOMS__EMR__APPLICATION_ID"):
        emr.require("application_id")


def test_cli_submit_maintenance_defaults_to_today_and_other_layers_need_a_date(aws, app_id, clean_env):
    from datetime import UTC, datetime

    clean_env.setenv("CORETELECOMS__EMR__APPLICATION_ID", app_id)
    clean_env.setenv("CORETELECOMS__EMR__EXECUTION_ROLE_ARN", ROLE)
    runner = CliRunner()
    result = runner.invoke(emr_app, ["submit", "maintenance"])
    assert result.exit_code == 0, result.output
    today = datetime.now(UTC).date().isoformat()
    sent = aws.get_job_run(applicationId=app_id, jobRunId=backend_runs(app_id)[0].id)["jobRun"]
    assert sent["name"] == f"coretelecoms-maintenance-{today}"
    assert sent["jobDriver"]["sparkSubmit"]["entryPoint"].endswith("/jobs/maintenance.py")
    missing = runner.invoke(emr_app, ["submit", "silver"])
    assert missing.exit_code == 2 and "--date is required for silver" in missing.output


def test_conf_emr_yaml_placeholders_are_refused_by_name(emr_conf):
    """The committed secret ARNs are placeholders the operator must replace before packaging."""
    from coretelecoms.secrets import SecretError, resolve_secret

    refs = [
        emr_conf.sources.postgres.dsn_secret,
        emr_conf.sources.gsheets.service_account_secret,
        emr_conf.warehouse.private_key_secret,
    ]
    assert all("<ACCOUNT_ID>" in ref for ref in refs)
    with pytest.raises(SecretError, match=r"postgres DSN: .*<ACCOUNT_ID>.* is still a placeholder"):
        resolve_secret(refs[0], what="postgres DSN")
    assert emr_conf.warehouse.account is None and emr_conf.warehouse.user is None


def test_cluster_runs_use_the_in_memory_catalog_and_the_dynamodb_commit_lock(emr_conf, clean_env):
    """No Glue (path-based tables), and delta-spark on s3:// commits through S3DynamoDBLogStore."""
    from deploy_helpers import REPO

    from coretelecoms.deploy.sparkconf import cluster_conf
    from coretelecoms.settings import SettingsError, load_settings

    conf = cluster_conf(emr_conf)
    assert conf["spark.sql.catalogImplementation"] == "in-memory"
    assert not any("glue" in value.lower() for value in conf.values())
    assert conf["spark.delta.logStore.s3.impl"] == "io.delta.storage.S3DynamoDBLogStore"
    prefix = "spark.io.delta.storage.S3DynamoDBLogStore.ddb"
    assert conf[f"{prefix}.tableName"] == emr_conf.lake.commit_table == "coretelecoms-delta-log"
    assert conf[f"{prefix}.region"] == emr_conf.emr.region

    clean_env.setenv("CORETELECOMS__LAKE__COMMIT_TABLE", "")
    unlocked = load_settings("emr", conf_dir=REPO / "conf")
    with pytest.raises(SettingsError, match="lake.commit_table"):
        cluster_conf(unlocked)
    clean_env.setenv("CORETELECOMS__LAKE__DELTA_ENGINE", "delta-rs")
    assert "spark.delta.logStore.s3.impl" not in cluster_conf(load_settings("emr", conf_dir=REPO / "conf"))
