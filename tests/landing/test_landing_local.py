"""Landing from a local bucket folder, a real PostgreSQL and the agents export file."""

from __future__ import annotations

import hashlib
import logging
from datetime import date
from pathlib import Path

import pytest
from landing_support import by_source, make_ctx, settings, write_bucket

from coretelecoms.landing import run_landing
from coretelecoms.landing.copier import now
from coretelecoms.landing.registry import TABLE as LANDED
from coretelecoms.landing.store import LandingStore

D1, D2, D3 = date(2025, 11, 20), date(2025, 11, 21), date(2025, 11, 24)


def ctx_for(spark, tmp_path, postgres, **pg):
    bucket = write_bucket(tmp_path / "src")
    s = settings(
        tmp_path,
        s3={"uri": str(bucket)},
        postgres={"embedded": True, "pgdata": str(postgres), **pg},
        gsheets={"mode": "export", "export_path": str(tmp_path / "src" / "agents.csv")},
    )
    return make_ctx(spark, s), bucket


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_each_source_lands_once_under_its_original_name(spark, tmp_path, postgres):
    ctx, bucket = ctx_for(spark, tmp_path, postgres)
    entries = by_source(run_landing(ctx, D1))
    assert {s: (e.status, e.files) for s, e in entries.items()} == {
        "customers": ("ok", 1),
        "agents": ("ok", 1),
        "call_logs": ("ok", 1),
        "social_media": ("ok", 1),
        "web_forms": ("ok", 1),
    }
    landing = tmp_path / "lake" / "landing"
    call = landing / "s3" / "call logs" / "call_logs_day_2025-11-20.csv"
    assert call.read_bytes() == (bucket / "call logs" / "call_logs_day_2025-11-20.csv").read_bytes()
    assert (landing / "s3" / "customers" / "customers_dataset.csv").exists()
    assert (landing / "s3" / "social_medias" / "media_complaint_day_2025-11-20.json").exists()
    assert not list(landing.rglob("*.tmp")) and not list((landing / "_tmp").iterdir())
    export = (landing / "postgres" / "customer_complaints" / "web_form_request_2025_11_20.csv").read_text()
    lines = export.splitlines()
    assert (
        lines[0]
        == "Column1,request_id,customeR iD,COMPLAINT_catego ry,agent ID,resolutionstatus,request_date,resolution_date,webFormGenerationDate"
    )
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "2", "4"]  # ORDER BY "Column1"
    assert (landing / "gsheets" / "agents" / "agents_2025-11-20.csv").read_text() == (
        tmp_path / "src" / "agents.csv"
    ).read_text()

    rows = {r["landing_path"]: r for r in ctx.lake.read(LANDED).collect()}
    row = rows["s3/call logs/call_logs_day_2025-11-20.csv"]  # keys relative to landing, never absolute
    assert row["size"] == call.stat().st_size and row["sha256"] == sha(call) and row["version"] == 1
    assert row["source_key"] == "call logs/call_logs_day_2025-11-20.csv" and row["drop_date"] == D1
    assert row["etag"] and row["landed_at"] and row["copy_seconds"] >= 0

    again = by_source(run_landing(ctx, D1))
    assert all(e.files == 0 and e.status == "ok" for e in again.values())
    assert ctx.lake.count(LANDED) == 5


def test_changed_objects_land_as_new_versions_unchanged_ones_never_again(spark, tmp_path, postgres):
    ctx, bucket = ctx_for(spark, tmp_path, postgres)
    run_landing(ctx, D1)
    source = bucket / "call logs" / "call_logs_day_2025-11-20.csv"
    source.write_text(source.read_text().replace("Resolved", "Backlog"))
    (bucket / "customers" / "customers_dataset.csv").touch()  # new mtime, same bytes
    entries = by_source(run_landing(ctx, D1))
    assert (
        entries["call_logs"].files == 1 and entries["customers"].files == 0 and entries["agents"].files == 0
    )
    landing = tmp_path / "lake" / "landing" / "s3" / "call logs"
    v2 = landing / f"v2-{sha(source)[:12]}" / "call_logs_day_2025-11-20.csv"
    assert v2.read_bytes() == source.read_bytes()
    assert "Resolved" in (landing / "call_logs_day_2025-11-20.csv").read_text()  # v1 untouched

    (bucket / "customers" / "customers_dataset.csv").write_text("customer_id,name\nu9,New\n")
    (tmp_path / "src" / "agents.csv").write_text("iD,NamE,experience,state\n1000,Ann Lee,Junior,Ohio\n")
    entries = by_source(run_landing(ctx, D2))
    assert entries["customers"].files == 1 and entries["agents"].files == 1
    versions = {r["source"]: r["version"] for r in ctx.lake.read(LANDED).filter("version > 1").collect()}
    assert versions == {"call_logs": 2, "customers": 2, "agents": 2}


