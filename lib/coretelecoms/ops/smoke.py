"""The cluster's first-run proof: what only production can run, run once right after `terraform apply`.

`jobs/smoke.py` (submitted by `coretelecoms emr smoke`) runs three checks on the cluster, each on scratch space
it removes or leaves clearly named, and writes a JSON report the CLI reads back:
- delta-contract: every case of coretelecoms.lake.contract (the suite CI runs on delta-rs) against the
  configured engine, each on its own empty table under `<scratch>/contract/`;
- end-to-end: a tiny generated day through landing, bronze, silver and gold into `<scratch>/lake`;
- connector: the Snowflake Spark connector into scratch tables (write, MERGE, read back, drop), only
  where warehouse.method is spark-connector (COPY INTO runs in every publish already).
Locally the same job runs on delta-rs (tests/deploy/test_deploy_smoke.py), so the report and its parsing are tested.
"""

from __future__ import annotations

import json
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from pyspark.sql import SparkSession

from coretelecoms.settings import (
    GsheetsSourceSettings,
    PostgresSourceSettings,
    S3SourceSettings,
    Settings,
)

REPORT = "report.json"
SMOKE_DATE = date(2025, 11, 20)


@dataclass
class Check:
    name: str
    status: str  # pass | fail | skip
    seconds: float
    detail: str = ""


def scratch_root(settings: Settings, smoke_id: str) -> str:
    return f"{settings.lake.root.rstrip('/')}/_smoke/{smoke_id}"


def _timed(name: str, fn: Callable[[], str]) -> Check:
    began = time.perf_counter()
    try:
        detail = fn()
        status = "pass"
    except Exception as exc:
        status = "fail"
        where = traceback.extract_tb(exc.__traceback__)[-1]
        detail = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} ({where.name}:{where.lineno})"
    return Check(name, status, round(time.perf_counter() - began, 1), detail[:500])


def delta_contract(settings: Settings, spark: SparkSession, scratch: str) -> list[Check]:
    from coretelecoms.lake import engine_for
    from coretelecoms.lake.contract import CASES

    checks = []
    for case in CASES:

        def run(case=case) -> str:
            lake = engine_for(
                spark,
                f"{scratch}/contract/{case.__name__}",
                settings.lake.delta_engine,
                delta_jars=list(settings.spark.delta_jars),
            )
            case(spark, lake)
            return lake.name

        checks.append(_timed(f"delta-contract {case.__name__}", run))
    return checks


def local_sources(settings: Settings, lake_root: str, work: Path) -> Settings:
    """The running settings with a scratch lake and generated sources on the driver's disk."""
    out = settings.model_copy(deep=True)
    out.lake.root = lake_root
    out.sources.s3 = S3SourceSettings(uri=str(work / "sources" / "s3" / "core-telecoms-data-lake"))
    out.sources.postgres = PostgresSourceSettings(embedded=True, pgdata=str(work / "sources" / "postgres"))
    out.sources.gsheets = GsheetsSourceSettings(
        mode="export", export_path=str(work / "sources" / "gsheets" / "agents.csv")
    )
    out.data_dir = work
    return out


def end_to_end(settings: Settings, spark: SparkSession, scratch: str, scale: float = 0.0005) -> str:
    """One generated day through landing → gold on the configured engine; raises on any failed entry."""
    from coretelecoms.context import RunContext
    from coretelecoms.lake import open_lake
    from coretelecoms.runner import layer_function
    from coretelecoms.sources import dsn, generate, local_postgres, stop

    work = Path(tempfile.mkdtemp(prefix="coretelecoms-smoke-"))
    s = local_sources(settings, f"{scratch}/lake", work)
    server = local_postgres(s.sources.postgres.pgdata)
    try:
        generate(work / "sources", scale=scale, start=SMOKE_DATE, days=1, seed=7, pg_dsn=dsn(server))
        ctx = RunContext(s, spark, open_lake(s, spark), "landing")
        for layer in ("landing", "bronze", "silver", "gold"):
            ctx = ctx.for_layer(layer)
            failed = [e for e in layer_function(layer)(ctx, SMOKE_DATE) if e.status == "failed"]
            if failed:
                raise RuntimeError(f"{layer} {failed[0].source}: {failed[0].error}")
        facts = ctx.lake.count("gold.fct_complaint")
        if not facts:
            raise RuntimeError("gold.fct_complaint is empty after one generated day")
        return f"{facts} complaint facts on {ctx.lake.name} under {scratch}/lake"
    finally:
        stop(s.sources.postgres.pgdata)


