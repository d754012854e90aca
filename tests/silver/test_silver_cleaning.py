"""Cleaning transforms, one chispa test per function, on the real broken forms the sources deliver."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import functions as F

from coretelecoms.silver import (
    agents,
    call_logs,
    complaints,
    conform,
    customers,
    geography,
    social_complaints,
)
from coretelecoms.silver.latest import dedupe_latest


def frame(spark, rows, ddl):
    return spark.createDataFrame(rows, ddl)


def test_text_trims_and_empty_is_null(spark):
    df = frame(spark, [("  Payments \t",), ("",), ("   ",), (None,), ("a\nb",)], "v string")
    out = df.select(conform.text("v").alias("v"))
    expected = frame(spark, [("Payments",), (None,), (None,), (None,), ("a\nb",)], "v string")
    assert_df_equality(out, expected, ignore_nullable=True)


def test_parse_timestamp_is_strict_and_wall_clock(spark):
    rows = [
        ("2025-08-02 14:31:09",),
        (" 2025-08-02 14:31:09 ",),
        ("2025-03-09 02:30:00",),  # a DST gap in America/*: must stay 02:30
        ("2025-02-30 10:15:00",),
        ("2025-13-01 08:00:00",),
        ("15/07/2025 09:30",),
        ("not available",),
        ("2025-07-15 25:61:00",),
        ("2025-07-15 10:01:60",),
        ("",),
        (None,),
    ]
    out = frame(spark, rows, "v string").select(conform.parse_timestamp("v").alias("v"))
    good = [
        dt.datetime(2025, 8, 2, 14, 31, 9),
        dt.datetime(2025, 8, 2, 14, 31, 9),
        dt.datetime(2025, 3, 9, 2, 30),
    ]
    expected = frame(spark, [(v,) for v in good] + [(None,)] * 8, "v timestamp_ntz")
    assert_df_equality(out, expected, ignore_nullable=True)


def test_parse_date_and_drop_date(spark):
    rows = [
        ("1987-02-28",),
        ("1987-02-31",),
        ("31/12/1987",),
        ("unknown",),
        ("1987-13-01",),
        ("00-00-0000",),
        ("2025-11-20 00:00:00",),
        ("",),
    ]
    df = frame(spark, rows, "v string")
    out = df.select(conform.parse_date("v").alias("d"), conform.parse_drop_date("v").alias("drop"))
    expected = frame(
        spark,
        [(dt.date(1987, 2, 28), dt.date(1987, 2, 28))]
        + [(None, None)] * 5
        + [(None, dt.date(2025, 11, 20)), (None, None)],
        "d date, drop date",
    )
    assert_df_equality(out, expected, ignore_nullable=True)


def test_parse_int(spark):
    df = frame(spark, [(" 1057 ",), ("1057.0",), ("abc",), ("",), ("10.5",)], "v string")
    out = df.select(conform.parse_int("v").alias("v"))
    assert_df_equality(
        out, frame(spark, [(1057,), (1057,), (None,), (None,), (None,)], "v int"), ignore_nullable=True
    )


def test_categories_statuses_and_channels_are_canonical_case_insensitively(spark):
    rows = [
        (" payments", "RESOLVED", "twitter "),
        ("Technician  Support", " in-progress ", "LINKEDIN"),
        ("NETWORK FAILURE", "backlog", "Facebook"),
        ("router delivery ", "Blocked", "instagram"),
        ("Billing", "Closed", "TikTok"),
        ("", None, " "),
    ]
    df = frame(spark, rows, "c string, s string, m string")
    out = df.select(
        conform.canonical("c", conform.CATEGORIES).alias("c"),
        conform.canonical("s", conform.STATUSES).alias("s"),
        conform.canonical("m", conform.MEDIA_CHANNELS).alias("m"),
    )
    expected = frame(
        spark,
        [
            ("Payments", "Resolved", "Twitter"),
            ("Technician Support", "In-Progress", "LinkedIn"),
            ("Network Failure", "Backlog", "Facebook"),
            ("Router Delivery", "Blocked", "Instagram"),
            ("Billing", "Closed", "TikTok"),  # outside the domain: kept as is for the domain rule to name
            (None, None, None),
        ],
        "c string, s string, m string",
    )
    assert_df_equality(out, expected, ignore_nullable=True)


def test_email_repair_applies_only_the_documented_fixes(spark):
    rows = [
        ("a1b2mary.smith1x2@GmaiL.om",),
        ("0f3ejohn_doe9zz@hotmai.com",),
        ("77aaana-lee0q1@gmial.com",),
        ("12abbob.ray123@Hotmai.com",),
        ("3c4djim.kay4a5@yahoo.om",),
        ("9e8fLEE.ANN777@GMAIL.com",),
        ("5a5asue.lo0o0@gmial.om",),
        ("  ok.user123@YaHoo.com ",),
        ("broken.email.example.com",),  # no @: not guessed, flagged invalid
        ("x@gmail.co",),  # a plausible typo that is NOT a documented fix: left alone
        ("",),
        (None,),
    ]
    df = frame(spark, rows, "email string").transform(customers.with_email)
    expected = frame(
        spark,
        [
            ("a1b2mary.smith1x2@gmail.com", True),
            ("0f3ejohn_doe9zz@hotmail.com", True),
            ("77aaana-lee0q1@gmail.com", True),
            ("12abbob.ray123@hotmail.com", True),
            ("3c4djim.kay4a5@yahoo.com", True),
            ("9e8flee.ann777@gmail.com", True),
            ("5a5asue.lo0o0@gmail.com", True),
            ("ok.user123@yahoo.com", True),
            ("broken.email.example.com", False),
            ("x@gmail.co", True),
            (None, False),
            (None, False),
        ],
        "email string, email_is_valid boolean",
    )
    assert_df_equality(df, expected, ignore_nullable=True)


def test_customer_columns_are_typed_and_title_cased(spark):
    df = frame(
        spark,
        [
            (" 5A9F0C12-3D6E-4E7B-A1C4-B8E2D0F7A619 ", "  mARY   o'neil ", " f ", "1984-03-02", "1987-02-31"),
            ("", "", "", "", ""),
        ],
        "customer_id string, name string, gender string, date_of_birth string, signup_date string",
    )
    out = df.transform(customers.with_typed_columns)
    expected = frame(
        spark,
        [
            ("5a9f0c12-3d6e-4e7b-a1c4-b8e2d0f7a619", "Mary O'neil", "F", dt.date(1984, 3, 2), None),
            (None, None, None, None, None),
        ],
        "customer_id string, name string, gender string, date_of_birth date, signup_date date",
    )
    assert_df_equality(out, expected, ignore_nullable=True)


def test_addresses_one_line_with_state_zip_and_name(spark):
    rows = [
        ("4821 Oak Ridge Suite 210\nPort Danielside, TX 75013",),
        ("PSC 5521, Box 0917\nAPO AE 09834",),
        ("USNS Miller\nFPO AP 96612",),
        ("Unit 4410 Box 2231\r\nDPO AA 34022",),
        ("12 Calle Sol\nSan Juan, PR 00901",),
        ("1 Marine Dr\nHagatna, GU 96910",),
        ("4 Main St\nCharlotte Amalie, VI 00802",),
        ("9 Beach Rd\nSaipan, MP 96950",),
        ("2 Pago Rd\nPago Pago, AS 96799",),
        ("1600 Pennsylvania Ave NW\nWashington, DC 20500-0001",),
        ("3 Kolonia Way\nPalikir, FM 96941",),
        ("5 Lagoon Rd\nMajuro, MH 96960",),
        ("7 Koror St\nKoror, PW 96940",),
        ("  10 Elm St  \n\n  Springfield,  il 62701 ",),
        ("No state here\nSomewhere",),
        ("1 Odd Rd\nNowhere, ZZ 12345",),
        ("",),
    ]
    out = frame(spark, rows, "address string").transform(geography.with_address_parts)
    expected = frame(
        spark,
        [
            ("4821 Oak Ridge Suite 210, Port Danielside, TX 75013", "TX", "75013", "Texas"),
            ("PSC 5521, Box 0917, APO AE 09834", "AE", "09834", "Armed Forces Europe"),
            ("USNS Miller, FPO AP 96612", "AP", "96612", "Armed Forces Pacific"),
            ("Unit 4410 Box 2231, DPO AA 34022", "AA", "34022", "Armed Forces Americas"),
            ("12 Calle Sol, San Juan, PR 00901", "PR", "00901", "Puerto Rico"),
            ("1 Marine Dr, Hagatna, GU 96910", "GU", "96910", "Guam"),
            ("4 Main St, Charlotte Amalie, VI 00802", "VI", "00802", "U.S. Virgin Islands"),
            ("9 Beach Rd, Saipan, MP 96950", "MP", "96950", "Northern Mariana Islands"),
            ("2 Pago Rd, Pago Pago, AS 96799", "AS", "96799", "American Samoa"),
            (
                "1600 Pennsylvania Ave NW, Washington, DC 20500-0001",
                "DC",
                "20500-0001",
                "District of Columbia",
            ),
            ("3 Kolonia Way, Palikir, FM 96941", "FM", "96941", "Federated States of Micronesia"),
            ("5 Lagoon Rd, Majuro, MH 96960", "MH", "96960", "Marshall Islands"),
            ("7 Koror St, Koror, PW 96940", "PW", "96940", "Palau"),
            ("10 Elm St, Springfield, il 62701", "IL", "62701", "Illinois"),
            ("No state here, Somewhere", None, None, None),
            ("1 Odd Rd, Nowhere, ZZ 12345", "ZZ", "12345", None),
            (None, None, None, None),
        ],
        "address string, state_code string, zip_code string, state_name string",
    )
    assert_df_equality(out, expected, ignore_nullable=True)


def test_agents_experience_canonical_and_state_name_to_code(spark):
    df = frame(
        spark,
        [
            (" 1057 ", "  JOHN smith ", "intern", "West Virginia"),
            ("1013", "ann lee", "Mid-level", " new   YORK "),
            ("1020", "bo kim", " SENIOR ", "District of Columbia"),
            ("1021", "al ray", "junior", "Atlantis"),
            ("x", "", "Guru", ""),
        ],
        "id string, name string, experience string, state string",
    )
    out = df.transform(agents.clean_agents).select(
        "agent_id", "name", "experience", "state_name", "state_code"
    )
    expected = frame(
        spark,
        [
            (1057, "John Smith", "Intern", "West Virginia", "WV"),
            (1013, "Ann Lee", "Mid-Level", "New York", "NY"),
            (1020, "Bo Kim", "Senior", "District of Columbia", "DC"),
            (1021, "Al Ray", "Junior", "Atlantis", None),
            (None, None, "Guru", None, None),
        ],
        "agent_id int, name string, experience string, state_name string, state_code string",
    )
    assert_df_equality(out, expected, ignore_nullable=True)


CALL_DDL = (
    "call_id string, customer_id string, complaint_category string, agent_id string, call_start_time string, "
    "call_end_time string, resolution_status string, call_logs_generation_date string"
)


def test_call_logs_duration_and_resolved_only_when_resolved(spark):
    cid = "Mar0979K5a9f0c123d6e4e7ba1c4b8e2d0f7a6194417b8e2d0f7a6Kgd"
    df = frame(
        spark,
        [
            (
                f" {cid} ",
                " 5A9F0C12-3D6E-4E7B-A1C4-B8E2D0F7A619",
                " payments",
                " 1057",
                "2025-08-02 14:31:09",
                "2025-08-02 14:43:09",
                "RESOLVED ",
                "2025-11-20",
            ),
            (
                cid + "x",
                "5a9f0c12-3d6e-4e7b-a1c4-b8e2d0f7a619",
                "Payments",
                "1057",
                "2025-08-02 14:31:09",
                "2025-08-02 14:51:09",
                "in-progress",
                "2025-11-20",
            ),
            (
                cid + "y",
                "5a9f0c12-3d6e-4e7b-a1c4-b8e2d0f7a619",
                "Payments",
                "1057",
                "2025-02-30 10:15:00",
                "2025-08-02 14:51:09",
                "Resolved",
                "2025-11-20",
            ),
        ],
        CALL_DDL,
    )
    out = df.transform(call_logs.clean_call_logs).select(
        "call_id",
        "customer_id",
        "agent_id",
        "complaint_category",
        "resolution_status",
        "call_start_time",
        "call_duration_seconds",
        "resolved_at",
        "resolution_hours",
        "drop_date",
    )
    start, end = dt.datetime(2025, 8, 2, 14, 31, 9), dt.datetime(2025, 8, 2, 14, 43, 9)
    cust = "5a9f0c12-3d6e-4e7b-a1c4-b8e2d0f7a619"
    expected = frame(
        spark,
        [
            (cid, cust, 1057, "Payments", "Resolved", start, 720, end, 0.2, dt.date(2025, 11, 20)),
            (
                cid + "x",
                cust,
                1057,
                "Payments",
                "In-Progress",
                start,
                1200,
                None,
                None,
                dt.date(2025, 11, 20),
            ),
            (
                cid + "y",
                cust,
                1057,
                "Payments",
                "Resolved",
                None,
                None,
                dt.datetime(2025, 8, 2, 14, 51, 9),
                None,
                dt.date(2025, 11, 20),
            ),
        ],
        "call_id string, customer_id string, agent_id int, complaint_category string, resolution_status string, "
        "call_start_time timestamp_ntz, call_duration_seconds int, resolved_at timestamp_ntz, resolution_hours double, "
        "drop_date date",
    )
    assert_df_equality(out, expected, ignore_nullable=True)


def test_social_complaints_empty_resolution_date_and_channel(spark):
    df = frame(
        spark,
        [
            (
                "c1",
                "u",
                "Network Failure",
                "1057",
                "Resolved",
                "2025-08-02 14:31:09",
                "2025-08-09 02:31:09",
                " twitter",
                "2025-11-20",
            ),
            (
                "c2",
                "u",
                "network failure ",
                "1013",
                "Backlog",
                "2025-05-19 22:07:41",
                "",
                "INSTAGRAM",
                "2025-11-20",
            ),
            ("c3", "u", "Payments", "1013", "Resolved", "2025-05-19 22:07:41", "", "Email", "2025-11-20"),
        ],
        "complaint_id string, customer_id string, complaint_category string, agent_id string, "
        "resolution_status string, request_date string, resolution_date string, media_channel string, "
        "media_complaint_generation_date string",
    )
    out = df.transform(social_complaints.clean_social_complaints).select(
        "complaint_id",
        "complaint_category",
        "media_channel",
        "resolution_date",
        "resolved_at",
        "resolution_hours",
    )
    done = dt.datetime(2025, 8, 9, 2, 31, 9)
    expected = frame(
        spark,
        [
            ("c1", "Network Failure", "Twitter", done, done, 156.0),
            ("c2", "Network Failure", "Instagram", None, None, None),
            ("c3", "Payments", "Email", None, None, None),
        ],
        "complaint_id string, complaint_category string, media_channel string, resolution_date timestamp_ntz, "
        "resolved_at timestamp_ntz, resolution_hours double",
    )
    assert_df_equality(out, expected, ignore_nullable=True)


def test_flag_known_marks_unknown_customers_and_agents(spark):
    df = frame(
        spark,
        [("a", "u1", 1001), ("b", "u9", 1001), ("c", "u1", 999), ("d", None, None)],
        "id string, customer_id string, agent_id int",
    )
    # u1 twice: silver's keys beside a new snapshot's (repeats=True, the default, keeps one row per input)
    known_c = frame(spark, [("u1",), ("u2",), ("u1",)], "customer_id string")
    known_a = frame(spark, [(1001,)], "agent_id int")
    out = df.transform(complaints.flag_known(known_c, known_a)).orderBy("id")
    unique_c = frame(spark, [("u1",), ("u2",)], "customer_id string")
    same = df.transform(complaints.flag_known(unique_c, known_a, repeats=False)).orderBy("id")
    assert same.collect() == out.collect()
    expected = frame(
        spark,
        [
            ("a", "u1", 1001, True, True),
            ("b", "u9", 1001, False, True),
            ("c", "u1", 999, True, False),
            ("d", None, None, False, False),
        ],
        "id string, customer_id string, agent_id int, customer_known boolean, agent_known boolean",
    )
    assert_df_equality(out, expected, ignore_nullable=True)


def test_dedupe_keeps_latest_drop_then_ingest_then_record(spark):
    t1, t2 = dt.datetime(2025, 11, 21, 6), dt.datetime(2025, 11, 21, 7)
    d1, d2 = dt.date(2025, 11, 20), dt.date(2025, 11, 21)
    rows = [
        ("k1", "old-day", d1, t2, 9, "f"),
        ("k1", "new-day", d2, t1, 1, "f"),
        ("k2", "early-ingest", d2, t1, 5, "f"),
        ("k2", "late-ingest", d2, t2, 1, "f"),
        ("k3", "record-3", d2, t1, 3, "f"),
        ("k3", "record-7", d2, t1, 7, "f"),
    ]
    ddl = "k string, v string, _source_date date, _ingested_at timestamp_ntz, _source_record long, _source_file string"
    out = frame(spark, rows, ddl).transform(dedupe_latest("k")).select("k", "v").orderBy("k")
    expected = frame(
        spark, [("k1", "new-day"), ("k2", "late-ingest"), ("k3", "record-7")], "k string, v string"
    )
    assert_df_equality(out, expected, ignore_nullable=True)


def test_title_case_and_squeeze(spark):
    df = frame(spark, [("  jOHN   o'BRIEN-smith ",), (None,)], "v string")
    out = df.select(conform.title_case("v").alias("v"), F.length(conform.squeeze("v")).alias("n"))
    assert_df_equality(
        out, frame(spark, [("John O'brien-smith", 18), (None, None)], "v string, n int"), ignore_nullable=True
    )
