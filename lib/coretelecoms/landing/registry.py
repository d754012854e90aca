"""`_ops.landed_files`: one row per file version that reached the landing zone.

It answers "was this object already copied?" (same key and same ETag or SHA-256 ⇒ skip), numbers the
versions of a re-delivered object, and tells bronze the run date a static file (customers, agents)
landed on, which becomes its `_source_date`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from pyspark.sql import types as T

from coretelecoms.context import RunContext
from coretelecoms.landing.store import landing_key

TABLE = "_ops.landed_files"

SCHEMA = T.StructType(
    [
        T.StructField("source", T.StringType()),
        T.StructField("system", T.StringType()),
        T.StructField("source_uri", T.StringType()),
        T.StructField("source_key", T.StringType()),
        T.StructField("version", T.IntegerType()),
        T.StructField("landing_path", T.StringType()),  # the key under <lake>/landing, see store.landing_key
        T.StructField("size", T.LongType()),
        T.StructField("etag", T.StringType()),
        T.StructField("sha256", T.StringType()),
        T.StructField("source_modified", T.TimestampNTZType()),
        T.StructField("drop_date", T.DateType()),
        T.StructField("run_date", T.DateType()),
        T.StructField("landed_at", T.TimestampNTZType()),
        T.StructField("copy_seconds", T.DoubleType()),
        T.StructField("run_id", T.StringType()),
    ]
)


@dataclass
class LandedFile:
    source: str
    system: str
    source_uri: str
    source_key: str
    version: int
    landing_path: str
    size: int
    etag: str | None
    sha256: str
    source_modified: datetime | None
    drop_date: date | None
    run_date: date | None
    landed_at: datetime
    copy_seconds: float
    run_id: str


class Registry:
    """What has landed so far, loaded once per run (a few rows per source and day)."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.rows: list[dict] = []
        if ctx.lake.exists(TABLE):
            self.rows = [r.asDict() for r in ctx.lake.read(TABLE).collect()]

    def versions(self, source: str, key: str) -> list[dict]:
        """Landed versions of one source object, oldest first."""
        return sorted(
            (r for r in self.rows if r["source"] == source and r["source_key"] == key),
            key=lambda r: r["version"],
        )

    def latest(self, source: str, key: str) -> dict | None:
        found = self.versions(source, key)
        return found[-1] if found else None

    def by_landing_path(self, root: str) -> dict[str, dict]:
        """`landing key -> row`; rows recorded with absolute paths (before keys, or in a moved lake's
        old location) are found by their key too."""
        return {landing_key(r["landing_path"], root): r for r in self.rows}

    def add(self, files: list[LandedFile]) -> None:
        """Record newly landed files (one Delta commit; landing calls it for each file as it lands)."""
        if not files:
            return
        rows = [asdict(f) for f in files]
        self.ctx.lake.append(TABLE, self.ctx.spark.createDataFrame(rows, SCHEMA))
        self.rows.extend(rows)


def landed_files(ctx: RunContext, root: str) -> dict[str, dict]:
    """`landing key -> row` for every landed file (empty before the first landing); `root` is the
    landing root the keys are relative to."""
    return Registry(ctx).by_landing_path(root)
