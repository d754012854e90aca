"""Unit tests of the pure gold transforms on a handful of rows (chispa for DataFrame equality)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql import types as T

from coretelecoms.gold.aggregates import daily_complaints
from coretelecoms.gold.dim_date import calendar
from coretelecoms.gold.fct_complaint import point_in_time
from coretelecoms.gold.fct_complaint_lifecycle import build_lifecycle
from coretelecoms.gold.keys import date_key
from coretelecoms.gold.marts import calendar_moved, channel_hops, customer_risk, reaged, risk_score, risk_tier
from coretelecoms.gold.scd2 import scd2_versions

LOW, HIGH = datetime(1900, 1, 1), datetime(9999, 12, 31)


def test_scd2_versions_follow_tracked_changes_and_keep_untracked_ones_type_1(spark):
    points = spark.createDataFrame(
        [
            ("a", "X", "F", date(2025, 11, 20), 0),
            ("a", "X", "M", date(2025, 11, 21), 1),  # untracked change: same version, last value wins
            ("a", "Y", "M", date(2025, 11, 22), 2),  # tracked change: new version
            ("a", "Z", "M", date(2025, 11, 22), 3),  # same date again: the last state of the date wins
            ("b", "Q", "F", date(2025, 11, 21), 0),
        ],
        "id string, name string, gender string, _observed date, _order long",
    )
    got = scd2_versions(points, "id", "sk", ["name"], ["name", "gender"]).drop("sk")
    expected = spark.createDataFrame(
        [
            ("a", "X", "M", date(2025, 11, 20), LOW, datetime(2025, 11, 22), False),
            ("a", "Z", "M", date(2025, 11, 22), datetime(2025, 11, 22), HIGH, True),
            ("b", "Q", "F", date(2025, 11, 21), LOW, HIGH, True),
        ],
        "id string, name string, gender string, observed_from date, valid_from timestamp_ntz, "
        "valid_to timestamp_ntz, is_current boolean",
    )
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_scd2_surrogate_keys_are_deterministic(spark):
    points = spark.createDataFrame(
        [("a", "X", date(2025, 11, 20), 0)], "id string, name string, _observed date, _order long"
    )
    one = scd2_versions(points, "id", "sk", ["name"], ["name"]).first()["sk"]
    two = scd2_versions(points.repartition(3), "id", "sk", ["name"], ["name"]).first()["sk"]
    assert one == two


def test_point_in_time_picks_the_version_valid_at_the_request(spark):
    dim = spark.createDataFrame(
        [
            (-1, "-1", LOW, HIGH, True),
            (10, "c", LOW, datetime(2025, 6, 1), False),
            (11, "c", datetime(2025, 6, 1), HIGH, True),
        ],
        "sk long, id string, valid_from timestamp_ntz, valid_to timestamp_ntz, is_current boolean",
    )
    facts = spark.createDataFrame(
        [
            (1, "c", datetime(2025, 5, 31, 23, 59)),
            (2, "c", datetime(2025, 6, 1)),  # a boundary belongs to the new version
            (3, "c", None),  # no request time: the current version
            (4, "nobody", datetime(2025, 6, 1)),  # unknown member
        ],
        "n int, id string, request_time timestamp_ntz",
    )
    got = point_in_time(facts, dim, "id", "sk").select("n", "sk")
    expected = spark.createDataFrame([(1, 10), (2, 11), (3, 11), (4, -1)], "n int, sk long")
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


HOP_FACTS = [
    # customer, complaint, channel, request time
    ("in", 1, "web", "2025-11-01 00:00:00"),
    ("in", 2, "call", "2025-11-03 23:59:00"),  # 71 h 59 min later on another channel: a hop
    ("edge", 3, "social", "2025-11-01 00:00:00"),
    ("edge", 4, "web", "2025-11-04 00:00:00"),  # exactly 72 h: still a hop
    ("out", 5, "web", "2025-11-01 00:00:00"),
    ("out", 6, "call", "2025-11-04 00:01:00"),  # 72 h 1 min: not a hop
    ("same", 7, "call", "2025-11-01 00:00:00"),
    ("same", 8, "call", "2025-11-01 01:00:00"),  # same channel: never a hop
    ("back", 9, "call", "2025-11-01 00:00:00"),
    ("back", 10, "call", "2025-11-02 00:00:00"),
    ("back", 11, "web", "2025-11-05 12:00:00"),  # 84 h after the nearest call: not a hop
]


def test_channel_hopping_inside_and_just_outside_72_hours(spark):
    facts = spark.createDataFrame(
        HOP_FACTS, "customer_id string, complaint_sk long, channel string, request_time string"
    )
    facts = facts.withColumn("request_time", F.to_timestamp_ntz("request_time"))
    hops = {r["complaint_sk"] for r in channel_hops(facts).filter("is_hop").collect()}
    assert hops == {2, 4}


def test_lifecycle_day_counts_for_a_complaint_moving_through_statuses(spark):
    history = spark.createDataFrame(
        [
            ("W9", "web", None, "Backlog", date(2025, 11, 20)),
            ("W9", "web", "Backlog", "In-Progress", date(2025, 11, 22)),
            ("W9", "web", "In-Progress", "Blocked", date(2025, 11, 23)),
            ("W9", "web", "Blocked", "In-Progress", date(2025, 11, 24)),  # back: first date stays
            ("W9", "web", "In-Progress", "Resolved", date(2025, 11, 26)),
            ("O1", "web", None, "Backlog", date(2025, 11, 21)),
        ],
        "complaint_id string, channel string, old_status string, new_status string, drop_date date",
    )
    sk = F.xxhash64(F.lit("web"), F.col("id"))
    facts = (
        spark.createDataFrame(
            [
                ("W9", 20251115, "Resolved", datetime(2025, 11, 25, 18, 0), date(2025, 11, 26)),
                ("O1", 20251110, "Backlog", None, date(2025, 11, 21)),
            ],
            "id string, request_date_key int, resolution_status string, resolved_at timestamp_ntz, drop_date date",
        )
        .withColumn("complaint_sk", sk)
        .withColumn("channel", F.lit("web"))
    )
    rows = {r["complaint_sk"]: r for r in build_lifecycle(facts, history).collect()}
    w9 = rows[facts.filter("id = 'W9'").first()["complaint_sk"]]
    assert (w9["first_seen_date"], w9["first_backlog_date"], w9["first_in_progress_date"]) == (
        date(2025, 11, 20),
        date(2025, 11, 20),
        date(2025, 11, 22),
    )
    assert (w9["first_blocked_date"], w9["first_resolved_date"], w9["last_seen_date"]) == (
        date(2025, 11, 23),
        date(2025, 11, 26),
        date(2025, 11, 26),
    )
    assert w9["days_backlog_to_in_progress"] == 2
    assert w9["days_in_progress_to_resolved"] == 4
    assert w9["days_blocked_to_resolved"] == 3
    assert w9["days_seen_to_resolved"] == 6
    assert w9["days_open"] == 10  # 2025-11-15 -> resolved 2025-11-25
    assert (w9["status_changes"], w9["is_open"]) == (4, False)
    o1 = rows[facts.filter("id = 'O1'").first()["complaint_sk"]]
    # Open: counted to the last drop that carried it (2025-11-10 -> 2025-11-21), so the row is stable.
    assert (o1["is_open"], o1["days_open"], o1["last_seen_date"]) == (True, 11, date(2025, 11, 21))
    assert o1["days_backlog_to_in_progress"] is None


@pytest.mark.parametrize(
    "open_, oldest, last30, repeats, hopper, mean_hours, score, tier",
    [
        (0, None, 0, 0, False, 1.0, 0, "low"),
        (1, 6, 1, 0, False, None, 17, "low"),  # 10 + 2 + 5
        (2, 30, 1, 1, False, 80.0, 50, "high"),  # 20 + 10 + 5 + 5 + 0 + 10 (slow resolution)
        (5, 300, 9, 9, True, 100.0, 100, "critical"),  # every part at its cap
        (1, 45, 0, 0, True, None, 40, "medium"),  # 10 + 15 + 0 + 0 + 15
    ],
)
def test_risk_score_formula(spark, open_, oldest, last30, repeats, hopper, mean_hours, score, tier):
    df = spark.createDataFrame(
        [(open_, oldest, last30, repeats, hopper, mean_hours)],
        "o long, a int, r long, p long, h boolean, m double",
    )
    s = risk_score(F.col("o"), F.col("a"), F.col("r"), F.col("p"), F.col("h"), F.col("m"))
    row = df.select(s.alias("s")).select("s", risk_tier(F.col("s")).alias("t")).first()
    assert (row["s"], row["t"]) == (score, tier)


def test_calendar_and_date_keys(spark):
    days = {r["date_key"]: r for r in calendar(spark, 2025, 2025).collect()}
    assert len(days) == 365
    sat = days[20251122]
    assert (sat["day_name"], sat["day_of_week"], sat["is_weekend"], sat["week_of_year"]) == (
        "Saturday",
        6,
        True,
        47,
    )
    assert (sat["month_name"], sat["quarter"], sat["date"]) == ("November", 4, date(2025, 11, 22))
    keys = spark.createDataFrame([(date(2025, 1, 2),), (None,), (date(1, 1, 1),)], "d date").select(
        date_key("d").alias("k")
    )
    assert [r["k"] for r in keys.collect()] == [20250102, -1, -1]


def test_daily_aggregate_percentiles_and_rates(spark):
    schema = T.StructType(
        [
            T.StructField("request_date_key", T.IntegerType()),
            T.StructField("channel_key", T.IntegerType()),
            T.StructField("category_key", T.IntegerType()),
            T.StructField("resolution_status", T.StringType()),
            T.StructField("sla_met", T.BooleanType()),
            T.StructField("resolution_hours", T.DoubleType()),
            T.StructField("call_duration_seconds", T.IntegerType()),
            T.StructField("customer_id", T.StringType()),
        ]
    )
    rows = [(20251101, 1, 4, "Resolved", h <= 72, float(h), 300, f"c{h % 3}") for h in (1, 2, 3, 100)]
    rows.append((20251101, 1, 4, "Backlog", False, None, 600, "c0"))
    got = daily_complaints(spark.createDataFrame(rows, schema)).first()
    assert (got["complaints"], got["resolved"], got["backlog"], got["distinct_customers"]) == (5, 4, 1, 3)
    assert (got["resolution_rate"], got["sla_rate"], got["sla_met"]) == (0.8, 0.6, 3)
    # nearest-rank percentiles: the 2nd and the 4th of four values
    assert (got["resolution_hours_mean"], got["resolution_hours_p50"], got["resolution_hours_p90"]) == (
        26.5,
        2.0,
        100.0,
    )
    assert got["call_minutes_mean"] == 6.0
    assert (got["channel"], got["platform"], got["complaint_category"], got["event_date"]) == (
        "call",
        "Phone",
        "Payments",
        date(2025, 11, 1),
    )


def test_latest_complaints_skips_the_window_only_for_one_commit_feeds_without_deletes(spark):
    from coretelecoms.gold.refresh import latest_complaints

    schema = "channel string, source_complaint_id string, resolution_status string, _change_type string, _commit_version long"

    def latest(rows, one_commit):
        df, counts = latest_complaints(spark.createDataFrame(rows, schema), one_commit)
        try:
            return sorted(tuple(r) for r in df.collect()), counts
        finally:
            df.unpersist()

    # One MERGE commit: a pre-image and its post-image, and a new key.
    merge = [
        ("call", "K1", "Backlog", "update_preimage", 5),
        ("call", "K1", "Resolved", "update_postimage", 5),
        ("web", "W1", "Backlog", "insert", 5),
    ]
    assert latest(merge, True) == (
        [("call", "K1", "Resolved", "update_postimage", 5), ("web", "W1", "Backlog", "insert", 5)],
        {"call": (1, 0), "web": (1, 0)},
    )
    # One overwrite commit reports a rewritten key as a delete and an insert: the insert is its last change.
    overwrite = [
        ("call", "K1", "Backlog", "delete", 6),
        ("call", "K1", "Resolved", "insert", 6),
        ("call", "K2", "Backlog", "delete", 6),
    ]
    assert latest(overwrite, True) == (
        [("call", "K1", "Resolved", "insert", 6), ("call", "K2", "Backlog", "delete", 6)],
        {"call": (2, 1)},
    )
    # Several commits: the last one wins.
    assert latest(merge + overwrite, False)[0] == [
        ("call", "K1", "Resolved", "insert", 6),
        ("call", "K2", "Backlog", "delete", 6),
        ("web", "W1", "Backlog", "insert", 5),
    ]


def test_a_mart_row_reaged_equals_its_recomputation_unless_the_calendar_moved_its_complaints(spark):
    """The incremental mart's claim: moving the as-of date changes a customer's row only by re-ageing it,
    unless one of their complaints entered or left a 7/30/90-day window, or their oldest open age was 0."""
    old, new = date(2025, 3, 10), date(2025, 3, 12)
    # customer: [(days before `old`, hour, channel, category_key, resolved)]
    plans = {
        "steady": [(3, 9, "call", 1, False), (40, 9, "web", 2, True), (100, 9, "web", 2, True)],
        "hopper": [(2, 9, "call", 3, True), (2, 10, "web", 3, False), (20, 9, "social", 3, True)],
        "leaves_7d": [(6, 9, "call", 1, False)],
        "leaves_30d": [(29, 9, "web", 4, True)],
        "leaves_90d": [(89, 9, "social", 2, False)],
        "enters": [(-1, 9, "call", 1, False)],
        "open_today": [(0, 9, "call", 1, False), (12, 9, "web", 1, True)],
    }
    rows, sk = [], 0
    for customer, complaints in plans.items():
        for before, hour, channel, category, resolved in complaints:
            sk += 1
            at = datetime.combine(old, datetime.min.time()).replace(hour=hour) - timedelta(days=before)
            hours = 50.0 + sk if resolved else None
            rows.append(
                (customer, channel, at, sk, int(at.strftime("%Y%m%d")), resolved, category, hours, resolved)
            )
    facts = spark.createDataFrame(
        rows,
        "customer_id string, channel string, request_time timestamp, complaint_sk long, request_date_key int, "
        "is_resolved boolean, category_key long, resolution_hours double, sla_met boolean",
    )
    dims = spark.createDataFrame(
        [(c, i + 1, True) for i, c in enumerate(plans)],
        "customer_id string, customer_sk long, is_current boolean",
    )
    at_old = customer_risk(facts, dims, old).cache()
    at_new = customer_risk(facts, dims, new)
    moved = {r[0] for r in calendar_moved(at_old, facts, old, new).collect()}
    assert moved == {"leaves_7d", "leaves_30d", "leaves_90d", "enters", "open_today"}
    kept = [c for c in plans if c not in moved]
    assert_df_equality(
        reaged(at_old.filter(F.col("customer_id").isin(kept)), new, 2),
        at_new.filter(F.col("customer_id").isin(kept)),
        ignore_row_order=True,
    )
    # and those it picks for crossing a window edge really cannot be re-aged (open_today's age 0 could have
    # been a future date's; re-aged, it happens to come out right)
    for customer in moved - {"open_today"}:
        again = reaged(at_old.filter(F.col("customer_id") == customer), new, 2).collect()
        assert again != at_new.filter(F.col("customer_id") == customer).collect(), customer
