"""EMR Serverless: package the project, upload it, start one job run per layer and date, follow it.

A job run is named `coretelecoms-<layer>-<date>`. Submitting is idempotent at two levels:
- before starting, an active or successful run of the same name is returned instead of a new one, so a
  re-submitted day (an operator retry, a backfill resumed) never runs a layer twice;
- the client token is derived from layer, date and attempt (`coretelecoms-silver-2025-11-20-1`), so two
  submits racing each other send the same token and EMR Serverless starts one run. A failed or cancelled
  run moves the attempt on, so the next submit really retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from coretelecoms.deploy import jars
from coretelecoms.deploy.config import EmrSettings, emr_settings
from coretelecoms.deploy.packaging import PackageResult
from coretelecoms.deploy.packaging import package as _package
from coretelecoms.deploy.sparkconf import submit_parameters
from coretelecoms.settings import REPO_ROOT, Settings, SettingsError

LAYERS = ("landing", "bronze", "silver", "gold", "publish", "maintenance")
ACTIVE_STATES = ("SUBMITTED", "PENDING", "SCHEDULED", "RUNNING", "QUEUED")
TERMINAL_STATES = ("SUCCESS", "FAILED", "CANCELLED")
ENV_DIR = "./environment"  # where spark.archives unpacks venv.tar.gz (the #environment suffix)
IMAGE_CONF_DIR = "/opt/coretelecoms/conf"


class EmrError(RuntimeError):
    pass


@dataclass(frozen=True)
class JobRun:
    """What an operator needs to know about one run; `reused` says submit found it instead of starting it."""

    application_id: str
    run_id: str
    name: str | None
    state: str
    state_details: str | None = None
    arn: str | None = None
    client_token: str | None = None
    reused: bool = False
    log_uri: str | None = None

    @property
    def done(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def succeeded(self) -> bool:
        return self.state == "SUCCESS"


def job_name(layer: str, run_date: date) -> str:
    return f"coretelecoms-{layer}-{run_date.isoformat()}"


def client_token(layer: str, run_date: date, attempt: int = 1) -> str:
    """Deterministic per layer, date and attempt; EMR Serverless accepts [A-Za-z0-9._-]{1,64}."""
    return f"{job_name(layer, run_date)}-{attempt}"


def _client(emr: EmrSettings, client: Any = None) -> Any:
    if client is not None:
        return client
    import boto3

    return boto3.client("emr-serverless", region_name=emr.region)


def _s3_join(prefix: str, *parts: str) -> str:
    return "/".join([prefix.rstrip("/"), *parts])


def python_conf(emr: EmrSettings) -> dict[str, str]:
    """Which Python the driver and executors run, and where they find conf/: the archive's or the image's."""
    if emr.python == "archive":
        py, conf_dir = f"{ENV_DIR}/bin/python", f"{ENV_DIR}/conf"
        out = {"spark.archives": _s3_join(emr.artifacts_uri, "venv.tar.gz") + "#environment"}
    else:
        py, conf_dir = emr.image_python, IMAGE_CONF_DIR
        out = {}
    env = {"PYSPARK_PYTHON": py, "CORETELECOMS_CONF_DIR": conf_dir, "CORETELECOMS_ENV": "emr"}
    for key, value in env.items():
        out[f"spark.emr-serverless.driverEnv.{key}"] = value
        out[f"spark.executorEnv.{key}"] = value
    out["spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON"] = py
    return out


def connector_dir(emr: EmrSettings) -> str:
    """Where the job finds the pinned Snowflake connector jars: uploaded beside the archive, or in the image."""
    return jars.IMAGE_JARS_DIR if emr.python == "image" else _s3_join(emr.artifacts_uri, "jars")


def spark_submit_parameters(settings: Settings, emr: EmrSettings | None = None) -> str:
    """Delta jars (and the connector's, when publishing through it) + Spark settings of conf/emr.yaml, the
    Python environment, and emr.spark_conf."""
    emr = emr or emr_settings(settings)
    return submit_parameters(settings, python_conf(emr) | dict(emr.spark_conf), connector_dir(emr))


def job_driver(settings: Settings, layer: str, run_date: date, emr: EmrSettings | None = None) -> dict:
    emr = emr or emr_settings(settings)
    return {
        "sparkSubmit": {
            "entryPoint": _s3_join(emr.artifacts_uri, "jobs", f"{layer}.py"),
            "entryPointArguments": ["--date", run_date.isoformat(), "--env", "emr"],
            "sparkSubmitParameters": spark_submit_parameters(settings, emr),
        }
    }


def monitoring(emr: EmrSettings) -> dict:
    return {
        "monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": emr.logs_uri.rstrip("/") + "/"}}
    }


def driver_log_uri(emr: EmrSettings, application_id: str, run_id: str) -> str:
    return _s3_join(emr.logs_uri, "applications", application_id, "jobs", run_id, "SPARK_DRIVER", "stdout.gz")


def _runs_named(client: Any, application_id: str, name: str) -> list[dict]:
    runs: list[dict] = []
    try:
        for page in client.get_paginator("list_job_runs").paginate(applicationId=application_id):
            runs += [r for r in page.get("jobRuns", []) if r.get("name") == name]
    except client.exceptions.ResourceNotFoundException:
        # moto answers "not found" for an application without runs yet; AWS answers an empty list.
        try:
            client.get_application(applicationId=application_id)
        except client.exceptions.ResourceNotFoundException:
            raise EmrError(f"no EMR Serverless application {application_id} (emr.application_id)") from None
    # Newest first (AWS already lists them so; the sort makes it explicit).
    return sorted(runs, key=lambda r: r["createdAt"].timestamp() if r.get("createdAt") else 0.0, reverse=True)


def _info(emr: EmrSettings, run: dict, *, reused: bool = False, token: str | None = None) -> JobRun:
    app, run_id = run["applicationId"], run.get("jobRunId") or run["id"]
    return JobRun(
        application_id=app,
        run_id=run_id,
        name=run.get("name"),
        state=run["state"],
        state_details=run.get("stateDetails") or None,
        arn=run.get("arn"),
        client_token=token,
        reused=reused,
        log_uri=driver_log_uri(emr, app, run_id),
    )


def submit(
    settings: Settings,
    layer: str,
    run_date: date,
    wait: bool = False,
    *,
    force: bool = False,
    emr: EmrSettings | None = None,
    client: Any = None,
    on_change: Callable[[JobRun], None] | None = None,
) -> JobRun:
    """Start `jobs/<layer>.py --date D --env emr` on the application (or return the run already doing it).

    `force` starts a new run even when one of the same name is active or succeeded (a deliberate re-run).
    With `wait`, returns when the run has finished.
    """
    if layer not in LAYERS:
        raise EmrError(f"unknown layer {layer!r}; choose from {', '.join(LAYERS)}")
    emr = emr or emr_settings(settings)
    emr.require("application_id", "execution_role_arn")
    emr_client = _client(emr, client)
    name = job_name(layer, run_date)
    previous = _runs_named(emr_client, emr.application_id, name)
    live = [r for r in previous if r["state"] in (*ACTIVE_STATES, "SUCCESS")]
    if live and not force:
        info = _info(emr, live[0], reused=True)
    else:
        token = client_token(layer, run_date, attempt=len(previous) + 1)
        started = emr_client.start_job_run(
            applicationId=emr.application_id,
            clientToken=token,
            executionRoleArn=emr.execution_role_arn,
            name=name,
            jobDriver=job_driver(settings, layer, run_date, emr),
            configurationOverrides=monitoring(emr),
            executionTimeoutMinutes=emr.execution_timeout_minutes,
            tags={"project": "coretelecoms", "layer": layer, "run_date": run_date.isoformat()},
        )
        info = replace(status(settings, started["jobRunId"], emr=emr, client=emr_client), client_token=token)
    if wait:
        return wait_for(settings, info.run_id, emr=emr, client=emr_client, on_change=on_change)
    return info


def submit_smoke(
    settings: Settings, smoke_id: str, *, emr: EmrSettings | None = None, client: Any = None
) -> JobRun:
    """Start jobs/smoke.py on the application (see coretelecoms.ops.smoke): the same Spark parameters, jars
    and Python as every layer, so it proves what the daily jobs will run on."""
    emr = emr or emr_settings(settings)
    emr.require("application_id", "execution_role_arn")
    emr_client = _client(emr, client)
    name = f"coretelecoms-smoke-{smoke_id}"
    started = emr_client.start_job_run(
        applicationId=emr.application_id,
        clientToken=name[:64],
        executionRoleArn=emr.execution_role_arn,
        name=name,
        jobDriver={
            "sparkSubmit": {
                "entryPoint": _s3_join(emr.artifacts_uri, "jobs", "smoke.py"),
                "entryPointArguments": ["--smoke-id", smoke_id, "--env", "emr"],
                "sparkSubmitParameters": spark_submit_parameters(settings, emr),
            }
        },
        configurationOverrides=monitoring(emr),
        executionTimeoutMinutes=min(emr.execution_timeout_minutes, 60),
        tags={"project": "coretelecoms", "layer": "smoke"},
    )
    return status(settings, started["jobRunId"], emr=emr, client=emr_client)


def smoke_report(settings: Settings, smoke_id: str, *, s3_client: Any = None) -> str | None:
    """The report jobs/smoke.py wrote for `smoke_id`, or None when there is none."""
    from coretelecoms.landing.store import split_s3
    from coretelecoms.ops.smoke import REPORT, scratch_root

    bucket, key = split_s3(f"{scratch_root(settings, smoke_id)}/{REPORT}")
    if s3_client is None:
        import boto3

        s3_client = boto3.client("s3", region_name=settings.emr.region)
    try:
        return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    except s3_client.exceptions.NoSuchKey:
        return None


def status(settings: Settings, run_id: str, *, emr: EmrSettings | None = None, client: Any = None) -> JobRun:
    """The run's current state (SUBMITTED … RUNNING, then SUCCESS, FAILED or CANCELLED) and details."""
    emr = emr or emr_settings(settings)
    emr.require("application_id")
    emr_client = _client(emr, client)
    try:
        run = emr_client.get_job_run(applicationId=emr.application_id, jobRunId=run_id)["jobRun"]
    except emr_client.exceptions.ResourceNotFoundException:
        raise EmrError(f"no job run {run_id} in application {emr.application_id}") from None
    return _info(emr, run)


def wait_for(
    settings: Settings,
    run_id: str,
    *,
    emr: EmrSettings | None = None,
    client: Any = None,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_change: Callable[[JobRun], None] | None = None,
) -> JobRun:
    """Poll every `emr.poll_seconds` until the run is finished; `timeout` seconds raise EmrError."""
    emr = emr or emr_settings(settings)
    emr_client = _client(emr, client)
    deadline = None if timeout is None else time.monotonic() + timeout
    last = None
    while True:
        info = status(settings, run_id, emr=emr, client=emr_client)
        if on_change and info.state != last:
            on_change(info)
        last = info.state
        if info.done:
            return info
        if deadline is not None and time.monotonic() > deadline:
            raise EmrError(f"job run {run_id} still {info.state} after {timeout:.0f}s")
        sleep(emr.poll_seconds)


def package(out_dir: Path, *, requirements: list[str] | None = None, archive: bool = True) -> PackageResult:
    """The project wheel and `venv.tar.gz` (for spark.archives) in `out_dir`; see coretelecoms.deploy.packaging."""
    return _package(Path(out_dir), requirements=requirements, archive=archive)


def _split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise SettingsError(f"setting 'emr.artifacts_uri' must be an s3:// URI, not {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key.strip("/")


def upload(
    settings: Settings,
    built: PackageResult,
    *,
    emr: EmrSettings | None = None,
    s3_client: Any = None,
    jobs_dir: Path = REPO_ROOT / "jobs",
    jars_dir: Path | None = None,
) -> list[str]:
    """Put the entry points (`jobs/*.py`), the wheel, the archive and, when the warehouse publishes through
    the Spark connector, its pinned jars (checked against jars.json; `coretelecoms emr jars` fetches them into
    `<package dir>/jars`) under `emr.artifacts_uri`."""
    emr = emr or emr_settings(settings)
    bucket, prefix = _split_s3(emr.artifacts_uri)
    files = [(p, f"jobs/{p.name}") for p in sorted(jobs_dir.glob("*.py"))]
    files.append((built.wheel, built.wheel.name))
    if built.archive is not None:
        files.append((built.archive, "venv.tar.gz"))
    if settings.warehouse.method == "spark-connector":
        try:
            checked = jars.verify(jars_dir or built.wheel.parent / "jars")
        except jars.JarError as exc:
            raise EmrError(f"not uploading: {exc}") from None
        files += [(path, f"jars/{path.name}") for path in checked]
    if s3_client is None:
        import boto3

        s3_client = boto3.client("s3", region_name=emr.region)
    uris = []
    for path, rel in files:
        key = f"{prefix}/{rel}" if prefix else rel
        s3_client.upload_file(str(path), bucket, key)
        uris.append(f"s3://{bucket}/{key}")
    return uris
