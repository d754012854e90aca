"""Typed settings: `conf/<env>.yaml`, overridden key by key by `CORETELECOMS__SECTION__KEY` variables.

`CORETELECOMS_ENV` (or `--env`) picks the file; `CORETELECOMS_DATA_DIR` (default `./data`) replaces `{data}`
in every path, so one variable moves the whole local platform. Secrets are never values here, only
references (an environment variable name or a Secrets Manager ARN) resolved by `coretelecoms.secrets`.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, get_origin

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings import SettingsError as EnvParseError

ENV_PREFIX = "CORETELECOMS__"
REPO_ROOT = Path(__file__).resolve().parents[2]


class SettingsError(Exception):
    """A missing or invalid setting; the message is one line naming the key and where it came from."""


def _reference(value: str | None) -> str | None:
    """A secret setting names a variable or an ARN; a pasted DSN or key is refused, never echoed."""
    from coretelecoms.secrets import SecretError, check_reference

    if value and not (value.startswith("arn:") and "<" in value):  # placeholders are refused when used
        try:
            check_reference(value, what="this setting")
        except SecretError as exc:
            raise ValueError(str(exc)) from None
    return value


SecretRef = Annotated[str | None, AfterValidator(_reference)]


class Section(BaseModel):
    # A rejected value is never echoed: it may be a secret pasted into the wrong key.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)


class LakeSettings(Section):
    root: str
    delta_engine: Literal["auto", "delta-spark", "delta-rs"] = "auto"
    # DynamoDB table through which delta-spark commits to an s3:// lake (S3DynamoDBLogStore); delta-rs uses
    # S3 conditional writes and needs none. Terraform creates it (infra/dynamodb.tf).
    commit_table: str | None = None


class SparkSettings(Section):
    master: str | None = "local[*]"
    app_name: str = "coretelecoms"
    driver_memory: str | None = None
    shuffle_partitions: int = 4
    delta_jars: list[str] = []
    # Where cluster runs find the pinned Snowflake connector jars (coretelecoms/deploy/jars.json): an s3://
    # prefix or a folder on the image; null = <emr.artifacts_uri>/jars, where `emr package --upload` puts them.
    jars_dir: str | None = None
    conf: dict[str, str] = {}


class S3SourceSettings(Section):
    uri: str
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    # The source account's key pair by reference, separate from the lake's: a Secrets Manager ARN (or env
    # var) holding {"aws_access_key_id", "aws_secret_access_key"}, or the names of two env vars.
    credentials_secret: SecretRef = None
    access_key_id_env: SecretRef = None
    secret_access_key_env: SecretRef = None


class PostgresSourceSettings(Section):
    embedded: bool = True
    pgdata: str | None = None
    dsn_secret: SecretRef = None
    # `schema` shadows a BaseModel attribute, hence the alias.
    schema_name: str = Field("customer_complaints", alias="schema")
    database: str = "postgres"
    # A missing daily table: null = warn for a past date (it may never come), fail for today's (it is due).
    on_missing: Literal["warn", "fail"] | None = None


class GsheetsSourceSettings(Section):
    mode: Literal["export", "api"] = "export"
    export_path: str | None = None
    spreadsheet: str = "CORETELECOMMS AGENTS"
    worksheet: str = "agents"
    service_account_secret: SecretRef = None


class SourcesSettings(Section):
    s3: S3SourceSettings
    postgres: PostgresSourceSettings
    gsheets: GsheetsSourceSettings


class WarehouseSettings(Section):
    kind: Literal["fakesnow", "snowflake"] = "fakesnow"
    path: str | None = None
    database: str = "CORETELECOMS_DW"
    schema_name: str = Field("ANALYTICS", alias="schema")
    method: Literal["copy-into", "spark-connector"] = "copy-into"
    account: str | None = None
    user: str | None = None
    role: str | None = None
    warehouse: str | None = None
    password_secret: SecretRef = None
    private_key_secret: SecretRef = None
    # Production COPY INTO reads Parquet from an external S3 stage (storage integration); locally an
    # internal stage receives the files with PUT.
    external_stage: str | None = None
    external_stage_url: str | None = None


class GeneratorSettings(Section):
    scale: float = 0.01
    start: date = date(2025, 11, 20)
    days: int = 4
    seed: int = 42


class QualitySettings(Section):
    # A batch that quarantines more than this share of its rows is at least `warn` in the ledger: a broken
    # delivery (a headerless or re-encoded export) quarantines nearly everything and must not read as `ok`.
    quarantine_warn_share: float = Field(0.2, ge=0, le=1)


class MaintenanceSettings(Section):
    # VACUUM keeps files younger than this; 7 days lets readers and time travel finish their work.
    retention_hours: int = 168
    # Z-order columns per table (the filters people use most); others are just compacted.
    zorder: dict[str, list[str]] = {}
    # Run the full whole-table quality suites (they read every row; daily runs check at the batch's cost).
    table_suites: bool = True


class EmrSettings(Section):
    """Where EMR Serverless runs the jobs; identifiers come from `terraform output`, nothing here is secret."""

    region: str = "eu-west-2"
    application_id: str | None = None
    execution_role_arn: str | None = None
    # s3://bucket/prefix holding jobs/<layer>.py, the wheel and venv.tar.gz (written by `coretelecoms emr package`).
    artifacts_uri: str = "s3://coretelecoms-lake/_artifacts"
    # s3://bucket/prefix for the driver and executor logs (monitoringConfiguration).
    logs_uri: str = "s3://coretelecoms-lake/_logs/emr"
    # archive: the stock EMR image + the venv-pack archive in spark.archives.
    # image: the application runs docker/emr/Dockerfile, which already holds Python 3.11 and the project.
    python: Literal["archive", "image"] = "archive"
    image_python: str = "/usr/bin/python3.11"
    execution_timeout_minutes: int = 180
    poll_seconds: float = 30.0
    # Extra Spark properties for every job run (executor sizes and the like).
    spark_conf: dict[str, str] = {}

    def require(self, *fields: str) -> None:
        """Fail with one line naming the missing key and the variable that sets it."""
        for name in fields:
            if not getattr(self, name):
                raise SettingsError(
                    f"setting 'emr.{name}' is not set: put it in the emr: section or set "
                    f"{ENV_PREFIX}EMR__{name.upper()} (terraform output)"
                )


class _YamlSource(PydanticBaseSettingsSource):
    """Feeds the YAML file in below the environment variables, so env always wins."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self.data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self.data


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
        hide_input_in_errors=True,
    )

    env: str
    lake: LakeSettings
    spark: SparkSettings
    sources: SourcesSettings
    warehouse: WarehouseSettings
    generator: GeneratorSettings = GeneratorSettings()
    maintenance: MaintenanceSettings = MaintenanceSettings()
    quality: QualitySettings = QualitySettings()
    emr: EmrSettings = EmrSettings()

    # Set by load_settings, not read from YAML.
    data_dir: Path = Path("data")
    conf_file: Path = Path("conf/local.yaml")

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        return (init_settings, env_settings, _YamlSource(settings_cls, _PENDING_YAML.get("data", {})))

    @property
    def is_local(self) -> bool:
        return not self.lake.root.startswith("s3://")


