"""Concurrent delta-rs commits on an s3:// table (moto's server) never lose one: each commit file is written
with `If-None-Match: *`, so the loser of a race for version N gets 412 and commits N+1 instead."""

from __future__ import annotations

import json
import multiprocessing
import os
import urllib.request
import uuid

import boto3
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from coretelecoms.lake import engine_for
from coretelecoms.lake.deltars import S3_COMMIT_OPTIONS

COMMITS_PER_WRITER = 12


@pytest.fixture
def s3_lake(moto_process_url, monkeypatch):
    for key, value in {
        "AWS_ENDPOINT_URL": moto_process_url,
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
    boto3.client("s3", endpoint_url=moto_process_url).create_bucket(Bucket=bucket)
    return f"s3://{bucket}"


def moto_api(url: str, path: str, data: bytes | None = None) -> bytes:
    # text/plain: a form-encoded body would be parsed away by the server before moto reads it.
    request = urllib.request.Request(
        f"{url}/moto-api/{path}",
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read()


def recorded(url: str) -> list[dict]:
    return [
        json.loads(line)
        for line in moto_api(url, "recorder/download-recording").decode().splitlines()
        if line
    ]


def row(writer: int, n: int) -> pa.Table:
    return pa.table({"writer": pa.array([writer], pa.int64()), "n": pa.array([n], pa.int64())})


def append_many(path: str, writer: int, count: int, options: dict, env: dict) -> None:
    os.environ.update(env)
    for n in range(count):
        write_deltalake(path, row(writer, n), mode="append", storage_options=options)


def test_the_engine_commits_to_s3_with_conditional_put(spark, s3_lake):
    lake = engine_for(spark, s3_lake, "delta-rs")
    assert lake.storage_options == S3_COMMIT_OPTIONS
    # An explicit choice (another S3 implementation) is left alone.
    other = engine_for(spark, s3_lake, "delta-rs", {"AWS_CONDITIONAL_PUT": "dynamo:table"})
    assert other.storage_options == {"AWS_CONDITIONAL_PUT": "dynamo:table"}
    assert engine_for(spark, "/tmp/lake", "delta-rs").storage_options == {}


def test_a_writer_that_read_an_older_version_commits_after_the_winner_with_put_if_absent(
    moto_process_url, s3_lake
):
    path = f"{s3_lake}/silver/race"
    write_deltalake(path, row(0, 0), storage_options=S3_COMMIT_OPTIONS)
    moto_api(moto_process_url, "recorder/reset-recording", b"")
    moto_api(moto_process_url, "recorder/start-recording", b"")
    try:
        behind = DeltaTable(path, storage_options=S3_COMMIT_OPTIONS)  # sees version 0
        write_deltalake(path, row(1, 0), mode="append", storage_options=S3_COMMIT_OPTIONS)  # wins version 1
        write_deltalake(behind, row(2, 0), mode="append")  # also tries version 1, must land on 2
    finally:
        moto_api(moto_process_url, "recorder/stop-recording", b"")
    table = DeltaTable(path, storage_options=S3_COMMIT_OPTIONS)
    assert table.version() == 2
    assert sorted(table.to_pyarrow_table()["writer"].to_pylist()) == [0, 1, 2]
    commits = [
        r
        for r in recorded(moto_process_url)
        if r["method"] == "PUT" and "/_delta_log/" in r["url"] and r["url"].split("?")[0].endswith(".json")
    ]
    # delta-rs re-reads the log before committing; what makes a true race safe is that every commit file is
    # put only if absent, which S3 (here moto) enforces with 412 for the slower writer.
    assert {c["url"].split("?")[0].rsplit("/", 1)[1] for c in commits} == {
        "00000000000000000001.json",
        "00000000000000000002.json",
    }
    assert all(c["headers"].get("If-None-Match") == "*" for c in commits), [c["headers"] for c in commits]


def test_two_concurrent_writers_never_lose_a_commit(s3_lake):
    path = f"{s3_lake}/bronze/concurrent"
    write_deltalake(path, row(-1, -1), storage_options=S3_COMMIT_OPTIONS)
    env = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    ctx = multiprocessing.get_context("spawn")
    writers = [
        ctx.Process(target=append_many, args=(path, w, COMMITS_PER_WRITER, S3_COMMIT_OPTIONS, env))
        for w in (1, 2)
    ]
    for p in writers:
        p.start()
    for p in writers:
        p.join(timeout=300)
        assert p.exitcode == 0
    table = DeltaTable(path, storage_options=S3_COMMIT_OPTIONS)
    assert table.version() == 2 * COMMITS_PER_WRITER
    rows = sorted(zip(*table.to_pyarrow_table().select(["writer", "n"]).to_pydict().values(), strict=True))
    expected = [(-1, -1)] + [(w, n) for w in (1, 2) for n in range(COMMITS_PER_WRITER)]
    assert rows == expected  # every commit of both writers, each once
    operations = [h["operation"] for h in table.history()]
    assert operations.count("WRITE") == 2 * COMMITS_PER_WRITER + 1