def test_a_date_with_nothing_delivered_warns_clearly(spark, tmp_path, postgres):
    ctx, _ = ctx_for(spark, tmp_path, postgres)
    entries = by_source(run_landing(ctx, D3))
    for source in ("call_logs", "social_media", "web_forms"):
        assert entries[source].status == "warn" and entries[source].files == 0
        assert "2025-11-24" in entries[source].error
    assert "call logs/call_logs_day_2025-11-24.csv: not found (no such file)" in entries["call_logs"].error
    assert "web_form_request_2025_11_24 does not exist" in entries["web_forms"].error
    assert entries["customers"].status == "ok"


def test_a_missing_table_fails_the_source_when_on_missing_is_fail(spark, tmp_path, postgres):
    ctx, _ = ctx_for(spark, tmp_path, postgres, on_missing="fail")
    entries = by_source(run_landing(ctx, D3))
    web = entries["web_forms"]
    assert web.status == "failed"
    assert "does not exist" in web.error and "on_missing is fail" in web.error
    assert "Traceback" not in web.error and "\n" not in web.error
    assert entries["customers"].status == "ok" and entries["agents"].status == "ok"


def test_by_default_a_missing_table_warns_for_a_past_date_and_fails_for_the_current_day(
    spark, tmp_path, postgres
):
    ctx, _ = ctx_for(spark, tmp_path, postgres)
    today = now().date()  # the clock landing judges "current day" by
    web = by_source(run_landing(ctx, today))["web_forms"]
    assert web.status == "failed" and web.files == 0
    assert f"web_form_request_{today:%Y_%m_%d} does not exist" in web.error
    assert f"{today} is the current day" in web.error and "\n" not in web.error
    past = by_source(run_landing(ctx, D3))["web_forms"]
    assert past.status == "warn" and "web_form_request_2025_11_24 does not exist" in past.error

    explicit, _ = ctx_for(spark, tmp_path / "explicit", postgres, on_missing="warn")
    assert by_source(run_landing(explicit, today))["web_forms"].status == "warn"


def test_with_fail_a_range_exports_the_tables_it_has_then_names_the_missing_ones(spark, tmp_path, postgres):
    ctx, _ = ctx_for(spark, tmp_path, postgres, on_missing="fail")
    web = by_source(run_landing(ctx, None, D1, D3))["web_forms"]
    assert web.status == "failed" and web.files == 2
    for day in ("2025_11_22", "2025_11_23", "2025_11_24"):
        assert f"web_form_request_{day} does not exist" in web.error
    assert "web_form_request_2025_11_20 does not" not in web.error
    landed = sorted(r["source_key"] for r in ctx.lake.read(LANDED).filter("source = 'web_forms'").collect())
    assert landed == [
        "customer_complaints.web_form_request_2025_11_20",
        "customer_complaints.web_form_request_2025_11_21",
    ]
    export = tmp_path / "lake" / "landing" / "postgres" / "customer_complaints"
    assert sorted(p.name for p in export.iterdir()) == [
        "web_form_request_2025_11_20.csv",
        "web_form_request_2025_11_21.csv",
    ]


def test_a_range_exports_each_table_not_yet_exported(spark, tmp_path, postgres):
    ctx, _ = ctx_for(spark, tmp_path, postgres)
    run_landing(ctx, D1)
    entries = by_source(run_landing(ctx, None, D1, D2))
    assert entries["web_forms"].files == 1 and entries["call_logs"].files == 1
    assert sorted(
        r["source_key"] for r in ctx.lake.read(LANDED).filter("source = 'web_forms'").collect()
    ) == [
        "customer_complaints.web_form_request_2025_11_20",
        "customer_complaints.web_form_request_2025_11_21",
    ]


class Killed(BaseException):
    """The process dying: not an Exception, so no per-source handler catches it."""


def test_a_run_killed_mid_landing_keeps_what_it_recorded_and_the_rerun_lands_the_rest_once(
    spark, tmp_path, postgres, monkeypatch
):
    ctx, bucket = ctx_for(spark, tmp_path, postgres)
    published = []
    publish = LandingStore.publish

    def publish_then_die(self, writer, rel):
        path = publish(self, writer, rel)
        published.append(rel)
        if len(published) == 2:  # the second file is in place, its record not yet written
            raise Killed
        return path

    with monkeypatch.context() as m:
        m.setattr(LandingStore, "publish", publish_then_die)
        with pytest.raises(Killed):
            run_landing(ctx, D1)
    assert published == ["s3/customers/customers_dataset.csv", "gsheets/agents/agents_2025-11-20.csv"]
    first = (bucket / "customers" / "customers_dataset.csv").read_bytes()
    # Before the re-run the customers file changes: the delivery landed before the kill must survive.
    (bucket / "customers" / "customers_dataset.csv").write_text("customer_id,name\nu9,New\n")

    entries = by_source(run_landing(ctx, D1))
    assert {s: (e.status, e.files) for s, e in entries.items()} == {
        "customers": ("ok", 1),
        "agents": ("ok", 1),
        "call_logs": ("ok", 1),
        "social_media": ("ok", 1),
        "web_forms": ("ok", 1),
    }
    rows = ctx.lake.read(LANDED).collect()
    keys = [(r["source_key"], r["version"]) for r in rows]
    assert len(keys) == len(set(keys)) == 6
    assert sorted(r["version"] for r in rows if r["source"] == "customers") == [1, 2]
    v1 = next(r for r in rows if r["source"] == "customers" and r["version"] == 1)
    assert (tmp_path / "lake" / "landing" / v1["landing_path"]).read_bytes() == first and v1[
        "sha256"
    ] == hashlib.sha256(first).hexdigest()
    landing = tmp_path / "lake" / "landing"
    on_disk = {
        p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file() and "_tmp" not in p.parts
    }
    assert on_disk == {r["landing_path"] for r in rows}  # nothing landed twice, nothing unrecorded


