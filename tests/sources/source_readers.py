"""Independent readers for the generated sources (stdlib csv/json and plain SQL, no generator code).

Each returns (columns, records) with records as dicts in delivery order, so a fault's 1-based record
number can be checked against what is really there.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import psycopg2
from psycopg2 import sql

SCALE = 0.004
MESSY = 0.02
DATES = [date(2025, 11, 20), date(2025, 11, 21), date(2025, 11, 22), date(2025, 11, 23)]


def csv_records(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, data = rows[0], rows[1:]
    # A line cut short (an `unparseable_line` fault) gives only the fields it has; never more than the header.
    return header, [dict(zip(header, row, strict=len(row) >= len(header))) for row in data]


def json_records(path: Path) -> tuple[list[str], list[dict]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    columns = list(document)
    keys = list(document[columns[0]])
    assert all(list(document[c]) == keys for c in columns), "every column must carry the same inner keys"
    return columns, [{"_key": k, **{c: document[c][k] for c in columns}} for k in keys]


def table_records(dsn: str, table: str) -> tuple[list[str], list[dict]]:
    schema, name = table.split(".")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL('SELECT * FROM {} ORDER BY "Column1"').format(sql.Identifier(schema, name)))
        columns = [d.name for d in cur.description]
        rows = cur.fetchall()
    conn.close()
    return columns, [dict(zip(columns, row, strict=True)) for row in rows]


def records_at(root: Path, dsn: str, where: dict) -> tuple[list[str], list[dict]]:
    """Columns and records of a fault's file or table."""
    if "table" in where and where["table"]:
        return table_records(dsn, where["table"])
    path = root / where["file"]
    return json_records(path) if path.suffix == ".json" else csv_records(path)


def table_checksum(dsn: str, table: str) -> str:
    schema, name = table.split(".")
    query = sql.SQL("SELECT md5(string_agg(t::text, E'\\n' ORDER BY \"Column1\", t::text)) FROM {} t").format(
        sql.Identifier(schema, name)
    )
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(query)
        (digest,) = cur.fetchone()
    conn.close()
    return digest


def web_tables(dsn: str) -> list[str]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            " WHERE table_name LIKE 'web_form_request_%' ORDER BY table_name"
        )
        tables = [t for (t,) in cur.fetchall()]
    conn.close()
    return tables