# load_settings hands the parsed YAML to the source above through this slot (pydantic builds the
# sources from the class, not the instance).
_PENDING_YAML: dict[str, Any] = {}


def _fill_data_dir(value: Any, data_dir: Path) -> Any:
    if isinstance(value, str):
        return value.replace("{data}", str(data_dir))
    if isinstance(value, dict):
        return {k: _fill_data_dir(v, data_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_data_dir(v, data_dir) for v in value]
    return value


def _env_var_for(loc: tuple[Any, ...]) -> str | None:
    """The override variable that set `loc`, however its name was cased (names are case-insensitive)."""
    wanted = (ENV_PREFIX + "__".join(str(part) for part in loc)).lower()
    return next((name for name in os.environ if name.lower() == wanted), None)


# Fields load_settings sets itself; the variables that move them are CORETELECOMS_DATA_DIR and CORETELECOMS_ENV.
_NOT_OVERRIDABLE = {"data_dir": "CORETELECOMS_DATA_DIR", "conf_file": "CORETELECOMS_ENV"}
_JSON_KINDS = {dict: "a JSON object", list: "a JSON list"}


def _json_kind(annotation: Any) -> type | None:
    """dict or list when an override of this field must be JSON (sections, lists, maps), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return dict
    origin = get_origin(annotation)
    return origin if origin in (dict, list) else None


def _field(model: type[BaseModel], name: str) -> tuple[str, Any] | None:
    """The field `name` (or its alias) of `model`, matched without case, as (field name, annotation)."""
    for field_name, info in model.model_fields.items():
        if name and name.lower() in (field_name, (info.alias or "").lower()):
            return field_name, info.annotation
    return None


def check_env_overrides() -> None:
    """Every `CORETELECOMS__...` variable must name a setting and hold a value of its shape.

    pydantic-settings ignores variables that name no field (a misspelt override would silently do
    nothing) and fails on bad JSON without saying which variable; this says both in one line."""
    for var, value in os.environ.items():
        if not var.upper().startswith(ENV_PREFIX):
            continue
        parts = var[len(ENV_PREFIX) :].split("__")
        model: type[BaseModel] = Settings
        key: list[str] = []
        for i, part in enumerate(parts):
            if model is None:
                break  # below a map (spark.conf, ...): any entry name is valid
            found = _field(model, part)
            if found is None or (model is Settings and found[0] in _NOT_OVERRIDABLE):
                hint = f" (set {_NOT_OVERRIDABLE[found[0]]} instead)" if found else ""
                raise SettingsError(f"{var}: no setting '{'.'.join([*key, part.lower()])}'{hint}")
            name, annotation = found
            key.append(name)
            kind = _json_kind(annotation)
            last = i == len(parts) - 1
            if last and kind is not None:
                try:
                    parsed = json.loads(value)
                except ValueError:
                    parsed = None
                if not isinstance(parsed, kind):
                    # The value is not echoed: a Spark conf map can carry credentials.
                    raise SettingsError(f"{var}: setting '{'.'.join(key)}' must be {_JSON_KINDS[kind]}")
            elif not last and kind is None:
                raise SettingsError(f"{var}: setting '{'.'.join(key)}' has no keys below it")
            model = annotation if kind is dict and get_origin(annotation) is None else None


def load_settings(env: str | None = None, conf_dir: Path | None = None) -> Settings:
    """Load `conf/<env>.yaml` with environment overrides; raise SettingsError with one clear line."""
    env = env or os.environ.get("CORETELECOMS_ENV", "local")
    conf_dir = conf_dir or Path(os.environ.get("CORETELECOMS_CONF_DIR", REPO_ROOT / "conf"))
    conf_file = conf_dir / f"{env}.yaml"
    if not conf_file.is_file():
        raise SettingsError(f"{conf_file}: settings file not found (CORETELECOMS_ENV={env})")
    try:
        raw = yaml.safe_load(conf_file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{conf_file}: not valid YAML: {str(exc).splitlines()[0]}") from None
    check_env_overrides()
    data_dir = Path(os.environ.get("CORETELECOMS_DATA_DIR", "data")).resolve()
    _PENDING_YAML["data"] = _fill_data_dir(raw, data_dir)
    try:
        settings = Settings(data_dir=data_dir, conf_file=conf_file)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not isinstance(p, int))
        key = ".".join(str(p) for p in loc)
        origin = _env_var_for(loc) or str(conf_file)
        raise SettingsError(f"{origin}: setting '{key}': {err['msg'].lower()}") from None
    except EnvParseError as exc:
        # check_env_overrides catches what it can name; this is the fallback for anything else.
        raise SettingsError(f"{ENV_PREFIX}*: {str(exc).splitlines()[0]}") from None
    finally:
        _PENDING_YAML.pop("data", None)
    return settings
