"""Object names: the documented names match in any letter case; anything else under a prefix warns."""

from __future__ import annotations

import logging
from datetime import date

from landing_support import by_source, make_ctx, settings, write_bucket

from coretelecoms.landing import run_landing
from coretelecoms.landing.registry import TABLE as LANDED

D1 = date(2025, 11, 20)


def test_upper_case_extension_lands_and_stray_objects_warn(spark, tmp_path, caplog):
    bucket = write_bucket(tmp_path / "src", days=("2025-11-20",))
    calls = bucket / "call logs"
    (calls / "call_logs_day_2025-11-20.csv").rename(calls / "call_logs_day_2025-11-20.CSV")
    (calls / "notes.txt").write_text("not a drop")
    (bucket / "social_medias" / "media_complaint_day_2025-11-20 (1).json").write_text("{}")
    ctx = make_ctx(spark, settings(tmp_path, s3={"uri": str(bucket)}))

    with caplog.at_level(logging.WARNING, logger="coretelecoms.landing"):
        entries = by_source(run_landing(ctx, D1, record=False))

    call = entries["call_logs"]
    assert call.files == 1 and call.status == "warn"
    assert f"unexpected call_logs object {calls / 'notes.txt'}" in call.error
    assert "call_logs_day_2025-11-20.CSV" not in call.error
    landed = tmp_path / "lake" / "landing" / "s3" / "call logs" / "call_logs_day_2025-11-20.csv"
    assert landed.read_bytes() == (calls / "call_logs_day_2025-11-20.CSV").read_bytes()  # bronze's *.csv
    row = ctx.lake.read(LANDED).filter("source = 'call_logs'").collect()
    assert [r["source_key"] for r in row] == ["call logs/call_logs_day_2025-11-20.CSV"]

    social = entries["social_media"]
    assert (
        social.files == 1
        and social.status == "warn"
        and "media_complaint_day_2025-11-20 (1).json" in social.error
    )
    assert entries["customers"].status == "ok"
    assert any("notes.txt" in r.getMessage() for r in caplog.records)

    again = by_source(run_landing(ctx, D1, record=False))
    assert again["call_logs"].files == 0


def test_parts_of_a_split_drop_land_beside_it(spark, tmp_path):
    bucket = write_bucket(tmp_path / "src", days=("2025-11-20",))
    calls = bucket / "call logs"
    first = (calls / "call_logs_day_2025-11-20.csv").read_text()
    (calls / "call_logs_day_2025-11-20_part2.CSV").write_text(first)
    (calls / "call_logs_day_2025-11-20-copy.csv").write_text(first)  # not a part: warns, not landed
    ctx = make_ctx(spark, settings(tmp_path, s3={"uri": str(bucket)}))
    call = by_source(run_landing(ctx, D1, record=False))["call_logs"]
    assert call.files == 2 and call.status == "warn"
    assert "call_logs_day_2025-11-20-copy.csv" in call.error and "part2" not in call.error
    landed = tmp_path / "lake" / "landing" / "s3" / "call logs"
    assert sorted(p.name for p in landed.iterdir()) == [
        "call_logs_day_2025-11-20.csv",
        "call_logs_day_2025-11-20_part2.csv",
    ]
