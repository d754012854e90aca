"""`coretelecoms emr package`: the wheel and the venv-pack archive that spark.archives unpacks."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile

import boto3
import pytest
from deploy_helpers import REPO
from moto import mock_aws
from typer.testing import CliRunner

from coretelecoms.deploy import emr as emr_mod
from coretelecoms.deploy import packaging
from coretelecoms.deploy.cli import emr_app


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One real build for the module: the wheel from pyproject.toml and an archive without the (large,
    networked) runtime requirements; what those add is pip's business, checked by runtime_requirements."""
    leftovers = [REPO / "build", REPO / "lib" / "coretelecoms.egg-info"]
    before = {p: p.exists() for p in leftovers}
    out = tmp_path_factory.mktemp("emr")
    result = packaging.package(out, requirements=[])
    assert {p: p.exists() for p in leftovers} == before, "the build must not write into the work tree"
    return result


def test_wheel_holds_the_project_and_pins_its_dependencies(built):
    assert built.wheel.name == "coretelecoms-0.1.0-py3-none-any.whl"
    names = zipfile.ZipFile(built.wheel).namelist()
    assert "coretelecoms/deploy/emr.py" in names and "coretelecoms/job.py" in names
    reqs = packaging.runtime_requirements(built.wheel)
    assert "deltalake==1.6.6" in reqs and "boto3==1.44.5" in reqs
    assert not any(r.startswith(("pyspark", "py4j")) for r in reqs), "EMR provides Spark"
    assert not any("extra" in r or r.startswith("pytest") for r in reqs)
    assert "pyspark==4.1.3" in packaging.runtime_requirements(built.wheel, exclude=())


def test_requirements_command_for_the_image_builds(built):
    """The image builds run it before any dependency is installed: -S hides site-packages, so only the
    standard library and lib/ are importable."""
    out = subprocess.run(
        [sys.executable, "-S", "-m", "coretelecoms.deploy.packaging", "requirements", str(built.wheel)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO / "lib"), "PATH": "/usr/bin:/bin"},
    ).stdout.split()
    assert out == packaging.runtime_requirements(built.wheel)


def test_archive_is_a_self_contained_environment(built, tmp_path):
    with tarfile.open(built.archive) as tar:
        names = set(tar.getnames())
        tar.extractall(tmp_path / "environment", filter="tar")
    assert {"bin/python", "pyvenv.cfg", "conf/emr.yaml", "conf/local.yaml"} <= names
    assert "lib/python3.11/os.py" in names, "the standard library travels with the interpreter"
    assert "lib/python3.11/site-packages/coretelecoms/job.py" in names
    assert not any(n.startswith("lib/python3.11/site-packages/pyspark/") for n in names)
    assert not any("/test/" in n or n.startswith("lib/python3.11/site-packages/pip/") for n in names)
    # pyvenv.cfg points at where EMR Serverless unpacks the archive, where the standard library now is.
    cfg = (tmp_path / "environment" / "pyvenv.cfg").read_text()
    assert "home = /home/hadoop/environment/bin" in cfg
    # Unpacked somewhere else, as spark.archives does, the interpreter imports the project and finds conf/.
    env = tmp_path / "environment"
    proc = subprocess.run(
        [
            str(env / "bin" / "python"),
            "-c",
            "import sys, coretelecoms.deploy.packaging as p; print(sys.prefix); print(p.__file__)",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    prefix, module = proc.stdout.split()
    assert prefix == str(env) and module.startswith(str(env / "lib"))


def test_cli_package_and_upload(built, clean_env, monkeypatch):
    monkeypatch.setattr(emr_mod, "package", lambda out, archive=True: built)
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-2")
        s3.create_bucket(Bucket="arts", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        clean_env.setenv("CORETELECOMS__EMR__ARTIFACTS_URI", "s3://arts/coretelecoms")
        # conf/emr.yaml publishes through the connector: no fetched, pinned jars -> nothing uploaded, exit 1.
        refused = CliRunner().invoke(emr_app, ["package", "--upload"])
        assert (
            refused.exit_code == 1 and "not uploading: net.snowflake:spark-snowflake_2.13" in refused.output
        )
        assert "Contents" not in s3.list_objects_v2(Bucket="arts")
        clean_env.setenv("CORETELECOMS__WAREHOUSE__METHOD", "copy-into")
        result = CliRunner().invoke(emr_app, ["package", "--upload"])
        assert result.exit_code == 0, result.output
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="arts")["Contents"]}
    assert f"wheel:   {built.wheel}" in result.output
    assert "s3://arts/coretelecoms/venv.tar.gz" in result.output
    assert {"coretelecoms/venv.tar.gz", f"coretelecoms/{built.wheel.name}"} <= keys
