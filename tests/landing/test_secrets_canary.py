"""The canary: a DSN of every shape, password included, reaches neither the ledger, nor a log line, nor
the console, nor any file under the data dir, whether libpq quotes it or a layer raises it whole."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

from landing_support import by_source, make_ctx, settings, write_bucket

from coretelecoms.landing import run_landing
from coretelecoms.logs import JsonFormatter
from coretelecoms.runner import run_recorded

REPO = Path(__file__).resolve().parents[2]


def shapes(pw: str) -> dict[str, str]:
    return {
        "trailing newline": f"postgresql://loader:{pw}@127.0.0.1:1/postgres\n",
        "leading space": f" postgresql://loader:{pw}@127.0.0.1:1/postgres",
        "quotes": f"postgresql://loader:{pw}\"'q@127.0.0.1:1/postgres",
        "at and colon": f"postgresql://loader:{pw}@:x@127.0.0.1:1/postgres",
        "bracketed host": f"postgresql://loader:{pw}@[::1]:1/postgres",
        "broken bracketed host": f"postgresql://loader:{pw}@[::1:1/postgres",
        "key=value": f"host=127.0.0.1 port=1 user=loader password='{pw} \\' x' dbname=postgres",
        "key=value newline": f"host=127.0.0.1 port=1 user=loader password={pw}\n",
    }


def files_holding(root: Path, needle: str) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            found.append(str(path))
    return found


def test_no_dsn_shape_leaks_into_ledger_logs_or_files(spark, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG, logger="coretelecoms")
    log_file = tmp_path / "job.log"
    handler = logging.FileHandler(log_file)
    handler.setFormatter(JsonFormatter())
    logging.getLogger("coretelecoms").addHandler(handler)
    try:
        bucket = write_bucket(tmp_path / "src")
        s = settings(
            tmp_path,
            s3={"uri": str(bucket)},
            postgres={"embedded": False, "dsn_secret": "CORETELECOMS_TEST_CANARY_DSN"},
        )
        ctx = make_ctx(spark, s)
        canaries = []
        for shape, dsn_of in shapes("{pw}").items():
            pw = f"CANARY{uuid.uuid4().hex[:8]}"
            canaries.append(pw)
            dsn = dsn_of.replace("{pw}", pw)
            monkeypatch.setenv("CORETELECOMS_TEST_CANARY_DSN", dsn)
            ctx = ctx.for_layer("landing")
            web = by_source(run_landing(ctx, __import__("datetime").date(2025, 11, 20)))["web_forms"]
            assert web.status == "failed" and "cannot connect to the web-forms Postgres" in web.error, shape

            # The worst case: a layer raises with the whole DSN in its message (and a traceback is logged).
            def boom(ctx, run_date, dsn=dsn):
                raise RuntimeError(f"could not use {dsn}")

            [failed] = run_recorded(ctx.for_layer("silver"), "silver", boom, None)
            assert failed.status == "failed" and "could not use" in failed.error, shape
    finally:
        logging.getLogger("coretelecoms").removeHandler(handler)
        handler.close()
    ledger = repr([r.asDict() for r in ctx.lake.read("_ops.runs").collect()])
    assert ledger.count("could not use") == len(canaries)
    for pw in canaries:
        assert pw not in ledger and pw not in caplog.text
        assert files_holding(tmp_path, pw) == []  # the ledger's Parquet and log JSON, job.log, landing


def test_the_console_and_json_logs_of_a_cli_run_hold_no_canary(tmp_path):
    pw = f"CANARY{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PYTHONPATH": f"{REPO / 'lib'}",
        "CORETELECOMS_DATA_DIR": str(tmp_path),
        "CORETELECOMS__SOURCES__POSTGRES__EMBEDDED": "false",
        "CORETELECOMS__SOURCES__POSTGRES__DSN_SECRET": "CORETELECOMS_TEST_CANARY_DSN",
        "CORETELECOMS_TEST_CANARY_DSN": f'postgresql://loader:{pw}"@:x@[::1:1/postgres\n',
        "CORETELECOMS__SPARK__MASTER": "local[1]",
        "COLUMNS": "400",
    }
    write_bucket(tmp_path / "sources" / "s3")
    done = subprocess.run(
        [sys.executable, "-c", "from coretelecoms.cli import app; app()", "--log-json"]
        + ["run", "landing", "--date", "2025-11-20"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "cannot connect to the web-forms Postgres" in done.stdout + done.stderr
    assert pw not in done.stdout and pw not in done.stderr
    assert files_holding(tmp_path, pw) == []
