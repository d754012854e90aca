"""The quality history `_quality.metrics`: one row per run, table, stage and rule or expectation.

`kind` says what produced the row: `rule` (a row rule counted on the incoming batch, before quarantine),
`expectation` (a Great Expectations result on the batch about to be merged, or on the whole table in
`maintenance` and `coretelecoms quality check`), or `check` (a commit check on the whole table after a
daily write, from the Delta log and the run's keys: quality.commit_checks).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

from pyspark.sql import types as T

TABLE = "_quality.metrics"

SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType()),
        T.StructField("run_date", T.DateType()),
        T.StructField("table_name", T.StringType()),
        T.StructField("stage", T.StringType()),
        T.StructField("kind", T.StringType()),
        T.StructField("rule", T.StringType()),
        T.StructField("action", T.StringType()),
        T.StructField("rows_checked", T.LongType()),
        T.StructField("rows_failed", T.LongType()),
        T.StructField("success", T.BooleanType()),
        T.StructField("recorded_at", T.TimestampNTZType()),
    ]
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Metric:
    table_name: str
    stage: str  # batch | commit | table
    kind: str  # rule | expectation | check
    rule: str
    action: str
    rows_checked: int | None
    rows_failed: int | None
    success: bool
    recorded_at: datetime = field(default_factory=_now)


def append_metrics(lake, spark, run_id: str, run_date: date | None, metrics: list[Metric]) -> None:
    """Append this run's metrics in one commit (nothing to append, no commit)."""
    if not metrics:
        return
    rows = [{"run_id": run_id, "run_date": run_date, **asdict(m)} for m in metrics]
    lake.append(TABLE, spark.createDataFrame(rows, SCHEMA))
