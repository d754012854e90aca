"""moto's server in a process of its own, for delta-rs (which holds the GIL while it waits on S3, so an
in-process threaded moto would never answer it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest


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
