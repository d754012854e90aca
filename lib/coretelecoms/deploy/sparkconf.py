"""The spark-submit options a cluster run needs, from the settings file: one definition for `spark-submit.sh`
(EMR mode), EMR Serverless job runs and the Step Functions tasks.

`python -m coretelecoms.deploy.sparkconf --env emr` prints them one per line for the shell script.
"""

from __future__ import annotations

import argparse
import sys

from coretelecoms.deploy.jars import jar_paths
from coretelecoms.settings import Settings, SettingsError, load_settings
from coretelecoms.spark import DELTA_CATALOG, DELTA_EXTENSION, REDACTION_CONF

S3_DYNAMODB_LOG_STORE = "io.delta.storage.S3DynamoDBLogStore"


def cluster_conf(settings: Settings) -> dict[str, str]:
    """Spark properties for a cluster run: Delta (unless the lake runs on delta-rs), the redaction of secret
    options, then the settings' spark.conf.

    The catalog is Spark's in-memory one. EMR points the session catalog at the Glue Data Catalog when asked
    (spark.hadoop.hive.metastore.client.factory.class); the jobs address every Delta table by path and
    register nothing, so Glue would only add a dependency and account-wide permissions. in-memory means Spark
    never starts a Hive client at all, whatever the image's defaults say, and the role needs no glue:*.

    On an s3:// lake delta-spark commits through S3DynamoDBLogStore: a conditional put in the DynamoDB table
    lake.commit_table decides which of two writers gets version N, so no commit overwrites another."""
    conf: dict[str, str] = {
        "spark.sql.shuffle.partitions": str(settings.spark.shuffle_partitions),
        "spark.sql.catalogImplementation": "in-memory",
    }
    if settings.lake.delta_engine != "delta-rs" and settings.spark.delta_jars:
        conf |= {"spark.sql.extensions": DELTA_EXTENSION, "spark.sql.catalog.spark_catalog": DELTA_CATALOG}
        if settings.lake.root.startswith("s3://"):
            if not settings.lake.commit_table:
                raise SettingsError(
                    "setting 'lake.commit_table' is not set: delta-spark on an s3:// lake needs the DynamoDB "
                    "commit table (terraform variable delta_commit_table_name), or two writers can lose a commit"
                )
            conf |= {
                "spark.delta.logStore.s3.impl": S3_DYNAMODB_LOG_STORE,
                f"spark.{S3_DYNAMODB_LOG_STORE}.ddb.tableName": settings.lake.commit_table,
                f"spark.{S3_DYNAMODB_LOG_STORE}.ddb.region": settings.emr.region,
            }
    return conf | REDACTION_CONF | dict(settings.spark.conf)


def jars_dir(settings: Settings) -> str:
    """Where a cluster run finds the pinned connector jars: spark.jars_dir, else `<emr.artifacts_uri>/jars`
    (what `coretelecoms emr package --upload` fills)."""
    return settings.spark.jars_dir or f"{settings.emr.artifacts_uri.rstrip('/')}/jars"


def cluster_jars(settings: Settings, connector_dir: str | None = None) -> list[str]:
    """The Delta jars as the cluster sees them (EMR: /usr/share/aws/delta/lib, checked by the job at start),
    then the Snowflake connector and its JDBC driver when the warehouse publishes through the connector."""
    jars = [] if settings.lake.delta_engine == "delta-rs" else list(settings.spark.delta_jars)
    if settings.warehouse.method == "spark-connector":
        jars += jar_paths(connector_dir or jars_dir(settings))
    return jars


def submit_args(
    settings: Settings, extra_conf: dict[str, str] | None = None, connector_dir: str | None = None
) -> list[str]:
    """`--jars a,b --conf k=v …` as an argument list."""
    args: list[str] = []
    jars = cluster_jars(settings, connector_dir)
    if jars:
        args += ["--jars", ",".join(jars)]
    for key, value in (cluster_conf(settings) | (extra_conf or {})).items():
        args += ["--conf", f"{key}={value}"]
    return args


def submit_parameters(
    settings: Settings, extra_conf: dict[str, str] | None = None, connector_dir: str | None = None
) -> str:
    """The same options as one string, as EMR Serverless `sparkSubmitParameters` wants them (split on spaces)."""
    args = submit_args(settings, extra_conf, connector_dir)
    bad = [a for a in args if not a or any(c.isspace() for c in a)]
    if bad:
        raise SettingsError(
            f"spark option {bad[0]!r} contains whitespace; sparkSubmitParameters cannot carry it"
        )
    return " ".join(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coretelecoms.deploy.sparkconf", description=__doc__)
    parser.add_argument("--env", help="settings file conf/<env>.yaml (default CORETELECOMS_ENV or local)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.env)
    except SettingsError as exc:
        print(f"settings error: {exc}", file=sys.stderr)
        return 2
    for arg in submit_args(settings):
        if "\n" in arg:
            print(f"settings error: spark option {arg!r} contains a newline", file=sys.stderr)
            return 2
        print(arg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
