"""The interface every Delta engine implements, and what the engines share.

Tables are addressed by name (`silver.customers` -> `<root>/silver/customers`) or by an explicit path.
Every write can carry a Delta application transaction (`Txn`): when the table already holds that
app id at that version or later, the write is skipped. That is what makes a replayed micro-batch or a
re-run job exactly-once.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import DataFrame, SparkSession

CDF_PROPERTY = "delta.enableChangeDataFeed"
# The folders under the lake root that hold Delta tables. On S3 each is listed by its own prefix: the jobs'
# role may list only the lake's prefixes (infra/modules/job_policy), never the bucket root.
TABLE_LAYERS = ("bronze", "silver", "gold", "_ops", "_quality")


@dataclass(frozen=True)
class Txn:
    """A Delta application transaction: `app_id` names the writer, `version` only ever grows."""

    app_id: str
    version: int


@dataclass
class WriteResult:
    """What a write did. `committed` is False when an application transaction said it was already done."""

    committed: bool
    version: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TableStats:
    """What a snapshot's log says about its data: rows, and NULLs per asked column."""

    rows: int
    nulls: dict[str, int]


def s3_client(storage_options: dict[str, str] | None = None) -> Any:
    """boto3 S3 with what delta-rs reads from the storage options (endpoint, region, keys); anything not
    given there comes from boto3's default chain, which also reads AWS_ENDPOINT_URL."""
    import boto3

    opts = {k.lower(): v for k, v in (storage_options or {}).items()}
    # A session of its own: boto3's default session keeps the credentials it resolved first.
    return boto3.Session().client(
        "s3",
        endpoint_url=opts.get("aws_endpoint_url") or opts.get("endpoint_url"),
        region_name=opts.get("aws_region") or opts.get("region"),
        aws_access_key_id=opts.get("aws_access_key_id"),
        aws_secret_access_key=opts.get("aws_secret_access_key"),
        aws_session_token=opts.get("aws_session_token"),
    )


def list_delta_tables(root: str, client=s3_client) -> list[str]:
    """Names of the Delta tables under `root`: `<layer>/<entity>/_delta_log/` (landing holds files).

    A plain function (no engine, no Spark) so that `coretelecoms tables` and `status` need no session."""
    root = root.rstrip("/")
    if root.startswith(("s3://", "s3a://")):
        return _list_s3_tables(root, client())
    if not os.path.isdir(root):
        return []
    names = []
    for layer in sorted(os.listdir(root)):
        layer_dir = os.path.join(root, layer)
        if not os.path.isdir(layer_dir) or layer in ("landing",):
            continue
        for entity in sorted(os.listdir(layer_dir)):
            if os.path.isdir(os.path.join(layer_dir, entity, "_delta_log")):
                names.append(f"{layer}.{entity}")
    return names


def _list_s3_tables(root: str, s3) -> list[str]:
    bucket, _, prefix = root.split("://", 1)[1].partition("/")
    base = f"{prefix.strip('/')}/" if prefix.strip("/") else ""

    def children(under: str) -> list[str]:
        found = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=under, Delimiter="/"):
            found += [p["Prefix"][len(under) :].rstrip("/") for p in page.get("CommonPrefixes", [])]
        return sorted(found)

    # Layer by layer, never the bucket root: the execution role may list only the layer prefixes.
    names = []
    for layer in TABLE_LAYERS:
        for entity in children(f"{base}{layer}/"):
            log = s3.list_objects_v2(Bucket=bucket, Prefix=f"{base}{layer}/{entity}/_delta_log/", MaxKeys=1)
            if log.get("KeyCount", 0):
                names.append(f"{layer}.{entity}")
    return sorted(names)


