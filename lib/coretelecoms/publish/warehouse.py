"""Connections to the warehouse: Snowflake in production, fakesnow (DuckDB persisted under the data dir) locally.

Credentials come from secret references only; the query tag names the layer and run so every statement
can be traced in Snowflake's query history.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coretelecoms.logs import verbose
from coretelecoms.secrets import resolve_secret
from coretelecoms.settings import WarehouseSettings


class WarehouseError(RuntimeError):
    pass


class TransientTableNoise(logging.Filter):
    """Drops sqlglot's "Unsupported property transientproperty" warning, logged once per CREATE TRANSIENT
    TABLE that fakesnow translates for DuckDB (which has no transient tables; a plain table is what we
    want there). Every other sqlglot message passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Unsupported property transientproperty")


TRANSIENT_TABLE_NOISE = TransientTableNoise()


def query_tag(layer: str, run_id: str) -> str:
    return f"coretelecoms:{layer}:{run_id}"


def connect_args(cfg: WarehouseSettings, tag: str) -> dict[str, Any]:
    """Arguments for snowflake.connector.connect. Secrets are resolved here, never logged."""
    args: dict[str, Any] = {
        "database": cfg.database,
        "schema": cfg.schema_name,
        "session_parameters": {"QUERY_TAG": tag},
    }
    if cfg.kind == "fakesnow":
        return args
    missing = [k for k in ("account", "user", "warehouse") if not getattr(cfg, k)]
    if missing:
        raise WarehouseError(f"warehouse.{missing[0]} is not set (needed to connect to Snowflake)")
    args |= {"account": cfg.account, "user": cfg.user, "warehouse": cfg.warehouse, "role": cfg.role}
    if cfg.private_key_secret:
        from cryptography.hazmat.primitives import serialization

        pem = resolve_secret(cfg.private_key_secret, what="Snowflake private key").encode()
        key = serialization.load_pem_private_key(pem, password=None)
        args["private_key"] = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    else:
        args["password"] = resolve_secret(cfg.password_secret, what="Snowflake password")
    return args


@contextmanager
def connect(cfg: WarehouseSettings, tag: str) -> Iterator[Any]:
    """Yield a DB-API connection; for fakesnow the database persists under `warehouse.path`."""
    import snowflake.connector

    if cfg.kind == "fakesnow":
        import fakesnow

        if not cfg.path:
            raise WarehouseError("warehouse.path is not set (where fakesnow keeps the local warehouse)")
        Path(cfg.path).mkdir(parents=True, exist_ok=True)
        if not verbose():
            logging.getLogger("sqlglot").addFilter(TRANSIENT_TABLE_NOISE)  # adds it once
        with fakesnow.patch(db_path=cfg.path):
            conn = snowflake.connector.connect(**connect_args(cfg, tag))
            try:
                yield conn
            finally:
                conn.close()
        return
    conn = snowflake.connector.connect(**connect_args(cfg, tag))
    try:
        yield conn
    finally:
        conn.close()


def fetch(conn: Any, sql: str) -> list[tuple]:
    cur = conn.cursor()
    try:
        return cur.execute(sql).fetchall()
    finally:
        cur.close()
