"""Exactly-once: a crash between the Delta commit and the checkpoint commit, a new day, a re-delivery.

Runs on clean generated sources (two days), checked against the generator's manifest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from bronze_support import make_ctx
from pyspark.sql import functions as F

from coretelecoms.bronze import autoloader, run_bronze
from coretelecoms.landing.registry import TABLE as LANDED
from coretelecoms.ops import ledger

D1, D2 = date(2025, 11, 20), date(2025, 11, 21)
DAILY = ("call_logs", "social_media", "web_forms")
REPO = Path(__file__).resolve().parents[2]


def records(sources, day: date) -> dict[str, int]:
    """Data records per daily source on `day`, from the manifest."""
    out = dict.fromkeys(DAILY, 0)
    for info in [*sources.manifest["files"].values(), *sources.manifest["tables"].values()]:
        source = info.get("source", "web_forms")
        if info.get("date") == day.isoformat() and source in out:
            out[source] += info["records"] or 0
    return out


class Crash(RuntimeError):
    pass


@pytest.fixture(scope="module")
def lake(spark, clean_sources, tmp_path_factory):
    return make_ctx(spark, clean_sources.settings(tmp_path_factory.mktemp("exactly_once")))


def counts(ctx) -> dict[str, int]:
    return {s: ctx.lake.count(f"bronze.{s}") for s in (*DAILY, "customers", "agents")}


def test_crash_after_delta_commit_then_rerun_loses_and_duplicates_nothing(lake, clean_sources, monkeypatch):
    crashed = []

    def crash(table, batch_id):
        if table == "bronze.call_logs":
            crashed.append(batch_id)
            raise Crash("simulated crash between the Delta commit and the checkpoint commit")

    monkeypatch.setattr(autoloader, "AFTER_COMMIT", crash)
    first = {e.source: e for e in run_bronze(lake.for_layer("bronze"), D1)}
    assert crashed == [0]
    assert first["call_logs"].status == "failed"
    assert "simulated crash" in first["call_logs"].error and "Traceback" not in first["call_logs"].error
    assert all(first[s].status == "ok" for s in ("customers", "agents", "social_media", "web_forms"))
    # The rows are in Delta, but the checkpoint never recorded the batch as done.
    assert lake.lake.count("bronze.call_logs") == records(clean_sources, D1)["call_logs"]
    assert lake.lake.txn_version("bronze.call_logs", "bronze.call_logs@_checkpoints/bronze.call_logs") == 0

    monkeypatch.setattr(autoloader, "AFTER_COMMIT", None)
    again = {e.source: e for e in run_bronze(lake.for_layer("bronze"), D1)}
    expected = records(clean_sources, D1)
    # The replayed batch is not written again, but counted from what the dead run committed: the entry is
    # the one a clean run writes.
    replay = again["call_logs"]
    assert (replay.status, replay.files, replay.rows_in, replay.rows_out) == (
        "ok",
        1,
        expected["call_logs"],
        expected["call_logs"],
    )
    details = json.loads(replay.details)
    assert details["replayed_batches_skipped"] == 1
    assert details["rows_per_file"] == {f"s3/call logs/call_logs_day_{D1}.csv": expected["call_logs"]}
    got = counts(lake)
    assert {s: got[s] for s in DAILY} == expected
    assert (
        lake.lake.read("bronze.call_logs")
        .groupBy("_source_file", "_source_record")
        .count()
        .filter("count > 1")
        .count()
        == 0
    )


def test_a_new_day_adds_only_its_rows(lake, clean_sources):
    before = counts(lake)
    entries = {e.source: e for e in run_bronze(lake.for_layer("bronze"), D2)}
    after = counts(lake)
    new = records(clean_sources, D2)
    assert {s: after[s] - before[s] for s in DAILY} == new
    assert {s: entries[s].rows_out for s in DAILY} == new
    assert after["customers"] == before["customers"] and entries["customers"].files == 0


def test_a_redelivered_file_lands_as_a_new_version_and_only_its_rows_are_added(lake, clean_sources):
    from coretelecoms.sources import redeliver

    key = f"s3/core-telecoms-data-lake/call logs/call_logs_day_{D1}.csv"
    manifest = redeliver(clean_sources.dir, key, fraction=0.1, seed=1)
    before = counts(lake)
    entries = {e.source: e for e in run_bronze(lake.for_layer("bronze"), D1)}
    assert entries["call_logs"].rows_out == manifest["files"][key]["records"]
    assert counts(lake)["call_logs"] - before["call_logs"] == manifest["files"][key]["records"]
    versions = (
        lake.lake.read(LANDED)
        .filter(F.col("source_key") == f"call logs/call_logs_day_{D1}.csv")
        .orderBy("version")
        .collect()
    )
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["sha256"] == manifest["files"][key]["sha256"]
    assert f"/v2-{versions[1]['sha256'][:12]}/" in versions[1]["landing_path"]
    files = {
        r["_source_file"]: r["_source_date"]
        for r in lake.lake.read("bronze.call_logs")
        .select("_source_file", "_source_date")
        .distinct()
        .collect()
    }
    assert files[versions[1]["landing_path"]] == D1 and files[versions[0]["landing_path"]] == D1
    # the changed statuses are in the new version's rows, at the records the manifest names
    changed = [f for f in manifest["faults"] if f.get("kind") == "redelivered" and f["file"] == key]
    rows = {
        r["_source_record"]: r
        for r in lake.lake.read("bronze.call_logs")
        .filter(F.col("_source_file") == versions[1]["landing_path"])
        .collect()
    }
    assert changed and all(rows[f["record"]]["resolution_status"] == f["value"] for f in changed)


def test_clean_sources_rows_per_file_equal_the_manifest(lake, clean_sources):
    manifest = clean_sources.manifest
    expected = {
        clean_sources.landing_rel(key): info["records"]
        for key, info in {**manifest["files"], **manifest["tables"]}.items()
        if key != "gsheets/agents.csv"
    }
    expected[f"gsheets/agents/agents_{D1}.csv"] = manifest["files"]["gsheets/agents.csv"]["records"]
    got = {}
    for name in (*DAILY, "customers", "agents"):
        for r in lake.lake.read(f"bronze.{name}").groupBy("_source_file").count().collect():
            got[r["_source_file"]] = r["count"]
    # the re-delivered call-log version is the one extra file
    redelivered = {path: n for path, n in got.items() if "/v2-" in path}
    assert len(redelivered) == 1
    assert {p: n for p, n in got.items() if p not in redelivered} == expected
    assert (
        lake.lake.count("bronze.rejected_files") == 0 if lake.lake.exists("bronze.rejected_files") else True
    )


def test_a_failure_recording_empty_files_fails_that_source_only(spark, clean_sources, tmp_path, monkeypatch):
    ctx = make_ctx(spark, clean_sources.settings(tmp_path))
    original = autoloader.Ingestion._record_empty_files

    def record_empty_files(self):
        if self.source.name == "social_media":
            raise OSError("simulated: bronze.rejected_files unreachable")
        original(self)

    monkeypatch.setattr(autoloader.Ingestion, "_record_empty_files", record_empty_files)
    entries = {e.source: e for e in run_bronze(ctx.for_layer("bronze"), D1)}
    assert set(entries) == {*DAILY, "customers", "agents"}
    assert entries["social_media"].status == "failed"
    assert entries["social_media"].error == "OSError: simulated: bronze.rejected_files unreachable"
    assert all(entries[s].status == "ok" for s in entries if s != "social_media")
    assert entries["call_logs"].rows_out == records(clean_sources, D1)["call_logs"]
    ledger_rows = ledger.read(ctx).filter(F.col("layer") == "bronze").collect()
    assert {r["source"]: r["status"] for r in ledger_rows} == {s: e.status for s, e in entries.items()}


def test_two_concurrent_bronze_runs_one_proceeds_the_other_names_it(spark, clean_sources, tmp_path):
    """Two `coretelecoms run bronze` started together on one lake (measured before the run lock: both
    ingested every file, doubling bronze). One runs; the other exits 1 within 10 s naming it."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "lib"),
        "CORETELECOMS_DATA_DIR": str(tmp_path),
        "CORETELECOMS__LAKE__DELTA_ENGINE": "delta-rs",
        "CORETELECOMS__SPARK__MASTER": "local[1]",
        "CORETELECOMS__SOURCES__S3__URI": str(clean_sources.s3),
        "CORETELECOMS__SOURCES__POSTGRES__PGDATA": str(clean_sources.pgdata),
        "CORETELECOMS__SOURCES__GSHEETS__EXPORT_PATH": str(clean_sources.dir / "gsheets" / "agents.csv"),
        "COLUMNS": "400",
    }
    command = [
        sys.executable,
        "-c",
        "from coretelecoms.cli import app; app()",
        "run",
        "bronze",
        "--date",
        str(D1),
    ]
    began = time.monotonic()
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in "ab"
    ]
    finished = {}
    while len(finished) < 2:
        for i, run in enumerate(runs):
            if i not in finished and run.poll() is not None:
                finished[i] = (time.monotonic() - began, run.returncode, *run.communicate(timeout=600))
        time.sleep(0.1)
    refused = [f for f in finished.values() if f[1] != 0]
    proceeded = [f for f in finished.values() if f[1] == 0]
    assert len(refused) == len(proceeded) == 1, [f[1:] for f in finished.values()]
    seconds, _, _, stderr = refused[0]
    assert seconds < 10, seconds
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and " is being run by run " in errors[0], stderr[-2000:]

    ctx = make_ctx(spark, clean_sources.settings(tmp_path))
    winners = {r["run_id"] for r in ledger.read(ctx).filter(F.col("layer") == "bronze").collect()}
    assert len(winners) == 1 and f"run {winners.pop()} " in errors[0]
    # The tables are a single run's: each record once, each file landed once.
    got = counts(ctx)
    assert {s: got[s] for s in DAILY} == records(clean_sources, D1)
    for name in (*DAILY, "customers", "agents"):
        df = ctx.lake.read(f"bronze.{name}")
        assert df.groupBy("_source_file", "_source_record").count().filter("count > 1").count() == 0, name
    landed = ctx.lake.read(LANDED)
    assert landed.count() == landed.select("source", "source_key", "version").distinct().count()
