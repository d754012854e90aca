"""Data Docs of an s3:// lake live under `<lake>/_quality/` on S3: jobs in separate processes, each with a
disk of its own (as on EMR Serverless), add to one site; `quality docs` hands it to a reviewer."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import uuid

import boto3
import pytest
from typer.testing import CliRunner

from coretelecoms.cli import app
from coretelecoms.quality import QualityGate, Suite
from coretelecoms.quality.docs_site import remote_loads
from coretelecoms.quality.gx import key_checks
from coretelecoms.settings import Settings

# One job as its own process would run it: its own working copy (data_dir), the shared lake on S3.
JOB = """
import sys
from pyspark.sql import SparkSession
from coretelecoms.quality import QualityGate, Suite
from coretelecoms.quality.gx import key_checks
from coretelecoms.settings import Settings

lake, data_dir, suite, run = sys.argv[1:5]
spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
s = Settings(env="test", lake={"root": lake, "delta_engine": "delta-rs"}, spark={}, warehouse={},
             sources={"s3": {"uri": data_dir}, "postgres": {}, "gsheets": {}}, data_dir=data_dir)
gate = QualityGate(s)
df = spark.createDataFrame([("1",), ("2",)], "id string")
result = gate.validate(Suite(suite, suite.rsplit(".", 1)[0], "table", key_checks(["id"])), df, run)
assert result.success
gate.build_docs()
"""


def settings(lake: str, data_dir) -> Settings:
    return Settings(
        env="test",
        lake={"root": lake, "delta_engine": "delta-rs"},
        spark={},
        sources={"s3": {"uri": str(data_dir)}, "postgres": {}, "gsheets": {}},
        warehouse={},
        data_dir=data_dir,
    )


@pytest.fixture
def s3_lake(moto_process_url, monkeypatch):
    env = {
        "AWS_ENDPOINT_URL": moto_process_url,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    s3 = boto3.Session().client("s3")
    s3.create_bucket(Bucket=bucket)
    return bucket, s3


def test_jobs_in_two_processes_build_one_site_on_s3(spark, s3_lake, tmp_path, monkeypatch):
    bucket, s3 = s3_lake
    lake = f"s3://{bucket}/lake"
    # Job 1 in this process, job 2 in another, each on a fresh disk.
    gate = QualityGate(settings(lake, tmp_path / "job1"))
    df = spark.createDataFrame([("1",), ("1",)], "id string")  # a duplicate key: this one fails
    gate.validate(Suite("silver.things.table", "silver.things", "table", key_checks(["id"])), df, "run-one")
    gate.build_docs()
    job2 = subprocess.run(
        [sys.executable, "-c", JOB, lake, str(tmp_path / "job2"), "gold.others.table", "run-two"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert job2.returncode == 0, job2.stderr[-3000:]

    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="lake/_quality/")["Contents"]}
    results = [
        k for k in keys if k.startswith("lake/_quality/gx/uncommitted/validations/") and k.endswith(".json")
    ]
    assert len(results) == 2, results  # both jobs' validation results are stored on S3
    assert {
        "lake/_quality/data_docs/index.html",
        "lake/_quality/data_docs/static/vendor/manifest.json",
    } <= keys
    assert not (tmp_path / "lake").exists()  # nothing went to a local lake path

    # The reviewer's copy: the index lists both runs, every page loads only local files.
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path / "reviewer"))
    monkeypatch.setenv("CORETELECOMS__LAKE__ROOT", lake)
    out = tmp_path / "docs"
    got = CliRunner().invoke(app, ["quality", "docs", "--download", str(out)])
    assert got.exit_code == 0, got.output
    assert f"summary:   {out / 'index.html'}" in got.output
    index = (out / "data_docs" / "index.html").read_text()
    assert "run-one" in index and "run-two" in index
    assert "validations/silver/things/table/run-one" in index
    assert "validations/gold/others/table/run-two" in index
    assert not remote_loads(index)
    pages = list((out / "data_docs" / "validations").rglob("*.html"))
    assert len(pages) == 2 and all(not remote_loads(p.read_text()) for p in pages)
    assert (out / "data_docs" / "static" / "vendor" / "manifest.json").is_file()
    assert (out / "index.html").is_file()  # the summary page, from the last job

    # Without --download: pre-signed URLs of the summary and of the Data Docs index.
    got = CliRunner().invoke(app, ["quality", "docs", "--expires", "600"])
    assert got.exit_code == 0, got.output
    urls = dict(line.split(": ", 1) for line in got.output.strip().splitlines())
    assert set(urls) == {"summary", "data docs"}
    for url in urls.values():
        url = url.strip()
        assert url.startswith("http") and "X-Amz-Signature=" in url and "X-Amz-Expires=600" in url
    with urllib.request.urlopen(urls["data docs"].strip()) as response:
        assert b"run-two" in response.read()
    with urllib.request.urlopen(urls["summary"].strip()) as response:
        assert b"CoreTelecoms data quality" in response.read()

    # A third job on a fresh disk keeps both earlier results (pulls before it prunes and pushes).
    third = QualityGate(settings(lake, tmp_path / "job3"))
    assert set(third.latest_results()) == {"silver.things.table", "gold.others.table"}
    assert third.latest_results()["silver.things.table"]["success"] is False
    assert json.loads(s3.get_object(Bucket=bucket, Key=sorted(results)[0])["Body"].read())["results"]


def test_docs_on_an_empty_s3_lake_say_what_to_run(s3_lake, tmp_path, monkeypatch):
    bucket, _ = s3_lake
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CORETELECOMS__LAKE__ROOT", f"s3://{bucket}")
    got = CliRunner().invoke(app, ["quality", "docs"])
    assert got.exit_code == 1
    assert "no Data Docs yet" in got.output and f"s3://{bucket}/_quality/data_docs/index.html" in got.output
