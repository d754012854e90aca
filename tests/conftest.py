"""Shared fixtures.

`spark`: one SparkSession for the whole test session (local[2], 4 shuffle partitions, no UI).
`moto_url`: moto's server on a free local port.
`lakehouse`: one small, messy, four-day lake built by the real pipeline (sources from the generator with
faults injected, the embedded Postgres, every layer through the runner the CLI uses), shared by the
end-to-end and notebook tests. Tests that change the lake work on `lakehouse_copy`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from coretelecoms.context import RunContext
from coretelecoms.lake import engine_for
from coretelecoms.runner import DAILY_CHAIN, layer_function
from coretelecoms.settings import Settings, load_settings
from coretelecoms.sources import dsn, generate, local_postgres, stop

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    tmp = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("coretelecoms-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.driver.memory", "4g")
        .config("spark.local.dir", str(tmp))
        .config("spark.sql.warehouse.dir", str(tmp / "warehouse"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def moto_url():
    """moto's S3 (and the rest of AWS) as a real HTTP server, for code that builds its own boto3 clients."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


# moto's server in a process of its own, for delta-rs (which holds the GIL while it waits on S3, so an
# in-process threaded moto would never answer it).
def start_moto(log_path):
    with log_path.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            stdout=out,
            stderr=out,
            # The request recorder (used by the commit and role tests) writes here, not into the repo.
            env={**os.environ, "MOTO_RECORDER_FILEPATH": str(log_path.parent / "recording.jsonl")},
        )
    deadline = time.monotonic() + 30
    while not (found := re.search(r"Running on (http://127\.0\.0\.1:\d+)", log_path.read_text())):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.terminate()
            raise RuntimeError(log_path.read_text())
        time.sleep(0.1)
    return proc, found.group(1)


@pytest.fixture(scope="module")
def moto_process_url(tmp_path_factory):
    proc, url = start_moto(tmp_path_factory.mktemp("moto") / "server.log")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


START = date(2025, 11, 20)
DAYS = 4
DATES = [START + timedelta(days=i) for i in range(DAYS)]


@dataclass
class Lakehouse:
    data_dir: Path
    settings: Settings
    ctx: RunContext
    manifest: dict
    ledger: list
    dates: list

    def context(self, layer: str) -> RunContext:
        return self.ctx.for_layer(layer)


def use_data_dir(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Settings:
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(data_dir))
    return load_settings("local")


def build(spark, data_dir: Path, monkeypatch, *, scale: float, messy: float, days: int = DAYS) -> Lakehouse:
    settings = use_data_dir(monkeypatch, data_dir)
    server = local_postgres(settings.sources.postgres.pgdata)
    manifest = generate(
        data_dir / "sources", scale=scale, start=START, days=days, seed=2025, messy=messy, pg_dsn=dsn(server)
    )
    ctx = RunContext(settings, spark, engine_for(spark, settings.lake.root, "delta-rs"), "e2e")
    ledger = []
    for run_date in DATES[:days]:
        for layer in DAILY_CHAIN:
            entries = layer_function(layer)(ctx.for_layer(layer), run_date)
            ledger.append((layer, run_date, entries))
            failed = [e for e in entries if e.status == "failed"]
            assert not failed, f"{layer} {run_date}: {failed[0].source}: {failed[0].error}"
    return Lakehouse(data_dir, settings, ctx, manifest, ledger, DATES[:days])


@pytest.fixture(scope="session")
def lakehouse(spark, tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    data_dir = tmp_path_factory.mktemp("lakehouse")
    try:
        house = build(spark, data_dir, monkeypatch, scale=0.002, messy=0.02)
    finally:
        monkeypatch.undo()  # the settings object keeps the paths; nothing else should see this data dir
    yield house
    stop(house.settings.sources.postgres.pgdata)


@pytest.fixture
def lakehouse_copy(lakehouse, tmp_path, monkeypatch):
    """A private copy of the built lake and warehouse, for tests that change them."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for part in ("lake", "warehouse"):
        if (lakehouse.data_dir / part).exists():
            shutil.copytree(lakehouse.data_dir / part, data_dir / part)
    settings = use_data_dir(monkeypatch, data_dir)
    ctx = RunContext(
        settings, lakehouse.ctx.spark, engine_for(lakehouse.ctx.spark, settings.lake.root, "delta-rs"), "e2e"
    )
    return Lakehouse(data_dir, settings, ctx, lakehouse.manifest, [], lakehouse.dates)
