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
# An error the JVM logs still reaches stderr through the filter.
spark.sparkContext._jvm.org.apache.logging.log4j.LogManager.getLogger("probe").error("probe: disk full")
print("ok")
"""


def start_session(tmp_path, **env):
    env = os.environ | {"CORETELECOMS_DATA_DIR": str(tmp_path), "CORETELECOMS_ENV": "local"} | env
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    return [line for line in done.stderr.splitlines() if line.strip()]


def test_a_local_session_starts_without_a_line_on_stderr_and_verbose_brings_them_back(tmp_path):
    # Quiet: not Spark's warnings, not the JVM's incubator notice, not PySpark's log-level banner; errors pass.
    lines = start_session(tmp_path)
    assert len(lines) == 1 and lines[0].endswith("ERROR probe: probe: disk full"), lines
    # --verbose (CORETELECOMS_VERBOSE=1): Spark's own profile and the JVM's lines are shown again.
    loud = "\n".join(start_session(tmp_path, CORETELECOMS_VERBOSE="1"))
    assert "WARNING: Using incubator modules" in loud and "log4j" in loud and "probe: disk full" in loud
