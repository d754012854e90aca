"""What every layer run gets: settings, the one SparkSession, the lake's Delta engine and a run id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pyspark.sql import SparkSession

from coretelecoms.lake import DeltaEngine, open_lake
from coretelecoms.settings import Settings
from coretelecoms.spark import get_spark


def new_run_id(layer: str) -> str:
    """Sortable and unique: the UTC start time plus a short random suffix."""
    return f"{layer}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


@dataclass
class RunContext:
    settings: Settings
    spark: SparkSession
    lake: DeltaEngine
    layer: str
    run_id: str = ""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))

    def __post_init__(self) -> None:
        self.run_id = self.run_id or new_run_id(self.layer)

    @classmethod
    def create(cls, settings: Settings, layer: str, spark: SparkSession | None = None) -> RunContext:
        spark = spark or get_spark(settings)
        return cls(settings=settings, spark=spark, lake=open_lake(settings, spark), layer=layer)

    def for_layer(self, layer: str, run_id: str = "") -> RunContext:
        """A context for the next layer in the same process: same session and lake, a new run id (or the
        one given: the id the invocation's run locks were taken under)."""
        return RunContext(self.settings, self.spark, self.lake, layer, run_id)

    @property
    def lake_root(self) -> str:
        return self.settings.lake.root
