"""`gold.dim_channel`: the call centre, the web form, and social media one row per platform.

Keys are fixed here (not hashed) because the members are fixed: 1 call centre, 2 web form, 11–14 the
social platforms; -1 the unknown channel (a social complaint on a platform outside the domain).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from coretelecoms.gold.keys import UNKNOWN_KEY
from coretelecoms.gold.schema import DIM_CHANNEL

MEMBERS = [
    (UNKNOWN_KEY, "unknown", "Unknown channel", "Unknown"),
    (1, "call", "Call centre", "Phone"),
    (2, "web", "Web form", "Website"),
    (11, "social", "Social media", "Twitter"),
    (12, "social", "Social media", "Facebook"),
    (13, "social", "Social media", "Instagram"),
    (14, "social", "Social media", "LinkedIn"),
]


def build_dim_channel(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(MEMBERS, DIM_CHANNEL)


def channel_key(channel: Column, platform: Column) -> Column:
    """The member for a complaint's channel (and platform, for social); -1 when it is outside the domain."""
    expr = F.lit(UNKNOWN_KEY)
    for key, name, _, plat in reversed(MEMBERS[1:]):
        cond = (channel == name) if name != "social" else (channel == name) & (platform == plat)
        expr = F.when(cond, F.lit(key)).otherwise(expr)
    return expr.cast("int")
