"""The Spark session builder: Java 17+ checked up front with one clear line."""

from __future__ import annotations

import pytest

from coretelecoms.spark import JavaMissingError, check_java, java_major


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
