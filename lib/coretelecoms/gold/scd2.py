"""Slowly changing dimensions, type 2, computed from dated observations in one vectorised pass.

An observation ("point") is a member's state as seen on a drop date (`_observed`), with an ordering value
(`_order`, the silver commit version) that picks the last state when a date was seen more than once.

Rules, the same for an incremental batch and for a rebuild from the whole change feed:

- the last state of each date wins;
- a new version starts on a date whose tracked attributes differ from the previous date's;
- untracked attributes are type 1 inside a version: the version carries the last state seen in it;
- the first version is valid from 1900-01-01, later ones from their first observed date (midnight), so a
  complaint made before a member was first seen still resolves to the member's first version;
- versions are half-open `[valid_from, valid_to)`; the current one ends at 9999-12-31.

For an incremental batch, the existing versions of the affected members go in as points too (dated by
their `observed_from`, ordered before any change), so the output is the member's complete new history.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from coretelecoms.gold.keys import HIGH_TIME, LOW_TIME, row_hash, surrogate_key, ts_literal

SCD_COLUMNS = ["observed_from", "valid_from", "valid_to", "is_current"]


def latest_change(feed: DataFrame, keys: list[str]) -> DataFrame:
    """The last change per key in a change data feed (insert/update_postimage/delete), deletes included."""
    w = Window.partitionBy(*keys).orderBy(
        F.col("_commit_version").desc(), (F.col("_change_type") == "delete")
    )
    return (
        feed.filter(F.col("_change_type") != "update_preimage")
        .withColumn("_rn", F.row_number().over(w))
        .filter("_rn = 1")
        .drop("_rn")
    )


def changed_states(feed: DataFrame) -> DataFrame:
    """Every state a member took in a change feed (inserts and post-images), in commit order."""
    return feed.filter(F.col("_change_type").isin("insert", "update_postimage")).withColumn(
        "_order", F.col("_commit_version").cast("long")
    )


def scd2_versions(points: DataFrame, key: str, sk: str, tracked: list[str], carried: list[str]) -> DataFrame:
    """Points -> versions: `sk`, `key`, the `carried` columns (attributes and lineage), and SCD_COLUMNS.

    `points` has `key`, `_observed` (DATE), `_order` (LONG) and every column of `tracked` and `carried`.
    """
    # Every window is partitioned by the member key alone, so the whole pass needs one shuffle.
    by_key = Window.partitionBy(key).orderBy("_observed", "_order")
    running = by_key.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    state = F.struct(*[F.col(f"`{c}`") for c in carried])
    next_date = F.lead("_observed").over(by_key)
    flagged = (
        points.withColumn("_last_of_date", next_date.isNull() | (next_date != F.col("_observed")))
        .filter("_last_of_date")
        .withColumn("_h", row_hash(tracked))
        .withColumn("_prev_h", F.lag("_h").over(by_key))
        .withColumn(
            "_start", F.when(F.col("_prev_h").isNull() | (F.col("_prev_h") != F.col("_h")), 1).otherwise(0)
        )
        .withColumn("_version", F.sum("_start").over(running))
    )
    versions = flagged.groupBy(key, "_version").agg(
        F.min("_observed").alias("observed_from"), F.max_by(state, F.col("_observed")).alias("_s")
    )
    by_version = Window.partitionBy(key).orderBy("_version")
    valid_from = F.when(F.col("_version") == 1, ts_literal(LOW_TIME)).otherwise(
        F.col("observed_from").cast("timestamp_ntz")
    )
    return (
        versions.withColumn("valid_from", valid_from)
        .withColumn("_next", F.lead("valid_from").over(by_version))
        .withColumn("valid_to", F.coalesce(F.col("_next"), ts_literal(HIGH_TIME)))
        .withColumn("is_current", F.col("_next").isNull())
        .withColumn(sk, surrogate_key(F.col(key), F.col("valid_from")))
        .select(sk, key, *[F.col(f"_s.`{c}`").alias(c) for c in carried], *SCD_COLUMNS)
    )


def single_versions(points: DataFrame, key: str, sk: str, carried: list[str]) -> DataFrame:
    """Members with exactly one point: one version valid from 1900-01-01 for ever, which is what
    `scd2_versions` gives them, computed as a projection (no shuffle). Most members of a full build."""
    low = ts_literal(LOW_TIME)
    return points.select(
        surrogate_key(F.col(key), low).alias(sk),
        key,
        *[F.col(f"`{c}`") for c in carried],
        F.col("_observed").alias("observed_from"),
        low.alias("valid_from"),
        ts_literal(HIGH_TIME).alias("valid_to"),
        F.lit(True).alias("is_current"),
    )


def version_points(dim: DataFrame, key: str, carried: list[str]) -> DataFrame:
    """Existing versions as points, ordered before any change read from the feed."""
    return dim.select(
        key,
        *[F.col(f"`{c}`") for c in carried],
        F.col("observed_from").alias("_observed"),
        F.lit(-1).cast("long").alias("_order"),
    )
