"""The images and the compose file: hadolint clean, entry point wired to spark-submit.sh, no secrets."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from deploy_helpers import REPO, tool

DOCKER = REPO / "docker"
DOCKERFILES = [DOCKER / "Dockerfile", DOCKER / "emr" / "Dockerfile", DOCKER / "emr" / "venv.Dockerfile"]


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(
        r"\\\n", " ", "\n".join(ln for ln in path.read_text().splitlines() if not ln.lstrip().startswith("#"))
    )
    return [(m.group(1).upper(), m.group(2).strip()) for m in re.finditer(r"^\s*(\w+)\s+(.*)$", text, re.M)]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(REPO)))
def test_hadolint_clean(dockerfile):
    proc = subprocess.run([tool("hadolint"), "--no-color", str(dockerfile)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_does_catch_problems(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install -y curl\nRUN pip install requests\n")
    proc = subprocess.run([tool("hadolint"), "--no-color", str(bad)], capture_output=True, text=True)
    assert proc.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3013"):
        assert rule in proc.stdout


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_copied_path_exists_and_passes_the_dockerignore(dockerfile):
    allowed = [
        line[1:].rstrip("/")
        for line in Path(f"{dockerfile}.dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    for kind, args in instructions(dockerfile):
        if kind != "COPY" or "--from=" in args:
            continue
        sources = [a for a in shlex.split(args) if not a.startswith("--")][:-1]
        for src in sources:
            assert (REPO / src).exists(), f"{dockerfile.name}: COPY {src} does not exist"
            assert src.rstrip("/") in allowed, f"{src} is excluded by {dockerfile.name}.dockerignore"


def test_spark_submit_image_runs_spark_submit_sh_as_non_root():
    steps = instructions(DOCKER / "Dockerfile")
    froms = [a for k, a in steps if k == "FROM"]
    assert all(a.startswith("${PYTHON_IMAGE}") for a in froms)
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in (DOCKER / "Dockerfile").read_text()
    run = " ".join(a for k, a in steps if k == "RUN")
    assert "openjdk-17-jre-headless=" in run and "pip install --no-cache-dir /tmp/dist/coretelecoms-" in run
    users = [a for k, a in steps if k == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    (entrypoint,) = [a for k, a in steps if k == "ENTRYPOINT"]
    assert entrypoint.endswith('"/opt/coretelecoms/spark-submit.sh"]')
    assert os.access(REPO / "spark-submit.sh", os.X_OK)


def test_emr_image_extends_emr_spark_8_2_and_ends_as_hadoop():
    steps = instructions(DOCKER / "emr" / "Dockerfile")
    text = (DOCKER / "emr" / "Dockerfile").read_text()
    base = re.search(r"ARG EMR_IMAGE=(\S+)", text).group(1)
    assert re.fullmatch(r"public\.ecr\.aws/emr-serverless/spark/emr-spark-8\.2\.0:(latest|\d{8})", base), base
    users = [a for k, a in steps if k == "USER"]
    assert users[0] in ("root", "0:0") and users[-1] == "hadoop:hadoop"
    run = " ".join(a for k, a in steps if k == "RUN")
    # EMR provides Spark: the project goes in without pip's pyspark.
    assert "coretelecoms.deploy.packaging requirements" in run and "--no-deps" in run
    # The pinned connector jars are fetched and checked, and the build proves the runtime it extends.
    assert "coretelecoms.deploy.jars fetch /jars" in run
    assert any(k == "COPY" and a == "--from=wheel /jars/ /opt/coretelecoms/jars/" for k, a in steps)
    assert 'grep -q "version 4\\.1\\.3"' in run
    for jar in ("delta-spark.jar", "delta-storage.jar"):
        assert f"test -f /usr/share/aws/delta/lib/{jar}" in run


def test_image_layout_runs_the_entrypoint_without_a_venv(tmp_path):
    """The image has no .venv: spark-submit.sh must find pyspark's spark-submit and python3 on PATH."""
    app = tmp_path / "opt" / "coretelecoms"
    app.mkdir(parents=True)
    shutil.copy2(REPO / "spark-submit.sh", app)
    shutil.copytree(REPO / "jobs", app / "jobs")
    shutil.copytree(REPO / "conf", app / "conf")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORETELECOMS")}
    env |= {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "CORETELECOMS_CONF_DIR": str(app / "conf"),
    }
    help_out = subprocess.run([str(app / "spark-submit.sh")], capture_output=True, text=True, env=env)
    assert help_out.returncode == 2 and "usage: spark-submit.sh" in help_out.stderr
    layer = next(p.stem for p in sorted((app / "jobs").glob("*.py")))
    proc = subprocess.run(
        [str(app / "spark-submit.sh"), "--dry-run", layer, "--date", "2025-11-20"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    cmd = shlex.split(proc.stdout)
    assert cmd[0] == str(Path(sys.executable).parent / "spark-submit")
    assert cmd[-3:] == [str(app / "jobs" / f"{layer}.py"), "--date", "2025-11-20"]
    emr = subprocess.run(
        [str(app / "spark-submit.sh"), "--dry-run", layer, "--date", "2025-11-20"],
        capture_output=True,
        text=True,
        env=env | {"CORETELECOMS_ENV": "emr", "CORETELECOMS_PYTHON": sys.executable},
    )
    assert emr.returncode == 0, emr.stderr
    assert "/usr/share/aws/delta/lib/delta-spark.jar" in emr.stdout


SECRET_KEYS = re.compile(r"PASSWORD|SECRET|TOKEN|DSN|ACCESS_KEY", re.I)


def test_compose_runs_postgres_minio_and_the_pipeline_without_committed_secrets():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "minio", "create-buckets", "pipeline"} <= set(services)
    pipeline = services["pipeline"]
    assert pipeline["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
    assert pipeline["depends_on"]["postgres"]["condition"] == "service_healthy"
    env = pipeline["environment"]
    assert env["CORETELECOMS__SOURCES__S3__ENDPOINT_URL"] == "http://minio:9000"
    assert env["CORETELECOMS__SOURCES__POSTGRES__DSN_SECRET"] == "CORETELECOMS_PG_DSN"
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_KEYS.search(key) and key != "CORETELECOMS__SOURCES__POSTGRES__DSN_SECRET":
                assert "${" in str(value), f"{name}.{key} must come from the environment, not the file"
                assert re.search(r"\$\{\w*(PASSWORD|USER)\w*:\?", str(value)) or "PASSWORD" not in key
    example = (DOCKER / ".env.example").read_text()
    assert re.search(r"^POSTGRES_PASSWORD=$", example, re.M) and re.search(
        r"^MINIO_ROOT_PASSWORD=$", example, re.M
    )
    assert ".env" in (DOCKER / ".gitignore").read_text().split()
