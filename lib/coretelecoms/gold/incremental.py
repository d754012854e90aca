"""How gold consumes its inputs exactly once: watermarks kept as Delta application transactions.

Each gold table remembers, per input table, the last input version it has absorbed, as an application
transaction `"<gold table><-<input table>"` committed on the gold table itself. The commit that carries the
watermark is always the last write of a step, so a crash before it leaves the watermark behind and the next
run redoes the step; every earlier write of a step is idempotent (it writes the same rows again). When a
step has nothing to write, an empty commit records the watermark (so the feed is never read twice).
A re-run with no new input versions writes nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from coretelecoms.gold.keys import AUDIT_COLUMNS, row_hash
from coretelecoms.lake import DeltaEngine, Txn, WriteResult

HASH = "_row_hash"
# Above this many keys a predicate overwrite becomes a full overwrite (an IN list stays readable below it).
MAX_IN_LIST = 2000


def app_id(target: str, source: str) -> str:
    return f"{target}<-{source}"


def watermark(lake: DeltaEngine, target: str, source: str) -> int | None:
    """The last version of `source` absorbed by `target`, or None (target missing or never fed)."""
    if not lake.exists(target):
        return None
    return lake.txn_version(target, app_id(target, source))


def txn_for(lake: DeltaEngine, target: str, source: str, version: int) -> Txn | None:
    """The transaction to carry, or None when the target already holds it (a rebuild rewriting in place)."""
    done = watermark(lake, target, source)
    return Txn(app_id(target, source), version) if done is None or done < version else None


def ensure_watermark(lake: DeltaEngine, target: str, source: str, version: int) -> bool:
    """Record `version` with an empty commit unless the target already holds it. True when it committed."""
    done = watermark(lake, target, source)
    if not lake.exists(target) or (done is not None and done >= version):
        return False
    empty = lake.spark.createDataFrame([], lake.read(target).schema)
    return lake.append(target, empty, txn=Txn(app_id(target, source), version)).committed


def with_hash(df: DataFrame) -> DataFrame:
    """Adds the content fingerprint over every column but the audit ones."""
    return df.withColumn(HASH, row_hash([c for c in df.columns if c not in AUDIT_COLUMNS and c != HASH]))


def sql_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def in_list(column: str, values) -> str:
    return f"{column} IN ({', '.join(sql_literal(v) for v in sorted(values))})"


def small_distinct(df: DataFrame, column: str, limit: int = MAX_IN_LIST) -> list | None:
    """The distinct values of a column when there are at most `limit` of them, else None."""
    values = [r[0] for r in df.select(column).distinct().limit(limit + 1).collect()]
    return None if len(values) > limit else values


@dataclass
class Written:
    """What a step wrote: rows inserted, updated and deleted, and the commits it made."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    commits: int = 0
    details: dict = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.inserted + self.updated

    def add(self, result: WriteResult, inserted: int = 0, updated: int = 0) -> None:
        if result.committed:
            self.commits += 1
            self.inserted += inserted
            self.updated += updated


def written_rows(result: WriteResult) -> int:
    """Rows a write added, when the engine reports it (delta-rs does; delta-spark reports nothing)."""
    m = result.metrics or {}
    for name in ("num_added_rows", "num_target_rows_inserted", "numOutputRows"):
        if name in m and m[name] is not None:
            return int(m[name])
    return 0


def upsert(
    lake: DeltaEngine,
    table: str,
    rows: DataFrame,
    *,
    keys: list[str],
    txn: Txn | None,
    deleted: list | None = None,
    delete_key: str | None = None,
    partition_by: list[str] | None = None,
    audit=None,
    scope: Column | None = None,
) -> Written:
    """Insert new keys, update keys whose content changed, delete `deleted` keys; the last commit holds `txn`.

    Rows carry `_row_hash`; only keys whose hash differs from the stored one are merged (an idempotent,
    transaction-less MERGE), then brand-new keys are appended with the transaction, so a day of new
    complaints never pays for a MERGE that scans the whole table.

    `rows` is read several times (its keys, the counts, each write), so callers pass a cached frame, best
    with `_row_hash` already on it (`with_hash` before the cache): the hash, over every column,
    is then computed once. Only the stored (key, hash) pairs the rows match are cached here; each pass
    repeats a broadcast join of the cached rows with them (persisting the join itself cost a copy of the
    batch per call).
    """
    out = Written()
    if HASH not in rows.columns:
        rows = with_hash(rows)
    if not lake.exists(table):
        data = audit(rows) if audit else rows
        result = lake.append(table, data, partition_by=partition_by, txn=txn)
        out.add(result, inserted=written_rows(result))
        return out
    stored = lake.read(table)
    if scope is not None:  # e.g. one partition: the stored rows the new ones can match
        stored = stored.filter(scope)
    stored = stored.select(*keys, F.col(HASH).alias("_stored_hash"))
    # The batch is small next to the table: find its stored keys with a broadcast semi-join (a scan, no
    # shuffle of the table), keep those few (key, hash) pairs, and join them back.
    matches = stored.join(F.broadcast(rows.select(*keys)), keys, "left_semi")
    matches = matches.persist()
    try:
        joined = rows.join(F.broadcast(matches), keys, "left")
        is_new = F.col("_stored_hash").isNull()
        is_changed = ~is_new & (F.col("_stored_hash") != F.col(HASH))
        counts = joined.agg(
            F.sum(F.when(is_new, 1).otherwise(0)).alias("new"),
            F.sum(F.when(is_changed, 1).otherwise(0)).alias("changed"),
        ).first()
        new, changed = int(counts["new"] or 0), int(counts["changed"] or 0)
        if deleted:
            key = delete_key or keys[-1]
            for start in range(0, len(deleted), MAX_IN_LIST):
                chunk = deleted[start : start + MAX_IN_LIST]
                result = lake.delete(table, in_list(key, chunk))
                out.commits += int(result.committed)
            out.deleted = len(deleted)
        if changed:
            data = joined.filter(is_changed).drop("_stored_hash")
            result = lake.merge(table, audit(data) if audit else data, keys=keys, insert=False)
            out.add(result, updated=changed)
        data = joined.filter(is_new).drop("_stored_hash")
        result = lake.append(table, audit(data) if audit else data, txn=txn)
        out.add(result, inserted=new)
    finally:
        matches.unpersist()
    return out


def replace_members(
    lake: DeltaEngine,
    table: str,
    versions: DataFrame,
    affected: DataFrame,
    keys: list | None,
    *,
    key: str,
    txn: Txn | None,
) -> Written:
    """Replace every version of the `affected` members with `versions`, their complete new history (an SCD2
    dimension's write; a member deleted upstream has no versions and disappears).

    One predicate overwrite (`key IN (...)`) when the affected `keys` are few enough to list, else one full
    overwrite of the table; either way one commit, carrying `txn`. `versions` is already stamped."""
    out = Written()
    if keys is not None:
        result = lake.overwrite(table, versions, predicate=in_list(key, keys), txn=txn)
        out.details["members_changed"] = len(keys)
    else:
        keep = lake.read(table).join(affected, key, "left_anti")
        result = lake.overwrite(table, versions.unionByName(keep), txn=txn)
        out.details["members_changed"] = f"more than {MAX_IN_LIST}"
    out.add(result, inserted=written_rows(result))
    return out
