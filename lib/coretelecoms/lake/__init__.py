"""The lake's one Delta module: pick an engine by config, address tables by `<layer>.<entity>`."""

from __future__ import annotations

from pyspark.sql import SparkSession

from coretelecoms.lake.engine import DeltaEngine, Txn, WriteResult
from coretelecoms.settings import Settings
from coretelecoms.spark import has_delta_spark

__all__ = ["DeltaEngine", "Txn", "WriteResult", "open_lake", "engine_for"]


def engine_for(spark: SparkSession, root: str, choice: str = "auto", storage_options=None) -> DeltaEngine:
    """`auto` probes the classpath: delta-spark when its classes load, delta-rs otherwise."""
    from coretelecoms.lake.deltars import DeltaRsEngine
    from coretelecoms.lake.deltaspark import DeltaSparkEngine

    if choice == "auto":
        choice = "delta-spark" if has_delta_spark(spark) else "delta-rs"
    if choice == "delta-spark":
        if not has_delta_spark(spark):
            raise RuntimeError(
                "lake.delta_engine is delta-spark but the Delta jars are not on the classpath "
                "(set spark.delta_jars, or use delta-rs)"
            )
        return DeltaSparkEngine(spark, root, storage_options)
    return DeltaRsEngine(spark, root, storage_options)


def open_lake(settings: Settings, spark: SparkSession) -> DeltaEngine:
    return engine_for(spark, settings.lake.root, settings.lake.delta_engine)
