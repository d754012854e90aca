"""The lake's one Delta module: pick an engine by config, address tables by `<layer>.<entity>`."""

from __future__ import annotations

import logging

from pyspark.sql import SparkSession

from coretelecoms.lake.engine import DeltaEngine, Txn, WriteResult
from coretelecoms.settings import Settings
from coretelecoms.spark import DELTA_CLASS, has_delta_spark, missing_delta_reason

__all__ = ["DeltaEngine", "Txn", "WriteResult", "open_lake", "engine_for", "DeltaEngineError"]

log = logging.getLogger(__name__)


class DeltaEngineError(RuntimeError):
    """The configured Delta engine cannot run here; the message is one line saying what is missing."""


def engine_for(
    spark: SparkSession, root: str, choice: str = "auto", storage_options=None, delta_jars: list[str] = ()
) -> DeltaEngine:
    """`auto` probes the classpath: delta-spark when its classes load, delta-rs otherwise; the choice and its
    reason are logged. An explicit delta-spark without its classes fails with the jars it lacks."""
    from coretelecoms.lake.deltars import DeltaRsEngine
    from coretelecoms.lake.deltaspark import DeltaSparkEngine

    loaded = has_delta_spark(spark)
    if choice == "auto":
        choice = "delta-spark" if loaded else "delta-rs"
        log.info(
            "Delta engine %s (lake.delta_engine auto: %s %s on the classpath)",
            choice,
            DELTA_CLASS,
            "is" if loaded else "is not",
        )
    if choice == "delta-spark":
        if not loaded:
            raise DeltaEngineError(
                f"lake.delta_engine is delta-spark but {missing_delta_reason(spark, list(delta_jars))}"
            )
        return DeltaSparkEngine(spark, root, storage_options)
    return DeltaRsEngine(spark, root, storage_options)


def open_lake(settings: Settings, spark: SparkSession) -> DeltaEngine:
    return engine_for(
        spark, settings.lake.root, settings.lake.delta_engine, delta_jars=list(settings.spark.delta_jars)
    )
