"""The two ways a changed slice reaches a Snowflake staging table, and the SQL that applies it.

- copy-into (snowflake-connector-python, works everywhere): Parquet files -> stage -> COPY INTO staging.
- spark-connector (net.snowflake.spark.snowflake, production): the executors write the staging table through
  the connector. Chosen only by `warehouse.method`; a run configured for it without the connector on the
  classpath fails before it touches anything (`require_spark_connector`), it never falls back to COPY INTO.
Either way a MERGE on the keys then applies staging to the target, so replaying a slice is harmless.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession

from coretelecoms.deploy.jars import CONNECTOR, JDBC
from coretelecoms.publish.warehouse import connect_args
from coretelecoms.settings import WarehouseSettings
from coretelecoms.spark import has_class

SNOWFLAKE_SOURCE = "net.snowflake.spark.snowflake"
INTERNAL_STAGE = "CORETELECOMS_PUBLISH_STAGE"
DELETED = "_DELETED"
ROWS_PER_FILE = 500_000


class ConnectorMissingError(RuntimeError):
    """warehouse.method is spark-connector but the connector's jars are not on the classpath."""


def missing_connector_jars(spark: SparkSession) -> list[str]:
    """The Maven coordinates of the pinned jars whose classes do not load in this session."""
    return [jar.coordinate for jar in (CONNECTOR, JDBC) if not has_class(spark, jar.main_class)]


def require_spark_connector(spark: SparkSession) -> None:
    missing = missing_connector_jars(spark)
    if missing:
        raise ConnectorMissingError(
            "warehouse.method is spark-connector but the Snowflake Spark connector is not on the classpath: "
            f"missing {', '.join(missing)} (pass them with --jars, see infra/README.md; or set "
            "warehouse.method: copy-into)"
        )


def merge_sql(target: str, staging: str, keys: tuple[str, ...], columns: list[str]) -> str:
    """Deletes flagged rows, updates matched ones, inserts new ones."""
    on = " AND ".join(f"t.{k.upper()} = s.{k.upper()}" for k in keys)
    cols = [c.upper() for c in columns]
    updates = ", ".join(f"t.{c} = s.{c}" for c in cols if c not in {k.upper() for k in keys})
    matched_update = f" WHEN MATCHED THEN UPDATE SET {updates}" if updates else ""
    return (
        f"MERGE INTO {target} t USING {staging} s ON {on}"
        f" WHEN MATCHED AND s.{DELETED} THEN DELETE{matched_update}"
        f" WHEN NOT MATCHED AND NOT s.{DELETED} THEN INSERT ({', '.join(cols)})"
        f" VALUES ({', '.join('s.' + c for c in cols)})"
    )


def copy_sql(table: str, location: str) -> str:
    # Files PUT into our internal stage are removed once loaded: the stage would otherwise keep a copy of
    # every slice ever published. An external stage's files are left to the bucket's lifecycle rules.
    purge = " PURGE = TRUE" if location.startswith(f"@{INTERNAL_STAGE}/") else ""
    return (
        f"COPY INTO {table} FROM {location} FILE_FORMAT = (TYPE = PARQUET) "
        f"MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE{purge}"
    )


def write_parquet_local(df: DataFrame, folder: Path) -> list[Path]:
    """The slice as Parquet files of at most ROWS_PER_FILE rows (what PUT uploads), written by Spark's
    tasks: collecting a 2.5M-row dimension through the driver ran a 4 GB driver out of heap."""
    shutil.rmtree(folder, ignore_errors=True)
    df.write.option("maxRecordsPerFile", ROWS_PER_FILE).parquet(str(folder))
    return sorted(folder.glob("part-*.parquet"))


def stage_slice(
    conn: Any, cfg: WarehouseSettings, df: DataFrame, table: str, run_id: str, work_dir: Path
) -> tuple[str, int]:
    """Put the slice where COPY INTO can read it; returns the stage location and the rows written.

    The rows are counted from the written files, so the slice is computed once and never cached (caching a
    1.7M-row snapshot cost more than writing it)."""
    cur = conn.cursor()
    try:
        if cfg.external_stage and cfg.external_stage_url:
            url = f"{cfg.external_stage_url.rstrip('/')}/{table}/{run_id}"
            df.write.mode("overwrite").parquet(url)
            rows = df.sparkSession.read.parquet(url).count()  # from the Parquet footers
            return f"@{cfg.external_stage}/{table}/{run_id}/", rows
        cur.execute(f"CREATE STAGE IF NOT EXISTS {INTERNAL_STAGE}")
        # One folder per table and run: COPY INTO reads exactly this slice, never an older one.
        location = f"@{INTERNAL_STAGE}/{table}/{run_id}"
        rows = 0
        folder = work_dir / table / run_id
        try:
            for path in write_parquet_local(df, folder):
                rows += pq.ParquetFile(path).metadata.num_rows
                # fakesnow (and Parquet in general) needs AUTO_COMPRESS=FALSE: Parquet is compressed already.
                cur.execute(f"PUT 'file://{path}' {location} AUTO_COMPRESS=FALSE OVERWRITE=TRUE")
        finally:
            shutil.rmtree(folder, ignore_errors=True)  # uploaded: the stage holds them now
        return location, rows
    finally:
        cur.close()


def spark_connector_options(cfg: WarehouseSettings, tag: str) -> dict[str, str]:
    """Options for the Snowflake Spark connector, from the same settings and secrets as the Python path.

    The connector appends into our own staging table, which `stage_table` has just created empty (LIKE the
    target, plus the _DELETED flag), so:
    - column_mapping=name matches DataFrame columns to the staging table's by name, not position (the
      connector reads the existing table's columns; a column missing on either side is an error, not a
      silent shift);
    - usestagingtable=off: the connector's own staging (a `<table>_staging_<random>` table swapped in on
      success) guards a table readers see; ours is private and replaced on every publish, and the MERGE
      into the target runs only after the write succeeded;
    - query_tag is not a connector option: the connector hands unknown options to the JDBC driver, which
      sets it as the session's QUERY_TAG, so the warehouse's query history names the run.
    The secret options (sfPassword, pem_private_key) are hidden from plans and logs by
    spark.sql.redaction.options.regex (coretelecoms.spark.REDACTION_CONF); never log this dict.
    """
    args = connect_args(cfg, tag)
    options = {
        "sfURL": f"{cfg.account}.snowflakecomputing.com",
        "sfUser": cfg.user or "",
        "sfDatabase": cfg.database,
        "sfSchema": cfg.schema_name,
        "sfWarehouse": cfg.warehouse or "",
        "query_tag": tag,
        "column_mapping": "name",
        "column_mismatch_behavior": "error",
        "usestagingtable": "off",
    }
    if cfg.role:
        options["sfRole"] = cfg.role
    if "private_key" in args:
        import base64

        options["pem_private_key"] = base64.b64encode(args["private_key"]).decode()
    elif "password" in args:
        options["sfPassword"] = args["password"]
    return options


def write_with_spark_connector(df: DataFrame, options: dict[str, str], staging: str) -> None:
    """Append the slice to the (empty, just created) staging table; see spark_connector_options."""
    upper = df.toDF(*[c.upper() for c in df.columns])  # the staging table's names, as ddl.py creates them
    upper.write.format(SNOWFLAKE_SOURCE).options(**options).option("dbtable", staging).mode("append").save()
