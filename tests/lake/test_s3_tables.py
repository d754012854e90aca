"""An s3:// lake (moto's server): table discovery finds every Delta table, so maintenance and erasure act on them."""

from __future__ import annotations

import uuid

import boto3
import pytest
from pyspark.sql import types as T

from coretelecoms.context import RunContext
from coretelecoms.lake import engine_for
from coretelecoms.ops.erasure import ErasureError, erase_customer
from coretelecoms.ops.maintenance import run_maintenance
from coretelecoms.settings import load_settings

SCHEMA = T.StructType([T.StructField("customer_id", T.StringType()), T.StructField("n", T.LongType())])


@pytest.fixture
def s3_env(moto_process_url, monkeypatch):
    moto_url = moto_process_url
    """What production has: no storage options, the default AWS chain (here pointed at moto by variables)."""
    for key, value in {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    return s3, bucket


def s3_ctx(spark, tmp_path, monkeypatch, root: str) -> RunContext:
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CORETELECOMS__LAKE__ROOT", root)
    monkeypatch.setenv("CORETELECOMS__MAINTENANCE__RETENTION_HOURS", "0")
    # Toy tables under real names: their full quality suites run in tests/gold/test_gold_incremental.py.
    monkeypatch.setenv("CORETELECOMS__MAINTENANCE__TABLE_SUITES", "false")
    settings = load_settings("local")
    return RunContext(settings, spark, engine_for(spark, settings.lake.root, "delta-rs"), "maintenance")


def test_s3_lake_lists_its_delta_tables_and_maintenance_compacts_them(spark, tmp_path, monkeypatch, s3_env):
    s3, bucket = s3_env
    ctx = s3_ctx(spark, tmp_path, monkeypatch, f"s3://{bucket}/prod")
    for i in range(3):
        rows = spark.createDataFrame([(f"c{i}-{j}", j) for j in range(10)], SCHEMA).coalesce(1)
        ctx.lake.append("silver.call_logs", rows)
        ctx.lake.append("gold.mart_daily", rows)
    # Not tables: landed files, a folder of Parquet without a log, a table outside the root's prefix.
    s3.put_object(Bucket=bucket, Key="prod/landing/s3/call logs/x.csv", Body=b"a,b\n")
    s3.put_object(Bucket=bucket, Key="prod/silver/scratch/part-0.parquet", Body=b"x")
    s3.put_object(
        Bucket=bucket, Key="other/silver/customers/_delta_log/00000000000000000000.json", Body=b"{}"
    )

    assert ctx.lake.list_tables() == ["gold.mart_daily", "silver.call_logs"]
    before = {t: ctx.lake.file_count(t) for t in ("gold.mart_daily", "silver.call_logs")}

    entries = run_maintenance(ctx)

    assert [(e.source, e.status) for e in entries] == [
        ("gold.mart_daily", "ok"),
        ("silver.call_logs", "ok"),
    ]
    for table, files in before.items():
        assert files == 3 and ctx.lake.file_count(table) == 1
    # The ledger written by that run is a table of the lake too.
    assert "_ops.runs" in ctx.lake.list_tables()


def test_explicit_storage_options_are_honoured(spark, monkeypatch, moto_url):
    """Listing is boto3 only, so the in-process moto server of the other S3 tests serves it."""
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="bronze/customers/_delta_log/00000000000000000000.json", Body=b"{}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens here
    lake = engine_for(
        spark, f"s3://{bucket}", "delta-rs", {"AWS_ENDPOINT_URL": moto_url, "AWS_REGION": "us-east-1"}
    )
    assert lake.list_tables() == ["bronze.customers"]


def test_an_empty_lake_is_not_a_quiet_success(spark, tmp_path, monkeypatch, s3_env):
    _, bucket = s3_env
    ctx = s3_ctx(spark, tmp_path, monkeypatch, f"s3://{bucket}")
    entries = run_maintenance(ctx)
    assert [(e.source, e.status) for e in entries] == [("*", "warn")]
    assert f"no Delta tables under s3://{bucket}" in entries[0].error
    with pytest.raises(ErasureError, match="no Delta tables under"):
        erase_customer(ctx, "5a9f0c12-3d6e-4e7b-a1c4-b8e2d0f7a619")
