"""The generated files parse with Spark, and the embedded PostgreSQL starts, is reused and stops."""

from __future__ import annotations

import psycopg2
from source_readers import csv_records

from coretelecoms.sources import dsn, local_postgres, stop

CUSTOMERS = "s3/core-telecoms-data-lake/customers/customers_dataset.csv"


def test_spark_reads_the_multi_line_addresses(spark, clean):
    root, manifest, _ = clean
    frame = (
        spark.read.option("header", True)
        .option("multiLine", True)
        .option("escape", '"')
        .csv(str(root / CUSTOMERS))
    )
    assert frame.columns == [
        "customer_id",
        "name",
        "Gender",
        "DATE of biRTH",
        "signup_date",
        "email",
        "address",
    ]
    rows = frame.collect()
    assert len(rows) == manifest["files"][CUSTOMERS]["records"]
    expected = {r["customer_id"]: r["address"] for r in csv_records(root / CUSTOMERS)[1]}
    assert {r["customer_id"]: r["address"] for r in rows} == expected
    assert all(r["address"].count("\n") == 1 for r in rows)


def test_local_postgres_is_reused_then_stopped_and_restarted(tmp_path):
    pgdata = tmp_path / "nested" / "postgres"
    server = local_postgres(pgdata)
    assert local_postgres(pgdata) is server
    with psycopg2.connect(dsn(server)) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)")
    conn.close()
    stop(pgdata)
    assert not (pgdata / "postmaster.pid").exists()
    again = local_postgres(pgdata)
    with psycopg2.connect(dsn(again, "postgres")) as conn, conn.cursor() as cur:
        cur.execute("SELECT x FROM kept")
        assert cur.fetchone() == (7,)
    conn.close()
    stop(pgdata)
