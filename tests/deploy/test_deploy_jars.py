"""The pinned connector jars: fetched from a Maven-layout repository, checked against its .sha1 and the pinned
sha256, pinned on first use, refused when changed, and uploaded with the package."""

from __future__ import annotations

import hashlib
import json
import shutil

import boto3
import pytest
from moto import mock_aws

from coretelecoms.deploy import emr as emr_mod
from coretelecoms.deploy import jars
from coretelecoms.deploy.config import EmrSettings


def maven_repo(root, contents: dict[str, bytes]):
    """A file:// repository in Maven's layout holding one body per pinned jar, with its .sha1."""
    for jar in jars.pinned():
        body = contents[jar.artifact]
        path = root / jar.group.replace(".", "/") / jar.artifact / jar.version / jar.file_name
        path.parent.mkdir(parents=True)
        path.write_bytes(body)
        path.with_name(path.name + ".sha1").write_text(hashlib.sha1(body).hexdigest() + "  " + path.name)
    return root.as_uri()


@pytest.fixture
def lock(tmp_path):
    copy = tmp_path / "jars.json"
    shutil.copy(jars.LOCK, copy)
    return copy


def test_the_pins_are_the_connector_for_spark_4_1_and_its_certified_jdbc():
    connector, jdbc = jars.pinned()
    assert connector.coordinate == "net.snowflake:spark-snowflake_2.13:3.2.1-spark_4.1"
    assert jdbc.coordinate == "net.snowflake:snowflake-jdbc:4.0.2"
    assert connector.url().endswith(
        "/net/snowflake/spark-snowflake_2.13/3.2.1-spark_4.1/spark-snowflake_2.13-3.2.1-spark_4.1.jar"
    )


def test_fetch_pins_on_first_use_then_refuses_a_changed_jar(tmp_path, lock):
    bodies = {"spark-snowflake_2.13": b"connector-bytes", "snowflake-jdbc": b"jdbc-bytes"}
    repo = maven_repo(tmp_path / "m2", bodies)
    out = tmp_path / "jars"
    with pytest.raises(jars.JarError, match="has no pinned sha256"):
        jars.fetch(out, repo=repo, lock=lock)
    paths = jars.fetch(out, repo=repo, lock=lock, pin=True)
    assert [p.name for p in paths] == [j.file_name for j in jars.pinned()]
    pins = {j["artifact"]: j["sha256"] for j in json.loads(lock.read_text())["jars"]}
    assert pins == {k: hashlib.sha256(v).hexdigest() for k, v in bodies.items()}
    # A jar that changes after pinning (a re-published artifact, a tampered mirror) is refused.
    (out / paths[0].name).write_bytes(b"something else")
    changed = tmp_path / "m2b"
    repo_b = maven_repo(changed, {**bodies, "spark-snowflake_2.13": b"something else"})
    with pytest.raises(jars.JarError, match="differs from the pinned"):
        jars.fetch(out, repo=repo_b, lock=lock)


def test_fetch_refuses_a_download_that_does_not_match_the_repositorys_sha1(tmp_path, lock):
    repo_dir = tmp_path / "m2"
    repo = maven_repo(repo_dir, {"spark-snowflake_2.13": b"a", "snowflake-jdbc": b"b"})
    jar = jars.pinned()[1]
    path = repo_dir / jar.group.replace(".", "/") / jar.artifact / jar.version / jar.file_name
    path.write_bytes(b"truncated")
    with pytest.raises(jars.JarError, match="does not match the repository's .sha1"):
        jars.fetch(tmp_path / "jars", repo=repo, lock=lock, pin=True)


def test_upload_puts_verified_jars_where_the_job_runs_read_them(tmp_path, lock, emr_conf, monkeypatch):
    bodies = {"spark-snowflake_2.13": b"c", "snowflake-jdbc": b"j"}
    out = tmp_path / "dist" / "jars"
    jars.fetch(out, repo=maven_repo(tmp_path / "m2", bodies), lock=lock, pin=True)
    monkeypatch.setattr(jars, "LOCK", lock)
    wheel = tmp_path / "dist" / "coretelecoms-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    built = emr_mod.PackageResult(wheel=wheel, archive=None, requirements=[])
    emr = EmrSettings(artifacts_uri="s3://coretelecoms-lake/_artifacts")
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-2")
        s3.create_bucket(
            Bucket="coretelecoms-lake", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
        )
        uris = emr_mod.upload(emr_conf, built, emr=emr, s3_client=s3)
        params = emr_mod.spark_submit_parameters(emr_conf, emr)
        body = s3.get_object(Bucket="coretelecoms-lake", Key="_artifacts/jars/snowflake-jdbc-4.0.2.jar")[
            "Body"
        ]
        assert body.read() == b"j"
    for jar in jars.pinned():
        uri = f"s3://coretelecoms-lake/_artifacts/jars/{jar.file_name}"
        assert uri in uris and uri in params
