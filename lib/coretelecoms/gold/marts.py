"""`gold.mart_customer_risk`: one row per customer with complaints, as of the run date.

Windows are by request date: "last N days" means request date in (as_of - N days, as_of].
Channel hopping: a complaint that follows, within 72 hours (inclusive), a complaint by the same customer
on a different channel. It is found with one ordered window per customer (the latest earlier complaint
on each channel), never by pairing complaints.

A daily run recomputes only the customers whose rows can differ (`moved_dates` says which request dates
enter or leave a window as the as-of date moves); every other row is re-aged from its own columns
(`reaged`): its windows hold the same complaints, so only the oldest open complaint's age and the score
move.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from coretelecoms.gold.aggregates import exact_mean
from coretelecoms.gold.dim_complaint_category import MEMBERS as CATEGORIES
from coretelecoms.gold.fct_complaint_lifecycle import request_date
from coretelecoms.gold.keys import SLA_HOURS, UNKNOWN_KEY
from coretelecoms.gold.schema import MART_CUSTOMER_RISK, conform

CHANNELS = ("call", "web", "social")
WINDOWS = (7, 30, 90)
HOP_HOURS = 72
TIERS = ((75, "critical"), (50, "high"), (25, "medium"), (0, "low"))


def channel_hops(facts: DataFrame) -> DataFrame:
    """Adds `is_hop`: an earlier complaint on another channel by the same customer within 72 h."""
    earlier = (
        Window.partitionBy("customer_id")
        .orderBy("request_time", "complaint_sk")
        .rowsBetween(Window.unboundedPreceding, -1)
    )
    limit = F.expr(f"INTERVAL {HOP_HOURS} HOURS")
    out = facts
    hops = []
    for channel in CHANNELS:
        prev = f"_prev_{channel}"
        out = out.withColumn(
            prev,
            F.last(F.when(F.col("channel") == channel, F.col("request_time")), ignorenulls=True).over(
                earlier
            ),
        )
        hops.append(
            (F.col("channel") != channel)
            & F.col(prev).isNotNull()
            & (F.col("request_time") <= F.col(prev) + limit)
        )
    is_hop = hops[0]
    for h in hops[1:]:
        is_hop = is_hop | h
    return out.withColumn("is_hop", F.coalesce(is_hop, F.lit(False))).drop(*[f"_prev_{c}" for c in CHANNELS])


def risk_score(
    open_complaints: Column,
    oldest_open_days: Column,
    complaints_30d: Column,
    repeats_90d: Column,
    is_hopper: Column,
    resolution_hours_mean: Column,
) -> Column:
    """Churn-risk score, 0–100: the sum of six capped parts.

    | part                                                     | points                       | max |
    |----------------------------------------------------------|------------------------------|-----|
    | open (unresolved) complaints                             | 10 each                      | 30  |
    | age of the oldest open complaint                         | 1 per full 3 days            | 20  |
    | complaints in the last 30 days                           | 5 each                       | 15  |
    | repeat complaints in one category, last 90 days          | 5 each (count in top one - 1) | 10  |
    | channel hopping (two channels within 72 h), last 90 days | 15 if any                    | 15  |
    | mean resolution time experienced above the 72 h SLA      | 10 if so                     | 10  |

    Tier: 0–24 low, 25–49 medium, 50–74 high, 75–100 critical.
    """
    parts = [
        F.least(F.lit(30), open_complaints * 10),
        F.least(F.lit(20), F.floor(F.coalesce(oldest_open_days, F.lit(0)) / 3)),
        F.least(F.lit(15), complaints_30d * 5),
        F.least(F.lit(10), repeats_90d * 5),
        F.when(is_hopper, 15).otherwise(0),
        F.when(F.coalesce(resolution_hours_mean > SLA_HOURS, F.lit(False)), 10).otherwise(0),
    ]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total.cast("int")


def risk_tier(score: Column) -> Column:
    expr = F.lit(TIERS[-1][1])
    for floor, name in reversed(TIERS[:-1]):
        expr = F.when(score >= floor, F.lit(name)).otherwise(expr)
    return expr


def _count_if(cond: Column) -> Column:
    return F.sum(F.when(cond, 1).otherwise(0)).cast("long")


def customer_risk(facts: DataFrame, dim_customer: DataFrame, as_of: date) -> DataFrame:
    """Facts (all complaints) + the customer dimension -> one risk row per customer, as of `as_of`.

    One ordered window (channel hopping), one aggregation per customer (no DISTINCT aggregates: the top
    category comes from per-category counts of the four fixed categories), one join for the current key."""
    age = F.datediff(F.lit(as_of), F.col("_request_date"))
    rows = (
        channel_hops(facts.filter(F.col("customer_id").isNotNull()))
        .withColumn("_request_date", request_date())
        .withColumn("_age", age)
    )

    def within(days: int) -> Column:
        return F.col("_age").between(0, days - 1)

    is_open = ~F.col("is_resolved")
    counts = [_count_if(within(n)).alias(f"complaints_{n}d") for n in WINDOWS]
    counts += [
        _count_if(within(n) & (F.col("channel") == c)).alias(f"{c}_{n}d") for c in CHANNELS for n in WINDOWS
    ]
    per_category = [
        _count_if(within(90) & (F.col("category_key") == key)).alias(f"_cat{key}")
        for key, _, _ in CATEGORIES[1:]
    ]
    per_customer = rows.groupBy("customer_id").agg(
        F.count(F.lit(1)).alias("complaints_total"),
        *counts,
        *per_category,
        _count_if(is_open).alias("open_complaints"),
        F.max(F.when(is_open, F.greatest(F.col("_age"), F.lit(0)))).alias("oldest_open_days"),
        _count_if(within(90) & F.col("is_hop")).alias("channel_hops_90d"),
        _count_if(F.col("is_resolved")).alias("resolved_complaints"),
        exact_mean("resolution_hours").alias("resolution_hours_mean"),
        _count_if(F.col("is_resolved") & ~F.col("sla_met")).alias("sla_breaches"),
        F.max("_request_date").alias("last_complaint_date"),
    )
    # The most frequent category in 90 days (ties: the alphabetically last name), and its count.
    top = F.greatest(
        *[F.struct(F.col(f"_cat{key}").alias("n"), F.lit(name).alias("c")) for key, name, _ in CATEGORIES[1:]]
    )
    used = sum((F.col(f"{c}_90d") > 0).cast("int") for c in CHANNELS)
    # A hash join: the per-customer rows are already partitioned by customer_id (the window's exchange),
    # so only the current versions move, and neither side is sorted.
    current = (
        dim_customer.filter(F.col("is_current") & (F.col("customer_sk") != UNKNOWN_KEY))
        .select("customer_id", "customer_sk")
        .hint("shuffle_hash")
    )
    out = (
        per_customer.withColumn("_top", top)
        .withColumn("top_category_90d", F.when(F.col("_top.n") > 0, F.col("_top.c")))
        .withColumn("repeat_category_complaints_90d", F.greatest(F.col("_top.n") - 1, F.lit(0)).cast("long"))
        .withColumn("channels_used_90d", used)
        .join(current, "customer_id", "left")
        .withColumn("customer_sk", F.coalesce(F.col("customer_sk"), F.lit(UNKNOWN_KEY).cast("long")))
        .withColumn("is_channel_hopper", F.col("channel_hops_90d") > 0)
        .withColumn("as_of_date", F.lit(as_of))
    )
    score = risk_score(
        F.col("open_complaints"),
        F.col("oldest_open_days"),
        F.col("complaints_30d"),
        F.col("repeat_category_complaints_90d"),
        F.col("is_channel_hopper"),
        F.col("resolution_hours_mean"),
    )
    out = out.withColumn("risk_score", score).withColumn("risk_tier", risk_tier(F.col("risk_score")))
    return conform(out, MART_CUSTOMER_RISK)


def moved_dates(old: date, new: date) -> list[tuple[date, date]]:
    """Inclusive request-date ranges whose complaints enter or leave a window when the as-of date moves
    from `old` to `new` (later): a date d is in the N-day window of `a` when a - N < d <= a, so it changes
    sides when it is in (old - N, new - N] (leaving) or (old, new] (entering, e.g. future-dated ones)."""
    if new <= old:
        return []
    one = timedelta(days=1)
    ranges = [(old + one, new)] + [(old - timedelta(days=n) + one, new - timedelta(days=n)) for n in WINDOWS]
    return sorted(set(ranges))


def needs_recompute_by_age(stored: DataFrame) -> Column:
    """Rows whose re-aged oldest open complaint cannot be told from the row: its age was 0, so its request
    date may be the old as-of date or later (a future-dated complaint), which age differently."""
    return (F.col("open_complaints") > 0) & (F.col("oldest_open_days") == 0)


def calendar_moved(stored: DataFrame, facts: DataFrame, old: date, new: date) -> DataFrame:
    """customer_id of the stored rows that moving the as-of date from `old` to `new` changes beyond
    re-ageing: a complaint of theirs crossed a window edge, or their oldest open age is ambiguous."""
    parts = [stored.filter(needs_recompute_by_age(stored)).select("customer_id")]
    ranges = moved_dates(old, new)
    if ranges:
        day = request_date()
        crossed = functools.reduce(lambda a, b: a | b, [day.between(lo, hi) for lo, hi in ranges])
        parts.append(facts.filter(crossed).select("customer_id"))
    return functools.reduce(DataFrame.unionByName, parts)


def reaged(stored: DataFrame, as_of: date, shift_days: int) -> DataFrame:
    """Stored mart rows moved `shift_days` later to `as_of`, for customers none of whose complaints changed
    or crossed a window edge (see moved_dates): the oldest open complaint is that much older, the score
    and tier follow; every count stays."""
    out = stored.withColumn(
        "oldest_open_days", (F.col("oldest_open_days") + F.lit(shift_days)).cast("int")
    ).withColumn("as_of_date", F.lit(as_of))
    score = risk_score(
        F.col("open_complaints"),
        F.col("oldest_open_days"),
        F.col("complaints_30d"),
        F.col("repeat_category_complaints_90d"),
        F.col("is_channel_hopper"),
        F.col("resolution_hours_mean"),
    )
    out = out.withColumn("risk_score", score).withColumn("risk_tier", risk_tier(F.col("risk_score")))
    return conform(out, MART_CUSTOMER_RISK)
