"""Landing from S3 through boto3 against moto's server, with the real key names (the `call logs/` space)."""

from __future__ import annotations

import socket
from datetime import date

import boto3
import pytest
from landing_support import by_source, make_ctx, settings, write_bucket

from coretelecoms.landing import objects, run_landing
from coretelecoms.landing.registry import TABLE as LANDED

BUCKET = "core-telecoms-data-lake"
D1, D3 = date(2025, 11, 20), date(2025, 11, 24)


@pytest.fixture
def source_account(tmp_path, monkeypatch):
    """A named profile for the source account, as production uses one separate from the lake's."""
    credentials = tmp_path / "aws-credentials"
    credentials.write_text("[source-account]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    return "source-account"


@pytest.fixture
def bucket(moto_url, source_account, tmp_path):
    s3 = boto3.Session(profile_name=source_account).client(
        "s3", endpoint_url=moto_url, region_name="us-east-1"
    )
    existing = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    if BUCKET in existing:
        for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=obj["Key"])
    else:
        s3.create_bucket(Bucket=BUCKET)
    local = write_bucket(tmp_path / "src")
    for path in local.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            s3.upload_file(str(path), BUCKET, path.relative_to(local).as_posix())
    return s3


def s3_settings(tmp_path, url, profile):
    return settings(
        tmp_path, s3={"uri": f"s3://{BUCKET}", "endpoint_url": url, "region": "us-east-1", "profile": profile}
    )


def test_objects_land_through_boto3_with_their_keys(
    spark, tmp_path, moto_url, source_account, bucket, monkeypatch
):
    ctx = make_ctx(spark, s3_settings(tmp_path, moto_url, source_account))
    entries = by_source(run_landing(ctx, D1))
    for source in ("customers", "call_logs", "social_media"):
        assert entries[source].status == "ok" and entries[source].files == 1
    assert entries["agents"].status == "ok"
    key = "call logs/call_logs_day_2025-11-20.csv"
    landed = tmp_path / "lake" / "landing" / "s3" / "call logs" / "call_logs_day_2025-11-20.csv"
    assert landed.read_bytes() == bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    row = ctx.lake.read(LANDED).filter(f"source_key = '{key}'").first()
    assert row["etag"] == bucket.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')
    assert row["source_uri"] == f"s3://{BUCKET}/{key}" and row["size"] == landed.stat().st_size

    # Same ETag: skipped before a single byte is read.
    def no_download(self, key, writer):
        raise AssertionError(f"{key} was downloaded again")

    with monkeypatch.context() as m:
        m.setattr(objects.ObjectStore, "copy_to", no_download)
        again = by_source(run_landing(ctx, D1))
    assert all(
        again[s].files == 0 and again[s].status == "ok" for s in ("customers", "call_logs", "social_media")
    )

    bucket.put_object(Bucket=BUCKET, Key=key, Body=landed.read_bytes().replace(b"Resolved", b"Blocked"))
    redelivered = by_source(run_landing(ctx, D1))
    assert redelivered["call_logs"].files == 1
    versions = ctx.lake.read(LANDED).filter(f"source_key = '{key}'").orderBy("version").collect()
    assert [v["version"] for v in versions] == [1, 2]
    assert "/call logs/v2-" in versions[1]["landing_path"]


def test_a_missing_daily_object_is_a_404_warning(spark, tmp_path, moto_url, source_account, bucket):
    entries = by_source(run_landing(make_ctx(spark, s3_settings(tmp_path, moto_url, source_account)), D3))
    assert entries["call_logs"].status == "warn" and "404" in entries["call_logs"].error
    assert "2025-11-24" in entries["social_media"].error
    assert entries["customers"].status == "ok"


def test_an_unreachable_endpoint_fails_the_s3_sources_only(spark, tmp_path, source_account):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    write_bucket(tmp_path / "src")
    ctx = make_ctx(spark, s3_settings(tmp_path, f"http://127.0.0.1:{closed}", source_account))
    entries = by_source(run_landing(ctx, D1))
    for source in ("customers", "call_logs", "social_media"):
        assert entries[source].status == "failed"
        assert "cannot reach" in entries[source].error and "Traceback" not in entries[source].error
    assert entries["agents"].status == "ok" and entries["agents"].files == 1
