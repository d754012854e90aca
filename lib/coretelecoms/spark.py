"""One SparkSession per process, configured for a 2-core laptop locally and left to the cluster otherwise."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from coretelecoms.logs import verbose
from coretelecoms.settings import Settings

DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"
DELTA_CLASS = "io.delta.tables.DeltaTable"
LOG4J2_FILE = Path(__file__).parent / "conf" / "log4j2.properties"
# Spark's defaults miss the Snowflake connector's key option (pem_private_key) and key ids spelled with `_`.
# spark.redaction.regex hides matching properties and environment variables in the UI, event logs and
# `spark-submit --verbose`; spark.sql.redaction.options.regex hides matching data source options (the
# connector's sfPassword, pem_private_key, token) wherever Spark prints a plan or a command.
REDACTION_CONF = {
    "spark.redaction.regex": "(?i)secret|password|passphrase|token|access[._-]?key|private[._-]?key|pem|dsn",
    "spark.sql.redaction.options.regex": "(?i)url|pem_private_key|private[._-]?key|passphrase|password|secret|token",
}


JAVA_MIN = 17
INSTALL_HINT = (
    "install a JDK 17 (e.g. apt-get install openjdk-17-jdk-headless) and put `java` on PATH or set JAVA_HOME"
)


class JavaMissingError(RuntimeError):
    """Java is missing or older than Spark needs; the message is one line saying what to install."""


def java_major(version_output: str) -> int | None:
    """The major version in `java -version` output: `"17.0.2"` -> 17, `"1.8.0_292"` -> 8, `"21"` -> 21."""
    found = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if not found:
        return None
    major, minor = found.groups()
    return int(minor) if major == "1" and minor else int(major)


def check_java() -> None:
    """Spark 4 needs Java 17+; fail with a plain sentence instead of a py4j gateway error.

    The java checked is the one Spark's launcher runs: `$JAVA_HOME/bin/java`, else `java` on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home, "bin", "java")) if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        where = f"JAVA_HOME={java_home} has no bin/java" if java_home else "no `java` on PATH"
        raise JavaMissingError(f"Java {JAVA_MIN}+ is required by Spark ({where}): {INSTALL_HINT}")
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise JavaMissingError(f"{java} -version failed ({exc}): {INSTALL_HINT}") from None
    major = java_major(done.stderr + done.stdout)
    if major is None:
        raise JavaMissingError(f"{java} -version did not say which Java it is: {INSTALL_HINT}")
    if major < JAVA_MIN:
        raise JavaMissingError(
            f"Java {JAVA_MIN}+ is required by Spark, found Java {major} at {java}: {INSTALL_HINT}"
        )


def delta_jars(settings: Settings) -> list[str]:
    """The delta-spark jars that exist on this machine (EMR ships them; laptops and CI do not)."""
    if settings.lake.delta_engine == "delta-rs":
        return []
    return [jar for jar in settings.spark.delta_jars if Path(jar).exists()]