class DeltaEngine(ABC):
    name: str
    # Whether writes to different tables may run at once from several threads of one session.
    concurrent_writes: bool = False

    def __init__(self, spark: SparkSession, root: str, storage_options: dict[str, str] | None = None) -> None:
        self.spark = spark
        self.root = root.rstrip("/")
        self.storage_options = storage_options or {}

    def path(self, table: str) -> str:
        """`layer.entity` -> `<root>/layer/entity`; anything with a slash is already a path."""
        if "/" in table:
            return table
        layer, _, entity = table.partition(".")
        if not entity:
            raise ValueError(f"table name must be <layer>.<entity>, got {table!r}")
        return f"{self.root}/{layer}/{entity}"

    def list_tables(self) -> list[str]:
        """Names of the Delta tables under the lake root: `<layer>/<entity>/_delta_log/` (landing holds files)."""
        return list_delta_tables(self.root, self.s3_client)

    def s3_client(self) -> Any:
        """boto3 S3 with what delta-rs reads from the storage options (endpoint, region, keys); anything not
        given there comes from boto3's default chain, which also reads AWS_ENDPOINT_URL."""
        return s3_client(self.storage_options)

    @abstractmethod
    def exists(self, table: str) -> bool: ...

    @abstractmethod
    def version(self, table: str) -> int | None:
        """Latest version, or None when the table does not exist."""

    @abstractmethod
    def read(self, table: str, version: int | None = None) -> DataFrame: ...

    @abstractmethod
    def append(
        self, table: str, df: DataFrame, *, partition_by: list[str] | None = None, txn: Txn | None = None
    ) -> WriteResult: ...

    @abstractmethod
    def overwrite(
        self,
        table: str,
        df: DataFrame,
        *,
        predicate: str | None = None,
        partition_by: list[str] | None = None,
        txn: Txn | None = None,
    ) -> WriteResult:
        """Replace the rows matching `predicate` (all rows when None) with `df`."""

    @abstractmethod
    def merge(
        self,
        table: str,
        df: DataFrame,
        *,
        keys: list[str],
        update_condition: str | None = None,
        update: bool = True,
        insert: bool = True,
        delete_not_matched_by_source: bool = False,
        partition_by: list[str] | None = None,
        txn: Txn | None = None,
    ) -> WriteResult:
        """Upsert `df` (alias `s`) into the table (alias `t`) on `keys`.

        `update_condition` is SQL over `s.` and `t.`; matched rows are updated only where it holds.
        A missing table is created from `df`.
        """

    @abstractmethod
    def delete(self, table: str, predicate: str, *, txn: Txn | None = None) -> WriteResult: ...

    @abstractmethod
    def history(self, table: str, limit: int | None = None) -> list[dict[str, Any]]:
        """Commits, newest first: version, timestamp (ms), operation, metrics."""

    @abstractmethod
    def optimize(self, table: str, zorder_by: list[str] | None = None) -> dict[str, Any]: ...

    @abstractmethod
    def vacuum(self, table: str, retention_hours: int) -> list[str]:
        """Delete files no longer referenced and older than the retention; returns what was removed."""

    @abstractmethod
    def changes(self, table: str, start_version: int, end_version: int | None = None) -> DataFrame:
        """The change data feed between two versions (inclusive), with `_change_type`,
        `_commit_version` and `_commit_timestamp`."""

    @abstractmethod
    def file_count(self, table: str) -> int:
        """Data files in the latest snapshot (what OPTIMIZE reduces)."""

    @abstractmethod
    def txn_version(self, table: str, app_id: str) -> int | None:
        """The last committed version of an application transaction, or None."""

    def already_committed(self, table: str, txn: Txn | None) -> bool:
        if txn is None or not self.exists(table):
            return False
        done = self.txn_version(table, txn.app_id)
        return done is not None and done >= txn.version

    def count(self, table: str) -> int:
        return self.read(table).count() if self.exists(table) else 0

    def log_stats(self, table: str, columns: list[str] = (), version: int | None = None) -> TableStats:
        """Rows, and NULLs in `columns`, of the snapshot (the latest, or `version`), from what the Delta log records per file.

        Delta Spark answers a COUNT(*) from the log (its metadata-only query optimisation) and skips every
        file whose null count is 0 for an IS NULL filter, so neither count here reads data files where the
        log has statistics. delta-rs overrides this with the add actions' statistics themselves."""
        df = self.read(table, version)
        return TableStats(df.count(), {c: df.filter(f"`{c}` IS NULL").count() for c in columns})
