"""Settings: YAML per environment, env-var overrides, one-line errors naming the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from coretelecoms.settings import SettingsError, load_settings


def test_local_settings_are_rooted_in_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    s = load_settings("local")
    assert s.lake.root == f"{tmp_path}/lake"
    assert s.sources.postgres.pgdata == f"{tmp_path}/sources/postgres"
    assert s.sources.s3.uri == f"{tmp_path}/sources/s3/core-telecoms-data-lake"
    assert s.warehouse.path == f"{tmp_path}/warehouse"
    assert s.is_local


def test_env_vars_override_any_key_with_types(monkeypatch):
    monkeypatch.setenv("CORETELECOMS__LAKE__ROOT", "/elsewhere/lake")
    monkeypatch.setenv("CORETELECOMS__SPARK__SHUFFLE_PARTITIONS", "16")
    monkeypatch.setenv("CORETELECOMS__SOURCES__POSTGRES__ON_MISSING", "fail")
    s = load_settings("local")
    assert s.lake.root == "/elsewhere/lake"
    assert s.spark.shuffle_partitions == 16
    assert s.sources.postgres.on_missing == "fail"


def test_env_picks_the_file(monkeypatch):
    monkeypatch.setenv("CORETELECOMS_ENV", "emr")
    s = load_settings()
    assert s.env == "emr"
    assert s.lake.root.startswith("s3://")
    assert s.lake.delta_engine == "delta-spark"
    assert not s.is_local


def test_invalid_value_names_the_key_and_the_variable(monkeypatch):
    monkeypatch.setenv("CORETELECOMS__LAKE__DELTA_ENGINE", "duckdb")
    with pytest.raises(SettingsError) as exc:
        load_settings("local")
    message = str(exc.value)
    assert "CORETELECOMS__LAKE__DELTA_ENGINE" in message and "lake.delta_engine" in message
    assert "\n" not in message


def test_missing_key_names_the_key_and_the_file(tmp_path):
    text = (Path(__file__).parents[2] / "conf" / "local.yaml").read_text()
    (tmp_path / "broken.yaml").write_text(text.replace('  root: "{data}/lake"\n', ""))
    with pytest.raises(SettingsError) as exc:
        load_settings("broken", conf_dir=tmp_path)
    assert str(exc.value) == f"{tmp_path / 'broken.yaml'}: setting 'lake.root': field required"


def test_unknown_key_and_missing_file_are_clear(tmp_path):
    (tmp_path / "typo.yaml").write_text(
        (Path(__file__).parents[2] / "conf" / "local.yaml")
        .read_text()
        .replace("delta_engine:", "delta_engin:")
    )
    with pytest.raises(SettingsError, match=r"typo.yaml: setting 'lake.delta_engin': extra inputs"):
        load_settings("typo", conf_dir=tmp_path)
    with pytest.raises(SettingsError, match="settings file not found"):
        load_settings("nope", conf_dir=tmp_path)


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("CORETELECOMS__SPARK__DELTA_JARS", "notjson", "setting 'spark.delta_jars' must be a JSON list"),
        ("CORETELECOMS__SPARK__CONF", "x", "setting 'spark.conf' must be a JSON object"),
        ("CORETELECOMS__LAKE", "x", "setting 'lake' must be a JSON object"),
        ("CORETELECOMS__SPARK__SHUFFLE_PARTITIONS", "x", "setting 'spark.shuffle_partitions': input should"),
        ("CORETELECOMS__MAINTENANCE__ZORDER__silver.x", "id", "setting 'maintenance.zorder.silver.x': input"),
    ],
)
def test_bad_override_values_name_the_variable_and_the_key(monkeypatch, var, value, message):
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as exc:
        load_settings("local")
    assert str(exc.value).startswith(f"{var}: {message}")
    assert "\n" not in str(exc.value)


def test_bad_map_value_is_not_echoed(monkeypatch):
    monkeypatch.setenv("CORETELECOMS__SPARK__CONF", "fs.s3a.secret.key=hunter2")
    with pytest.raises(SettingsError) as exc:
        load_settings("local")
    assert "hunter2" not in str(exc.value)


@pytest.mark.parametrize(
    ("var", "message"),
    [
        ("CORETELECOMS__FOO", "CORETELECOMS__FOO: no setting 'foo'"),
        ("CORETELECOMS__LAKE__ROOTS", "CORETELECOMS__LAKE__ROOTS: no setting 'lake.roots'"),
        (
            "CORETELECOMS__LAKE__ROOT__X",
            "CORETELECOMS__LAKE__ROOT__X: setting 'lake.root' has no keys below it",
        ),
        (
            "CORETELECOMS__DATA_DIR",
            "CORETELECOMS__DATA_DIR: no setting 'data_dir' (set CORETELECOMS_DATA_DIR",
        ),
    ],
)
def test_overrides_that_name_no_setting_fail(monkeypatch, var, message):
    monkeypatch.setenv(var, "1")
    with pytest.raises(SettingsError) as exc:
        load_settings("local")
    assert str(exc.value).startswith(message)


def test_structured_overrides_and_the_plain_variables_still_load(monkeypatch, tmp_path):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CORETELECOMS_ENV", "local")
    monkeypatch.setenv("CORETELECOMS__SPARK__DELTA_JARS", '["/opt/delta.jar"]')
    monkeypatch.setenv("CORETELECOMS__SPARK__CONF__spark.sql.ansi.enabled", "false")
    monkeypatch.setenv("CORETELECOMS__MAINTENANCE__ZORDER", '{"silver.x": ["id"]}')
    monkeypatch.setenv("coretelecoms__sources__postgres__schema", "complaints")
    s = load_settings()
    assert s.spark.delta_jars == ["/opt/delta.jar"]
    assert s.spark.conf == {"spark.sql.ansi.enabled": "false"}
    assert s.maintenance.zorder["silver.x"] == ["id"]
    assert s.sources.postgres.schema_name == "complaints"
    assert s.lake.root == f"{tmp_path}/lake"
