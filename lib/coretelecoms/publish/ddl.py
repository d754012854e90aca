"""Snowflake DDL generated from the Delta schemas: create when absent, add new columns, refuse type changes."""

from __future__ import annotations

from typing import Any

from pyspark.sql import types as T

from coretelecoms.publish.warehouse import fetch


class SchemaChangeError(RuntimeError):
    pass


def snowflake_type(dt: T.DataType) -> str:
    if isinstance(dt, T.StringType):
        return "VARCHAR"
    if isinstance(dt, (T.ByteType, T.ShortType, T.IntegerType, T.LongType)):
        return "NUMBER(19,0)" if isinstance(dt, T.LongType) else "NUMBER(10,0)"
    if isinstance(dt, T.DecimalType):
        return f"NUMBER({dt.precision},{dt.scale})"
    if isinstance(dt, (T.FloatType, T.DoubleType)):
        return "FLOAT"
    if isinstance(dt, T.BooleanType):
        return "BOOLEAN"
    if isinstance(dt, T.DateType):
        return "DATE"
    if isinstance(dt, T.TimestampNTZType):
        return "TIMESTAMP_NTZ"
    if isinstance(dt, T.TimestampType):
        return "TIMESTAMP_TZ"
    if isinstance(dt, (T.ArrayType, T.MapType, T.StructType)):
        return "VARIANT"
    raise SchemaChangeError(f"no Snowflake type for Spark type {dt.simpleString()}")


# What information_schema reports for each type we create (Snowflake and fakesnow agree on these).
_REPORTED = {
    "VARCHAR": "TEXT",
    "FLOAT": "FLOAT",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP_NTZ": "TIMESTAMP_NTZ",
    "TIMESTAMP_TZ": "TIMESTAMP_TZ",
    "VARIANT": "VARIANT",
}


def reported_type(sf_type: str) -> str:
    return "NUMBER" if sf_type.startswith("NUMBER") else _REPORTED[sf_type]


def create_table_sql(table: str, schema: T.StructType, *, transient: bool = False) -> str:
    cols = ", ".join(f"{f.name.upper()} {snowflake_type(f.dataType)}" for f in schema.fields)
    kind = "TRANSIENT TABLE" if transient else "TABLE"
    return f"CREATE {kind} IF NOT EXISTS {table} ({cols})"


def existing_columns(conn: Any, schema_name: str, table: str) -> dict[str, str]:
    rows = fetch(
        conn,
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = '{schema_name.upper()}' AND table_name = '{table.upper()}' ORDER BY ordinal_position",
    )
    return {name.upper(): dtype.upper() for name, dtype in rows}


def ensure_table(conn: Any, schema_name: str, table: str, schema: T.StructType) -> list[str]:
    """Create the table, or add the columns gold gained. Returns the columns added.

    A column whose type changed is refused: changing a published type silently would break every consumer.
    """
    have = existing_columns(conn, schema_name, table)
    cur = conn.cursor()
    try:
        if not have:
            cur.execute(create_table_sql(table, schema))
            return []
        added = []
        for f in schema.fields:
            want = snowflake_type(f.dataType)
            got = have.get(f.name.upper())
            if got is None:
                cur.execute(f"ALTER TABLE {table} ADD COLUMN {f.name.upper()} {want}")
                added.append(f.name)
            elif got != reported_type(want):
                raise SchemaChangeError(
                    f"{schema_name}.{table}.{f.name.upper()} is {got} in Snowflake but gold now has "
                    f"{f.dataType.simpleString()} ({want}); type changes need a migration, not a publish"
                )
        return added
    finally:
        cur.close()
