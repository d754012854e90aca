"""Quiet by default: the local driver logs through the shipped log4j2 file, and a session starts without
Spark's start-up warnings (the lines still printed, and why, are named in the test)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources

from coretelecoms.settings import load_settings
from coretelecoms.spark import LOG4J2_FILE, session_conf


def test_the_local_session_points_log4j2_at_the_file_shipped_in_the_package():
    shipped = resources.files("coretelecoms") / "conf" / "log4j2.properties"
    assert shipped.is_file() and "rootLogger.level = error" in shipped.read_text()
    options = session_conf(load_settings("local"))["spark.driver.extraJavaOptions"].split()
    assert f"-Dlog4j2.configurationFile={LOG4J2_FILE.as_uri()}" in options
    assert {"-XX:+UseParallelGC", "-XX:-DontCompileHugeMethods"} <= set(options)
    # On a cluster, logging is the cluster's business.
    emr = session_conf(load_settings("emr")).get("spark.driver.extraJavaOptions", "")
    assert "log4j2.configurationFile" not in emr


SCRIPT = """
from coretelecoms.settings import load_settings
from coretelecoms.spark import get_spark
spark = get_spark(load_settings("local"))
spark.range(10).selectExpr("sum(id)").collect()
print("ok")
"""


def test_a_local_session_starts_without_spark_start_up_lines(tmp_path):
    env = os.environ | {"CORETELECOMS_DATA_DIR": str(tmp_path), "CORETELECOMS_ENV": "local"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    noise = ("NativeCodeLoader", "log4j", " WARN ", "Utils:", "SparkConf:")
    assert not [line for line in lines if any(n in line for n in noise)], done.stderr
    # Left, and known: the JVM's incubator warning (Spark's launcher adds `--add-modules=jdk.incubator.vector`
    # before any option of ours applies; no JVM flag silences it) and PySpark's two-line shell banner
    # about the default log level.
    known = ("WARNING: Using incubator modules", "Setting default log level", "To adjust logging level")
    assert [line for line in lines if not line.startswith(known)] == [], done.stderr
