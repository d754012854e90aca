"""Publishing gold to Snowflake over the copy-into path, on fakesnow persisted under the data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import types as T

from coretelecoms.context import RunContext
from coretelecoms.lake import engine_for
from coretelecoms.publish import loaders, run_publish, state
from coretelecoms.publish.catalog import PublishedTable
from coretelecoms.publish.ddl import SchemaChangeError, ensure_table
from coretelecoms.publish.reconcile import reconcile
from coretelecoms.publish.warehouse import connect, fetch
from coretelecoms.settings import load_settings

DIM = PublishedTable("gold.dim_thing", ("thing_sk",))
FACT = PublishedTable("gold.fct_event", ("event_sk",), ("amount",))
CATALOG = (DIM, FACT)

DIM_SCHEMA = T.StructType([T.StructField("thing_sk", T.LongType()), T.StructField("name", T.StringType())])
FACT_SCHEMA = T.StructType(
    [
        T.StructField("event_sk", T.LongType()),
        T.StructField("thing_sk", T.LongType()),
        T.StructField("amount", T.DoubleType()),
        T.StructField("event_date", T.DateType()),
    ]
)


@pytest.fixture
def ctx(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    settings = load_settings("local")
    lake = engine_for(spark, settings.lake.root, "delta-rs")
    return RunContext(settings=settings, spark=spark, lake=lake, layer="publish")


def events(spark, ids, amount=1.0):
    import datetime as dt

    return spark.createDataFrame([(i, i % 3, amount * i, dt.date(2025, 11, 20)) for i in ids], FACT_SCHEMA)


def seed_gold(ctx):
    ctx.lake.append(DIM.name, ctx.spark.createDataFrame([(0, "zero"), (1, "one"), (2, "two")], DIM_SCHEMA))
    ctx.lake.append(FACT.name, events(ctx.spark, range(1, 101)))


def warehouse_rows(ctx, sql):
    with connect(ctx.settings.warehouse, "test") as conn:
        return fetch(conn, sql)


def staged_files() -> list[Path]:
    """Files left in the internal publish stage (fakesnow keeps a stage as a folder per database and schema)."""
    from fakesnow.transforms.stage import LOCAL_BUCKET_PATH

    return [p for p in Path(LOCAL_BUCKET_PATH).glob(f"*/*/{loaders.INTERNAL_STAGE}/**/*") if p.is_file()]


def published_rows(entries):
    return {e.source: e.rows_out for e in entries}


def test_first_publish_creates_tables_and_records_state(ctx):
    seed_gold(ctx)
    entries = run_publish(ctx, catalog=CATALOG)
    assert [e.status for e in entries] == ["ok", "ok"]
    assert published_rows(entries) == {DIM.name: 3, FACT.name: 100}
    assert json.loads(entries[1].details)["full_refresh"] is True
    assert warehouse_rows(ctx, "SELECT COUNT(*), SUM(AMOUNT) FROM FCT_EVENT") == [(100, 5050.0)]
    assert state.published_versions(ctx) == {DIM.name: 0, FACT.name: 0}
    # The uploaded slices are gone once loaded: from the internal stage and from the local work folder.
    assert staged_files() == []
    assert not list((ctx.settings.data_dir / "tmp" / "publish").rglob("*.parquet"))


def test_later_change_publishes_only_the_changed_rows_and_rerun_nothing(ctx):
    seed_gold(ctx)
    run_publish(ctx, catalog=CATALOG)
    # 5 updated, 3 new, 2 deleted
    ctx.lake.merge(
        FACT.name, events(ctx.spark, [*range(1, 6), 101, 102, 103], amount=10.0), keys=["event_sk"]
    )
    ctx.lake.delete(FACT.name, "event_sk IN (50, 51)")
    second = run_publish(ctx.for_layer("publish"), catalog=CATALOG)
    assert published_rows(second) == {DIM.name: 0, FACT.name: 10}
    assert warehouse_rows(ctx, "SELECT COUNT(*) FROM FCT_EVENT") == [(101,)]
    assert warehouse_rows(ctx, "SELECT AMOUNT FROM FCT_EVENT WHERE EVENT_SK = 3") == [(30.0,)]
    assert warehouse_rows(ctx, "SELECT COUNT(*) FROM FCT_EVENT WHERE EVENT_SK IN (50, 51)") == [(0,)]
    assert staged_files() == []
    third = run_publish(ctx.for_layer("publish"), catalog=CATALOG)
    assert published_rows(third) == {DIM.name: 0, FACT.name: 0}
    assert all(json.loads(e.details)["up_to_date"] for e in third)


def test_a_snapshot_table_is_replaced_whole_on_each_publish(ctx):
    mart = PublishedTable(FACT.name, FACT.keys, FACT.measures, snapshot=True)
    seed_gold(ctx)
    run_publish(ctx, catalog=(mart,))
    ctx.lake.overwrite(FACT.name, events(ctx.spark, range(1, 51), amount=2.0))
    (entry,) = run_publish(ctx.for_layer("publish"), catalog=(mart,))
    assert entry.status == "ok" and json.loads(entry.details)["full_refresh"] is True
    assert entry.rows_out == 50
    assert warehouse_rows(ctx, "SELECT COUNT(*), SUM(AMOUNT) FROM FCT_EVENT") == [(50, 2550.0)]


def test_crash_between_snowflake_commit_and_state_commit_leaves_no_duplicates(ctx):
    seed_gold(ctx)
    run_publish(ctx, catalog=CATALOG)
    ctx.lake.merge(FACT.name, events(ctx.spark, [1, 2, 200, 201], amount=7.0), keys=["event_sk"])

    def crash(table):
        if table == FACT.name:
            raise SystemError("killed after the Snowflake commit")

    crashed = run_publish(ctx.for_layer("publish"), catalog=CATALOG, after_warehouse_commit=crash)
    assert crashed[-1].status == "failed" and "killed" in crashed[-1].error
    assert state.published_versions(ctx)[FACT.name] == 0  # the state never saw the commit
    replay = run_publish(ctx.for_layer("publish"), catalog=CATALOG)
    assert published_rows(replay)[FACT.name] == 4  # the same slice again
    assert warehouse_rows(ctx, "SELECT COUNT(*), COUNT(DISTINCT EVENT_SK) FROM FCT_EVENT") == [(102, 102)]
    assert all(e.status == "ok" for e in replay)


def test_reconciliation_passes_and_catches_a_planted_mismatch(ctx):
    seed_gold(ctx)
    run_publish(ctx, catalog=CATALOG)
    with connect(ctx.settings.warehouse, "test") as conn:
        assert reconcile(ctx, conn, FACT) == []
        conn.cursor().execute("UPDATE FCT_EVENT SET AMOUNT = AMOUNT + 1 WHERE EVENT_SK = 7")
        problems = reconcile(ctx, conn, FACT)
    assert problems == ["FCT_EVENT sum(amount): gold 5050 != snowflake 5051"]
    ctx.lake.merge(FACT.name, events(ctx.spark, [300]), keys=["event_sk"])
    # the next publish reconciles the whole table and fails loudly
    entries = run_publish(ctx.for_layer("publish"), catalog=CATALOG)
    assert entries[-1].status == "failed" and "reconciliation failed" in entries[-1].error


def test_a_new_gold_column_appears_in_snowflake(ctx):
    seed_gold(ctx)
    run_publish(ctx, catalog=CATALOG)
    from pyspark.sql import functions as F

    wider = events(ctx.spark, [400]).withColumn("channel", F.lit("web"))
    ctx.lake.merge(FACT.name, wider, keys=["event_sk"])
    entries = run_publish(ctx.for_layer("publish"), catalog=CATALOG)
    assert json.loads(entries[-1].details)["columns_added"] == ["channel"]
    assert warehouse_rows(ctx, "SELECT CHANNEL FROM FCT_EVENT WHERE EVENT_SK = 400") == [("web",)]
    assert warehouse_rows(ctx, "SELECT COUNT(CHANNEL) FROM FCT_EVENT") == [(1,)]


def test_a_type_change_fails_with_a_clear_message(ctx):
    with connect(ctx.settings.warehouse, "test") as conn:
        ensure_table(conn, "ANALYTICS", "FCT_EVENT", FACT_SCHEMA)
        changed = T.StructType([T.StructField("event_sk", T.StringType()), *FACT_SCHEMA.fields[1:]])
        with pytest.raises(SchemaChangeError, match=r"ANALYTICS.FCT_EVENT.EVENT_SK is NUMBER in Snowflake"):
            ensure_table(conn, "ANALYTICS", "FCT_EVENT", changed)


def test_spark_connector_options_are_the_documented_ones(ctx, monkeypatch):
    """Option names as the connector's Parameters.scala knows them (it lower-cases keys); query_tag is passed
    through to the JDBC driver; columns map by name into our own staging table, no connector staging."""
    monkeypatch.setenv("SF_PASSWORD", "s3cret-value")
    cfg = ctx.settings.warehouse.model_copy(
        update={
            "kind": "snowflake",
            "account": "acme-xy123",
            "user": "LOADER",
            "warehouse": "XS",
            "role": "PUBLISHER",
            "password_secret": "SF_PASSWORD",
            "method": "spark-connector",
        }
    )
    options = loaders.spark_connector_options(cfg, "coretelecoms:publish:run-1")
    documented = {
        "sfurl", "sfuser", "sfpassword", "pem_private_key", "sfdatabase", "sfschema", "sfwarehouse", "sfrole",
        "column_mapping", "column_mismatch_behavior", "usestagingtable", "truncate_table",
    }  # fmt: skip
    assert {k.lower() for k in options} - {"query_tag"} <= documented
    assert options["sfURL"] == "acme-xy123.snowflakecomputing.com"
    assert options["sfDatabase"] == "CORETELECOMS_DW" and options["sfSchema"] == "ANALYTICS"
    assert options["sfRole"] == "PUBLISHER" and options["query_tag"] == "coretelecoms:publish:run-1"
    assert options["sfPassword"] == "s3cret-value"
    assert options["column_mapping"] == "name" and options["column_mismatch_behavior"] == "error"
    assert options["usestagingtable"] == "off" and "truncate_table" not in options
    sql = loaders.merge_sql("FCT_EVENT", "FCT_EVENT__STAGING", ("event_sk",), ["event_sk", "amount"])
    assert sql == (
        "MERGE INTO FCT_EVENT t USING FCT_EVENT__STAGING s ON t.EVENT_SK = s.EVENT_SK "
        "WHEN MATCHED AND s._DELETED THEN DELETE WHEN MATCHED THEN UPDATE SET t.AMOUNT = s.AMOUNT "
        "WHEN NOT MATCHED AND NOT s._DELETED THEN INSERT (EVENT_SK, AMOUNT) VALUES (s.EVENT_SK, s.AMOUNT)"
    )


def test_secret_connector_options_are_redacted_by_the_session_conf(spark):
    """The redaction regexes every session and cluster run get hide the connector's secret options."""
    import re

    from coretelecoms.spark import REDACTION_CONF

    options = re.compile(REDACTION_CONF["spark.sql.redaction.options.regex"])
    props = re.compile(REDACTION_CONF["spark.redaction.regex"])
    for key in ("pem_private_key", "sfPassword", "sftoken", "sfURL"):
        assert options.search(key), key
    for key in (
        "spark.snowflake.pem_private_key",
        "CORETELECOMS_PG_DSN",
        "AWS_SECRET_ACCESS_KEY",
        "sfPassword",
    ):
        assert props.search(key), key
    assert not options.search("sfDatabase") and not props.search("spark.sql.shuffle.partitions")


def test_connector_publish_without_the_jar_fails_before_touching_anything(ctx):
    seed_gold(ctx)
    ctx.settings.warehouse.method = "spark-connector"
    assert loaders.missing_connector_jars(ctx.spark) == [
        "net.snowflake:spark-snowflake_2.13:3.2.1-spark_4.1",
        "net.snowflake:snowflake-jdbc:4.0.2",
    ]
    with pytest.raises(
        loaders.ConnectorMissingError, match=r"Snowflake Spark connector .*spark-snowflake_2\.13"
    ):
        run_publish(ctx, catalog=CATALOG)
    assert state.published_versions(ctx) == {}
    assert not (ctx.settings.data_dir / "warehouse").exists() or not any(
        (ctx.settings.data_dir / "warehouse").rglob("*")
    )
