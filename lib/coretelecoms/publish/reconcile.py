"""Gold and Snowflake must agree after every publish: row count, a key checksum, and measure sums.

The checksum is plain arithmetic (sum of key modulo a prime, distinct keys, rounded measure sums) so Spark,
Snowflake and DuckDB compute the same number without sharing a hash function.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import functions as F
from pyspark.sql import types as T

from coretelecoms.context import RunContext
from coretelecoms.publish.catalog import PublishedTable
from coretelecoms.publish.warehouse import fetch

PRIME = 1_000_003


def _numeric(dt: T.DataType) -> bool:
    return isinstance(dt, (T.IntegerType, T.LongType, T.ShortType, T.ByteType))


def checks(table: PublishedTable, schema: T.StructType) -> list[tuple[str, Any, str]]:
    """(name, Spark expression, Snowflake expression) for each figure compared."""
    out: list[tuple[str, Any, str]] = [("rows", F.count(F.lit(1)), "COUNT(*)")]
    for key in table.keys:
        if _numeric(schema[key].dataType):
            out.append((f"sum({key} mod p)", F.sum(F.col(key) % PRIME), f"SUM({key.upper()} % {PRIME})"))
        else:
            out.append((f"distinct {key}", F.countDistinct(key), f"COUNT(DISTINCT {key.upper()})"))
    for m in table.measures:
        if m in schema.names:
            out.append(
                (
                    f"sum({m})",
                    F.round(F.sum(F.round(F.col(m).cast("double"), 3)), 2),
                    f"ROUND(SUM(ROUND({m.upper()}::FLOAT, 3)), 2)",
                )
            )
    return out


def reconcile(ctx: RunContext, conn: Any, table: PublishedTable) -> list[str]:
    """Returns the mismatches (empty when gold and Snowflake agree)."""
    gold = ctx.lake.read(table.name)
    figures = checks(table, gold.schema)
    lake_row = gold.agg(*[expr.alias(f"c{i}") for i, (_, expr, _) in enumerate(figures)]).first()
    sql = ", ".join(sf for _, _, sf in figures)
    wh_row = fetch(conn, f"SELECT {sql} FROM {table.target}")[0]
    problems = []
    for i, (name, _, _) in enumerate(figures):
        left, right = lake_row[f"c{i}"], wh_row[i]
        left = 0 if left is None else float(left)
        right = 0 if right is None else float(right)
        if abs(left - right) > 1e-6 * max(1.0, abs(left)):
            problems.append(f"{table.target} {name}: gold {left:g} != snowflake {right:g}")
    return problems