def connector_round_trip(settings: Settings, spark: SparkSession, smoke_id: str) -> str:
    """Write through the connector into two scratch tables of the publish schema, MERGE a change, read it
    back, drop them. The publish schema, not a scratch schema: the loader role holds exactly the grants
    publish needs there (USAGE, CREATE TABLE, CREATE STAGE), and no CREATE SCHEMA on the database."""
    from pyspark.sql import types as T

    from coretelecoms.publish import loaders
    from coretelecoms.publish.warehouse import connect, query_tag

    loaders.require_spark_connector(spark)
    cfg = settings.warehouse
    prefix = f"SMOKE_{smoke_id.upper().replace('-', '_')}"
    target, staging = f"{prefix}_TARGET", f"{prefix}_STAGING"
    tag = query_tag("smoke", smoke_id)
    options = loaders.spark_connector_options(cfg, tag)
    shape = T.StructType([T.StructField("id", T.LongType()), T.StructField("name", T.StringType())])
    with connect(cfg, tag) as conn:
        cur = conn.cursor()
        try:
            cur.execute(f"CREATE TRANSIENT TABLE {target} (ID NUMBER(19,0), NAME VARCHAR)")
            cur.execute(
                f"CREATE TRANSIENT TABLE {staging} (ID NUMBER(19,0), NAME VARCHAR, {loaders.DELETED} BOOLEAN)"
            )
            first = spark.createDataFrame([(1, "one"), (2, "two")], shape)
            loaders.write_with_spark_connector(first, options, target)
            change = spark.createDataFrame([(2, "TWO", False), (3, "three", False), (1, None, True)],
                                           "id long, name string, _DELETED boolean")  # fmt: skip
            loaders.write_with_spark_connector(change, options, staging)
            cur.execute(loaders.merge_sql(target, staging, ("id",), ["id", "name"]))
            back = spark.read.format(loaders.SNOWFLAKE_SOURCE).options(**options).option("dbtable", target)
            got = sorted((int(r["ID"]), r["NAME"]) for r in back.load().collect())
            if got != [(2, "TWO"), (3, "three")]:
                raise RuntimeError(f"read back {got}, expected [(2, 'TWO'), (3, 'three')]")
        finally:
            for table in (target, staging):
                cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.close()
    return f"write, MERGE, read back and drop {target} and {staging} in {cfg.database}.{cfg.schema_name}"


def run_smoke(settings: Settings, spark: SparkSession, smoke_id: str) -> list[Check]:
    scratch = scratch_root(settings, smoke_id)
    checks = delta_contract(settings, spark, scratch)
    checks.append(_timed("end-to-end landing→gold", lambda: end_to_end(settings, spark, scratch)))
    if settings.warehouse.method == "spark-connector":
        checks.append(
            _timed("snowflake spark connector", lambda: connector_round_trip(settings, spark, smoke_id))
        )
    else:
        checks.append(Check("snowflake spark connector", "skip", 0.0, "warehouse.method is copy-into"))
    write_report(scratch, checks)
    return checks


def write_report(scratch: str, checks: list[Check]) -> str:
    body = json.dumps({"checks": [asdict(c) for c in checks]}, indent=1)
    target = f"{scratch}/{REPORT}"
    if target.startswith("s3://"):
        import boto3

        from coretelecoms.landing.store import split_s3

        bucket, key = split_s3(target)
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body.encode())
    else:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(body)
    return target


def parse_report(body: str) -> list[Check]:
    """The checks of a report; a report that is not one raises ValueError naming what is wrong."""
    try:
        data = json.loads(body)
        checks = [Check(**c) for c in data["checks"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a smoke report ({type(exc).__name__}: {exc})") from None
    bad = [c.status for c in checks if c.status not in ("pass", "fail", "skip")]
    if bad or not checks:
        raise ValueError(f"not a smoke report (statuses {bad or 'none'})")
    return checks


def passed(checks: list[Check]) -> bool:
    return all(c.status != "fail" for c in checks)