def session_conf(settings: Settings) -> dict[str, str]:
    """The Spark properties a new session gets: local defaults for 2 cores, Delta when its jars exist,
    then `spark.conf` from settings, which wins."""
    cfg = settings.spark
    conf = {
        "spark.sql.shuffle.partitions": str(cfg.shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
        "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # Parquet that other readers take (delta-rs, COPY INTO): INT96, Spark's default, is legacy.
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    } | REDACTION_CONF
    if settings.is_local:
        conf |= {
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.adaptive.enabled": "true",
            # The parallel collector: on 2 cores G1's concurrent threads compete with the tasks; measured
            # 5-8 % faster on a later day of silver and of gold at scale 1.0.
            # -DontCompileHugeMethods: Spark fuses silver's cleaning, rules and joins into one generated
            # method of 9-12 KB of bytecode, over the JIT's 8,000-byte limit, so it would stay
            # interpreted for good (a later day's silver plan: 23.8 -> 20.7 s once warm).
            # Cached frames are kept uncompressed: building a compressed cache of a day's 700k wide fact
            # rows cost 1.5 s over computing them, uncompressed 0.3-0.7 s (silver no slower, gold ~1 s faster).
            "spark.sql.inMemoryColumnarStorage.compressed": "false",
            # The shipped log4j2 file replaces Spark's default profile (and its "Using Spark's default
            # log4j profile" line): errors only, no start-up warnings. --verbose keeps Spark's profile.
            "spark.driver.extraJavaOptions": (
                ""
                if verbose()
                else f"-Dlog4j2.configurationFile={LOG4J2_FILE.as_uri()} -Dlog4j2.level=ERROR "
            )
            + "-XX:+UseParallelGC -XX:-DontCompileHugeMethods",
            # Local Spark writes temp shuffle files here; keep them off /tmp-limited machines' roots.
            "spark.local.dir": str(settings.data_dir / "tmp" / "spark"),
            "spark.sql.warehouse.dir": str(settings.data_dir / "tmp" / "spark-warehouse"),
        }
        if cfg.driver_memory:
            conf["spark.driver.memory"] = cfg.driver_memory
    jars = delta_jars(settings)
    if jars:
        conf |= {
            "spark.jars": ",".join(jars),
            "spark.sql.extensions": DELTA_EXTENSION,
            "spark.sql.catalog.spark_catalog": DELTA_CATALOG,
        }
    return conf | cfg.conf


def get_spark(settings: Settings) -> SparkSession:
    """Return the active session, or build one. Local defaults suit 2 cores and 24 GiB."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    check_java()
    # Workers must run the same interpreter as the driver (the project venv).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if settings.is_local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    conf = session_conf(settings) | {"spark.app.name": settings.spark.app_name}
    if settings.spark.master:
        conf["spark.master"] = settings.spark.master
    if settings.is_local and not verbose():
        launch_quiet_jvm(conf)
    spark = SparkSession.builder.config(map=conf).getOrCreate()
    if not verbose():
        spark.sparkContext.setLogLevel("ERROR")
    return spark


# What the local JVM prints on stderr before our log4j2 file can apply: the module system's notice (Spark's
# launcher passes --add-modules=jdk.incubator.vector; no JVM flag silences it) and Spark's shell banner on
# the default log level. Every other line (errors included) is passed on.
JVM_NOISE = ("WARNING: Using incubator modules", "Setting default log level", "To adjust logging level")


def launch_quiet_jvm(conf: dict[str, str]) -> None:
    """Start the driver JVM the way PySpark does (PySpark's launch_gateway, its documented hook for
    capturing the JVM's output), with stderr piped through a filter that drops JVM_NOISE."""
    import threading

    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None or "PYSPARK_GATEWAY_PORT" in os.environ:
        return  # a JVM is already up (or spark-submit started this process): nothing to launch
    gateway = launch_gateway(SparkConf(loadDefaults=False).setAll(conf.items()), {"stderr": subprocess.PIPE})

    def relay(stream) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            if not line.startswith(JVM_NOISE):
                sys.stderr.write(line)
                sys.stderr.flush()

    threading.Thread(target=relay, args=(gateway.proc.stderr,), name="jvm-stderr", daemon=True).start()
    SparkContext._gateway, SparkContext._jvm = gateway, gateway.jvm


def has_class(spark: SparkSession, name: str) -> bool:
    """True when the JVM class loads in this session (jars given with --jars/spark.jars included)."""
    jvm = spark.sparkContext._jvm
    try:
        jvm.java.lang.Class.forName(name, True, jvm.Thread.currentThread().getContextClassLoader())
        return True
    except Exception:
        return False


def has_delta_spark(spark: SparkSession) -> bool:
    """True when the delta-spark JVM classes are loadable in this session."""
    return has_class(spark, DELTA_CLASS)


def missing_delta_reason(spark: SparkSession, configured: list[str]) -> str:
    """Why delta-spark cannot run here, in one line: which configured jars this host lacks, and what the
    Delta folder of the image holds instead (a renamed jar on a new EMR release shows up here)."""
    absent = [jar for jar in configured if "://" not in jar and not Path(jar).exists()]
    if not configured:
        what = "spark.delta_jars is empty"
    elif absent:
        folder = Path(absent[0]).parent
        found = sorted(p.name for p in folder.glob("*.jar")) if folder.is_dir() else []
        what = f"missing on this host: {', '.join(absent)}" + (
            f" ({folder} holds: {', '.join(found)})" if found else f" ({folder} has no jars)"
        )
    else:
        jars = spark.sparkContext.getConf().get("spark.jars", "")
        what = f"the jars exist but {DELTA_CLASS} does not load (spark.jars={jars or 'unset'})"
    return f"delta-spark is not usable: {what}"
