"""Landing from S3 through boto3 against moto's server, with the real key names (the `call logs/` space)."""

from __future__ import annotations

import json
import logging
import socket
import uuid
from datetime import date

import boto3
import pytest
from botocore.exceptions import ClientError
from landing_support import by_source, make_ctx, settings, write_bucket

from coretelecoms.landing import objects, run_landing
from coretelecoms.landing.registry import TABLE as LANDED

BUCKET = "core-telecoms-data-lake"
D1, D3 = date(2025, 11, 20), date(2025, 11, 24)
S3_SOURCES = ("customers", "call_logs", "social_media")


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


def s3_answer(s3, key: str) -> str:
    """What S3 itself answers when asked for `key` (code and message of the ClientError)."""
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=BUCKET, Key=key)
    err = exc.value.response["Error"]
    return f"{err['Code']} {err['Message']}"


def test_a_missing_object_warns_with_what_s3_answered(spark, tmp_path, moto_url, source_account, bucket):
    key = "call logs/call_logs_day_2025-11-24.csv"
    answer = s3_answer(bucket, key)
    assert answer.startswith("404")
    entries = by_source(run_landing(make_ctx(spark, s3_settings(tmp_path, moto_url, source_account)), D3))
    assert entries["call_logs"].status == "warn" and entries["call_logs"].files == 0
    assert entries["call_logs"].error == (
        f"no call_logs object for 2025-11-24: s3://{BUCKET}/{key}: {answer} (not delivered)"
    )
    social = "social_medias/media_complaint_day_2025-11-24.json"
    assert f"s3://{BUCKET}/{social}: {s3_answer(bucket, social)}" in entries["social_media"].error
    assert entries["customers"].status == "ok"

    bucket.delete_object(Bucket=BUCKET, Key="customers/customers_dataset.csv")
    ctx = make_ctx(spark, s3_settings(tmp_path / "again", moto_url, source_account))
    customers = by_source(run_landing(ctx, D1))["customers"]
    gone = s3_answer(bucket, "customers/customers_dataset.csv")
    assert customers.status == "warn" and f"customers_dataset.csv: {gone}" in customers.error


def test_an_object_the_listing_missed_is_found_by_asking_for_it(
    spark, tmp_path, moto_url, source_account, bucket, monkeypatch
):
    """An expected object the listing did not return is asked for by its key, and lands."""
    listed = objects.ObjectStore.list
    monkeypatch.setattr(
        objects.ObjectStore,
        "list",
        lambda self, folder: (o for o in listed(self, folder) if "2025-11-20" not in o.key),
    )
    ctx = make_ctx(spark, s3_settings(tmp_path, moto_url, source_account))
    entries = by_source(run_landing(ctx, D1))
    assert entries["call_logs"].status == "ok" and entries["call_logs"].files == 1
    key = "call logs/call_logs_day_2025-11-20.csv"
    row = ctx.lake.read(LANDED).filter(f"source_key = '{key}'").first()
    assert row["etag"] == bucket.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')


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


@pytest.fixture
def iam_accounts(moto_url, bucket, monkeypatch):
    """Two IAM users on the moto server: the source account's reader (S3 only) and the runtime that reads
    the secret (Secrets Manager only, no S3), whose keys are the default chain."""
    admin = boto3.Session(profile_name="source-account", region_name="us-east-1")  # before IAM is enforced
    iam = admin.client("iam", endpoint_url=moto_url)

    def user(name: str, actions: list[str]) -> dict:
        iam.create_user(UserName=name)
        iam.put_user_policy(
            UserName=name,
            PolicyName=f"{name}-policy",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
                }
            ),
        )
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}

    suffix = uuid.uuid4().hex[:8]
    reader = user(f"source-reader-{suffix}", ["s3:ListBucket", "s3:GetObject"])
    runtime = user(f"lake-runtime-{suffix}", ["secretsmanager:GetSecretValue"])
    arn = admin.client("secretsmanager", endpoint_url=moto_url).create_secret(
        Name=f"coretelecoms/source-s3-{suffix}", SecretString=json.dumps(reader)
    )["ARN"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", runtime["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", runtime["aws_secret_access_key"])
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_url)
    return reader, arn


def keyed_settings(tmp_path, url, **credentials):
    return settings(
        tmp_path, s3={"uri": f"s3://{BUCKET}", "endpoint_url": url, "region": "us-east-1", **credentials}
    )


def test_the_source_keys_come_from_a_secret_or_env_vars_never_from_the_lake_chain(
    spark, tmp_path, moto_url, iam_accounts, monkeypatch, caplog
):
    from moto.core.authorization import enable_iam_authentication

    reader, arn = iam_accounts
    monkeypatch.setenv("SOURCE_KEY_ID", reader["aws_access_key_id"])
    monkeypatch.setenv("SOURCE_SECRET_KEY", reader["aws_secret_access_key"])
    # What the platform logs: its own loggers at every level, anything else from INFO (botocore's DEBUG
    # wire dumps include response bodies and are never switched on by coretelecoms.logs).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="coretelecoms")
    runs = {
        "secret": keyed_settings(tmp_path / "secret", moto_url, credentials_secret=arn),
        "env": keyed_settings(
            tmp_path / "env",
            moto_url,
            access_key_id_env="SOURCE_KEY_ID",
            secret_access_key_env="SOURCE_SECRET_KEY",
        ),
        "lake chain": keyed_settings(tmp_path / "chain", moto_url),
    }
    with enable_iam_authentication():  # moto now checks each request's keys against the IAM policies
        entries = {name: by_source(run_landing(make_ctx(spark, s), D1)) for name, s in runs.items()}
    for name in ("secret", "env"):
        assert all(entries[name][s].status == "ok" and entries[name][s].files == 1 for s in S3_SOURCES), name
    chain = entries["lake chain"]["call_logs"]
    assert chain.status == "failed" and "AccessDenied" in chain.error  # the runtime may not read the bucket

    secret = reader["aws_secret_access_key"]
    ledger_text = json.dumps(
        [r.asDict() for r in make_ctx(spark, runs["secret"]).lake.read("_ops.runs").collect()], default=str
    )
    assert "call_logs" in ledger_text and secret not in ledger_text
    assert secret not in caplog.text


def test_a_bad_credentials_secret_fails_the_s3_sources_naming_only_the_reference(
    spark, tmp_path, moto_url, iam_accounts, monkeypatch
):
    reader, arn = iam_accounts
    monkeypatch.setenv("SOURCE_PAIR", json.dumps({"key": reader["aws_secret_access_key"]}))
    cases = {
        "SOURCE_PAIR": "SOURCE_PAIR: expected JSON with aws_access_key_id and aws_secret_access_key",
        arn
        + "-gone": f"cannot read the source account's S3 keys (sources.s3.credentials_secret) from {arn}-gone",
    }
    for ref, message in cases.items():
        entries = by_source(
            run_landing(make_ctx(spark, keyed_settings(tmp_path, moto_url, credentials_secret=ref)), D1)
        )
        for source in S3_SOURCES:
            assert entries[source].status == "failed" and message in entries[source].error
            assert reader["aws_secret_access_key"] not in entries[source].error
    both = keyed_settings(tmp_path, moto_url, credentials_secret=arn, profile="source-account")
    assert (
        "give one of credentials_secret"
        in by_source(run_landing(make_ctx(spark, both), D1))["customers"].error
    )