def test_an_unreachable_postgres_fails_only_the_web_forms(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("CORETELECOMS_TEST_DSN", "postgresql://loader:s3cret-pw@127.0.0.1:9/postgres")
    bucket = write_bucket(tmp_path / "src")
    s = settings(
        tmp_path, s3={"uri": str(bucket)}, postgres={"embedded": False, "dsn_secret": "CORETELECOMS_TEST_DSN"}
    )
    entries = by_source(run_landing(make_ctx(spark, s), D1))
    assert entries["web_forms"].status == "failed"
    assert "cannot connect to the web-forms Postgres" in entries["web_forms"].error
    assert "s3cret-pw" not in entries["web_forms"].error
    assert all(
        entries[s].status == "ok" and entries[s].files == 1
        for s in ("customers", "agents", "call_logs", "social_media")
    )


PASSWORD = "s3cret-pw"
MALFORMED_DSNS = {
    "postgresql://loader:s3cret-pw%zz@127.0.0.1/postgres": 'invalid percent-encoded token: "…"',
    "postgresql://loader:s3cret-pw@[::1/postgres": 'matching "]" in IPv6 host address in URI: "…"',
    "host=127.0.0.1 user=loader s3cret-pw": 'missing "=" after "…"',
    "postgresql://loader:s3cret-pw@127.0.0.1:s3cret-pw/postgres": 'invalid integer value "…" for connection option "port"',
    "s3cret-pw": 'missing "=" after "…"',  # the password alone put in the variable
    "postgresql://loader@s3cret-pw@127.0.0.1/postgres": 'could not translate host name "…"',
}


def test_libpq_errors_for_a_malformed_dsn_never_carry_the_password(monkeypatch):
    """libpq quotes the offending piece of a malformed DSN (the password, or the whole URI) in its message."""
    import psycopg2

    from coretelecoms.landing.web_forms import PostgresUnreachable, connect
    from coretelecoms.settings import PostgresSourceSettings

    cfg = PostgresSourceSettings(embedded=False, dsn_secret="CORETELECOMS_TEST_DSN")
    for dsn, expected in MALFORMED_DSNS.items():
        with pytest.raises(psycopg2.Error) as raw:  # what libpq itself says, unscrubbed
            psycopg2.connect(dsn, connect_timeout=1, application_name="coretelecoms-landing")
        assert PASSWORD in str(raw.value), dsn
        monkeypatch.setenv("CORETELECOMS_TEST_DSN", dsn)
        with pytest.raises(PostgresUnreachable) as exc:
            connect(cfg)
        assert PASSWORD not in str(exc.value) and expected in str(exc.value), (dsn, str(exc.value))
    monkeypatch.setenv("CORETELECOMS_TEST_DSN", "postgresql://loader:s3cret-pw@no-such-host.invalid/postgres")
    with pytest.raises(PostgresUnreachable) as exc:
        connect(cfg)
    assert 'host name "no-such-host.invalid"' in str(exc.value)  # the host stays: it says where to look


def test_a_malformed_dsn_reaches_neither_ledger_nor_logs(spark, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="coretelecoms")
    monkeypatch.setenv("CORETELECOMS_TEST_DSN", "postgresql://loader:s3cret-pw@[::1/postgres")
    bucket = write_bucket(tmp_path / "src")
    s = settings(
        tmp_path, s3={"uri": str(bucket)}, postgres={"embedded": False, "dsn_secret": "CORETELECOMS_TEST_DSN"}
    )
    ctx = make_ctx(spark, s)
    web = by_source(run_landing(ctx, D1))["web_forms"]
    assert web.status == "failed" and "cannot connect to the web-forms Postgres: invalid dsn" in web.error
    ledger = [r.asDict() for r in ctx.lake.read("_ops.runs").collect()]
    assert any(r["source"] == "web_forms" and r["status"] == "failed" for r in ledger)
    assert PASSWORD not in repr(ledger) and PASSWORD not in caplog.text


def test_a_missing_secret_names_the_reference_not_a_value(spark, tmp_path):
    bucket = write_bucket(tmp_path / "src")
    s = settings(tmp_path, s3={"uri": str(bucket)})
    web = by_source(run_landing(make_ctx(spark, s), D1))["web_forms"]
    assert web.status == "failed" and "CORETELECOMS_TEST_NO_SUCH_DSN is not set" in web.error
