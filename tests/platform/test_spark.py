"""The Spark session builder: Java 17+ checked up front, the session's settings, one session per process."""

from __future__ import annotations

import pytest

from coretelecoms.settings import load_settings
from coretelecoms.spark import JavaMissingError, check_java, get_spark, java_major, session_conf


def fake_java(folder, version_line: str):
    """A `java` that answers `-version` the way a JDK does (on stderr)."""
    folder.mkdir(exist_ok=True)
    java = folder / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(0o755)
    return folder


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_292"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ('openjdk version "11.0.2" 2019-01-15', 11),
        ("no version here", None),
    ],
)
def test_java_major(output, major):
    assert java_major(output) == major


def test_old_java_on_path_fails_in_one_line(monkeypatch, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(fake_java(tmp_path / "bin", 'openjdk version "11.0.2" 2019-01-15')))
    with pytest.raises(JavaMissingError) as exc:
        check_java()
    assert str(exc.value).startswith("Java 17+ is required by Spark, found Java 11 at ")
    assert "\n" not in str(exc.value)


def test_missing_java_and_a_wrong_java_home_fail(monkeypatch, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(JavaMissingError, match=r"no `java` on PATH"):
        check_java()
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    with pytest.raises(JavaMissingError, match=r"JAVA_HOME=.*jdk has no bin/java"):
        check_java()


def test_java_home_wins_over_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(fake_java(tmp_path / "old", 'openjdk version "11.0.2"')))
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    fake_java(tmp_path / "jdk", "")
    fake_java(tmp_path / "jdk" / "bin", 'openjdk version "17.0.15" 2025-04-15')
    check_java()


def test_local_session_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    conf = session_conf(load_settings("local"))
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.sql.execution.arrow.pyspark.enabled"] == "true"
    assert conf["spark.sql.shuffle.partitions"] == "4"
    assert conf["spark.ui.enabled"] == "false"
    assert conf["spark.driver.memory"] == load_settings("local").spark.driver_memory
    assert conf["spark.local.dir"] == str(tmp_path / "tmp" / "spark")
    # No Delta jars on this machine: no Delta extension to fail on at start-up.
    assert "spark.sql.extensions" not in conf and "spark.jars" not in conf


def test_settings_shape_the_session(monkeypatch, tmp_path):
    jar = tmp_path / "delta-spark.jar"
    jar.write_text("")
    monkeypatch.setenv("CORETELECOMS__SPARK__SHUFFLE_PARTITIONS", "16")
    monkeypatch.setenv("CORETELECOMS__SPARK__DELTA_JARS", f'["{jar}", "{tmp_path / "absent.jar"}"]')
    monkeypatch.setenv("CORETELECOMS__SPARK__CONF", '{"spark.sql.session.timeZone": "Europe/London"}')
    conf = session_conf(load_settings("local"))
    assert conf["spark.sql.shuffle.partitions"] == "16"
    assert conf["spark.jars"] == str(jar)
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf["spark.sql.session.timeZone"] == "Europe/London"


def test_cluster_mode_leaves_ui_and_memory_to_the_cluster():
    conf = session_conf(load_settings("emr"))
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.sql.shuffle.partitions"] == "64"
    assert not any(key.startswith(("spark.ui.", "spark.driver.", "spark.local.")) for key in conf)


def test_one_session_per_process(spark):
    settings = load_settings("local")
    first, second = get_spark(settings), get_spark(settings)
    assert first._jsparkSession.equals(spark._jsparkSession)
    assert second._jsparkSession.equals(spark._jsparkSession)
    # The running session is reused as it is, not rebuilt from settings.
    assert first.sparkContext.appName == spark.sparkContext.appName != settings.spark.app_name


def test_a_delta_spark_lake_without_its_jars_names_what_is_missing_and_what_is_there(spark, tmp_path):
    """How a renamed jar on a new EMR release shows up: the job fails at start, naming the absent jar and the
    jars the Delta folder holds instead."""
    import pytest

    from coretelecoms.lake import DeltaEngineError, engine_for

    folder = tmp_path / "delta" / "lib"
    folder.mkdir(parents=True)
    (folder / "delta-spark_2.13-4.2.0-amzn-0.jar").write_bytes(b"")
    wanted = [str(folder / "delta-spark.jar"), str(folder / "delta-storage.jar")]
    with pytest.raises(DeltaEngineError) as failure:
        engine_for(spark, str(tmp_path / "lake"), "delta-spark", delta_jars=wanted)
    message = str(failure.value)
    assert "\n" not in message and message.startswith("lake.delta_engine is delta-spark but")
    assert f"missing on this host: {wanted[0]}, {wanted[1]}" in message
    assert "holds: delta-spark_2.13-4.2.0-amzn-0.jar" in message
    # auto never fails: it takes delta-rs here, and says why in the log.
    assert engine_for(spark, str(tmp_path / "lake"), "auto", delta_jars=wanted).name == "delta-rs"
