"""The per-layer run lock: one run of a layer at a time, locally (O_EXCL) and on S3 (conditional puts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from coretelecoms.ops import runlock
from coretelecoms.ops.runlock import LockHeld, RunLock
from coretelecoms.runner import LAYERS, LOCKS

REPO = Path(__file__).resolve().parents[2]


class Lake:
    """Just what the lock needs of a Delta engine: the root and an S3 client."""

    def __init__(self, root: str, endpoint: str | None = None) -> None:
        self.root, self.endpoint = root, endpoint

    def s3_client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")


@pytest.fixture(params=["local", "s3"])
def lake(request, tmp_path, monkeypatch):
    if request.param == "local":
        return Lake(str(tmp_path / "lake"))
    url = request.getfixturevalue("moto_url")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    bucket = f"lake-{tmp_path.name.lower().replace('_', '-')[-40:]}"
    boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket=bucket)
    return Lake(f"s3://{bucket}/prod", url)


def test_a_second_run_of_a_layer_is_refused_naming_the_holder(lake):
    with RunLock(lake, "silver", "silver-first", "2025-11-20"):
        with pytest.raises(LockHeld) as held:
            RunLock(lake, "silver", "silver-second", "2025-11-20").acquire()
        assert "run silver-first" in str(held.value) and "\n" not in str(held.value)
        with pytest.raises(LockHeld):  # another date of the same layer writes the same tables
            RunLock(lake, "silver", "silver-third", "2025-11-21").acquire()
        with RunLock(lake, "gold", "gold-1"):  # other layers are free
            pass
    with RunLock(lake, "silver", "silver-second", "2025-11-20"):  # released: free again
        pass


def test_an_invocation_lock_is_handed_to_each_run_of_the_process(lake):
    """The CLI takes its locks before Spark starts; each layer run then takes its lock over (the lock names
    the run really running), while another process is still refused (`_take` is what it does)."""
    with RunLock(lake, "silver", "silver-first", invocation=True) as outer:
        with RunLock(lake, "silver", "silver-second", "2025-11-21"):
            held = json.loads(outer.store.read()[0])
            assert (held["run_id"], held["run_date"]) == ("silver-second", "2025-11-21")
            with pytest.raises(LockHeld) as refused:
                RunLock(lake, "silver", "silver-other", "2025-11-21")._take()
            assert "run silver-second " in str(refused.value)
        assert outer.store.read() is not None  # the run's release leaves the invocation's lock in place
        with pytest.raises(LockHeld):
            RunLock(lake, "silver", "silver-other")._take()
    assert outer.store.read() is None
    # released: free again, and not handed over any more
    with RunLock(lake, "silver", "silver-other"), pytest.raises(LockHeld):
        RunLock(lake, "silver", "silver-again").acquire()


def test_a_stale_lock_is_taken_over(lake, monkeypatch):
    monkeypatch.setattr(runlock, "EXPIRY_SECONDS", -1)  # written already expired: a crashed holder's
    crashed = RunLock(lake, "bronze", "bronze-crashed")
    crashed.acquire()
    crashed._stop.set()  # the holder is gone: no heartbeat, no release
    monkeypatch.setattr(runlock, "EXPIRY_SECONDS", 300)
    with RunLock(lake, "bronze", "bronze-next") as taken:
        body = taken.store.read()[0]
        assert json.loads(body)["run_id"] == "bronze-next"
        with pytest.raises(LockHeld, match="bronze-next"):
            RunLock(lake, "bronze", "bronze-third").acquire()
    crashed.release()  # the crashed holder's late release must not remove a lock it no longer holds


def test_a_lock_of_a_dead_process_on_this_host_is_stale_at_once(lake):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = RunLock(lake, "gold", "gold-killed")
    holder = json.loads(lock._body())
    holder["pid"] = dead.pid
    assert lock.store.create(json.dumps(holder).encode())
    with RunLock(lake, "gold", "gold-rerun"):
        pass


def test_the_heartbeat_renews_the_expiry(lake, monkeypatch):
    monkeypatch.setattr(runlock, "HEARTBEAT_SECONDS", 0.2)
    with RunLock(lake, "publish", "publish-1") as lock:
        first = json.loads(lock.store.read()[0])["expires"]
        time.sleep(1.5)
        assert json.loads(lock.store.read()[0])["expires"] > first


# The lock each layer's run takes (bronze lands first, so it takes landing's lock too).
HELD = {layer: (LOCKS.get(layer) or [layer])[-1] for layer in LAYERS}


@pytest.mark.parametrize("layer", LAYERS)
def test_a_second_cli_run_of_every_layer_exits_within_10s_naming_the_running_run(tmp_path, layer):
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "lib"),
        "CORETELECOMS_DATA_DIR": str(tmp_path),
        "CORETELECOMS__SPARK__MASTER": "local[1]",
        "COLUMNS": "400",
    }
    lake = Lake(str(tmp_path / "lake"))
    holder = f"{layer}-20251120T000000-abcdef"
    with RunLock(lake, HELD[layer], holder, "2025-11-20"):
        began = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from coretelecoms.cli import app; app()",
                "run",
                layer,
                "--date",
                "2025-11-20",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        seconds = time.monotonic() - began
    assert done.returncode == 1, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"run {holder}" in errors[0], done.stderr[-2000:]
    assert seconds < 10, seconds
    assert not (tmp_path / "lake" / "_ops").exists()  # the refused run wrote nothing, not even the ledger
