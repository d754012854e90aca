"""Secrets never in text: `redact` on every DSN shape, and secret settings that refuse a pasted value."""

from __future__ import annotations

import json
import uuid

import pytest

from coretelecoms.secrets import SecretError, check_reference, redact, remember, resolve_secret
from coretelecoms.settings import PostgresSourceSettings, WarehouseSettings


def canary() -> str:
    # A fresh one per case: `remember` is process-wide, so a reused canary would be masked as "known".
    return f"CANARY{uuid.uuid4().hex[:10]}"


def shapes(pw: str) -> dict[str, str]:
    """Every DSN shape that leaked or could leak: trailing newline, quotes, `@` and `:` in the password,
    a bracketed host (good and broken), libpq key=value with quoted and bare passwords."""
    return {
        "trailing newline": f"postgresql://loader:{pw}@127.0.0.1:1/postgres\n",
        "double quote": f'postgresql://loader:{pw}"x@127.0.0.1:1/postgres',
        "single quote": f"postgresql://loader:{pw}'x@db.example.com/postgres?sslmode=require",
        "at and colon": f"postgresql://loader:{pw}@:x:@127.0.0.1:1/postgres",
        "slash and at": f"postgresql://loader:{pw}/y@z@db.example.com:5432/postgres",
        "ipv6 host": f"postgresql://loader:{pw}@[::1]:5432/postgres",
        "broken ipv6 host": f"postgresql://loader:{pw}@[::1:5432/postgres",
        "truncated uri": f"postgresql://loader:{pw}",
        "key=value quoted": f"host=127.0.0.1 port=1 user=loader password='{pw} \\' x' dbname=postgres",
        "key=value bare": f"host=127.0.0.1 port=1 user=loader password={pw}\n",
        "key=value double quoted": f'host=127.0.0.1 password="{pw} x" dbname=postgres',
        "query string": f"postgresql://db.example.com/postgres?user=loader&password={pw}&sslmode=require",
        "snowflake": f"snowflake://loader:{pw}@acct/db",
    }


@pytest.mark.parametrize("shape", list(shapes("x")))
def test_a_dsn_in_any_error_text_loses_its_password_even_unknown(shape):
    pw = canary()
    dsn = shapes(pw)[shape]
    for text in (
        f"OperationalError: {dsn}",
        f'invalid dsn: missing "=" after "{dsn}" in connection info string',
        json.dumps({"error": f"cannot connect: {dsn}"}),
        repr(dsn),
    ):
        assert pw not in redact(text), (shape, text, redact(text))


def test_host_user_and_port_stay_so_the_error_still_says_where():
    text = redact(f"connection to postgresql://loader:{canary()}@db.example.com:5432/postgres failed")
    assert text == "connection to postgresql://loader:…@db.example.com:5432/postgres failed"
    assert redact("http://localhost:8080/x failed") == "http://localhost:8080/x failed"
    assert redact("s3://bucket/call logs/a.csv: not found") == "s3://bucket/call logs/a.csv: not found"


@pytest.mark.parametrize("shape", list(shapes("x")))
def test_a_resolved_secret_is_masked_wherever_it_is_quoted(shape, monkeypatch):
    """Once resolved, the value, its lines and its password are masked even in pieces no pattern knows."""
    pw = canary()
    dsn = shapes(pw)[shape]
    monkeypatch.setenv("CORETELECOMS_TEST_CANARY_DSN", dsn)
    assert resolve_secret("CORETELECOMS_TEST_CANARY_DSN", what="the DSN") == dsn
    for text in (f'missing "=" after "{pw}"', dsn, dsn.strip(), f"[{dsn}]", repr(dsn), f"db: {dsn[:-3]}"):
        assert pw not in redact(text), (shape, redact(text))


def test_a_multi_line_secret_is_masked_line_by_line():
    pw = f"{canary()}\n{canary()}"
    remember(f"postgresql://u:{pw}@h/db")
    for line in pw.splitlines():
        assert line not in redact(f"error near {line!r}")


def test_private_keys_and_secret_keys_are_masked():
    key = canary()
    pem = f"-----BEGIN PRIVATE KEY-----\nMIIE{key}\n-----END PRIVATE KEY-----"
    assert key not in redact(f"bad key: {pem}")
    assert key not in redact(f"bad key: {pem[:30]}")  # cut before its end
    assert key not in redact(f"{{'aws_secret_access_key': '{key}', 'region': 'x'}}")
    assert key not in redact(f'{{"password": "{key}"}}')
    assert "'region': 'x'" in redact(f"{{'aws_secret_access_key': '{key}', 'region': 'x'}}")


@pytest.mark.parametrize(
    "value",
    [
        "postgresql://loader:{pw}@db.example.com/postgres",
        "host=db user=loader password={pw}",
        "{pw}-with-dash",
        "AKIA{pw}/secret+key",
        "arn:aws:secretsmanager:eu-west-2:123:{pw}",
    ],
)
def test_secret_settings_refuse_a_pasted_value_without_echoing_it(value):
    value = value.format(pw=canary())
    with pytest.raises(SecretError) as exc:
        resolve_secret(value, what="the web-forms Postgres DSN (sources.postgres.dsn_secret)")
    assert value not in str(exc.value) and "sources.postgres.dsn_secret" in str(exc.value)
    with pytest.raises(ValueError) as bad:  # pydantic's ValidationError, input hidden
        PostgresSourceSettings(embedded=False, dsn_secret=value)
    assert value not in str(bad.value)
    assert "looks like a secret value" in str(bad.value) or "not a Secrets Manager secret ARN" in str(
        bad.value
    )
    with pytest.raises(ValueError) as bad:
        WarehouseSettings(password_secret=value)
    assert value not in str(bad.value)


def test_references_are_accepted():
    for ref in (
        "CORETELECOMS_PG_DSN",
        "arn:aws:secretsmanager:eu-west-2:123456789012:secret:coretelecoms/postgres-dsn-AbCdEf",
    ):
        check_reference(ref, what="x")
        assert PostgresSourceSettings(embedded=False, dsn_secret=ref).dsn_secret == ref
    placeholder = "arn:aws:secretsmanager:eu-west-2:<ACCOUNT_ID>:secret:coretelecoms/postgres-dsn"
    assert PostgresSourceSettings(dsn_secret=placeholder).dsn_secret == placeholder  # refused when used


def test_a_bad_secret_setting_from_the_environment_is_one_line_without_the_value(monkeypatch):
    from coretelecoms.settings import SettingsError, load_settings

    value = f"postgresql://loader:{canary()}@db/postgres"
    monkeypatch.setenv("CORETELECOMS__SOURCES__POSTGRES__DSN_SECRET", value)
    with pytest.raises(SettingsError) as exc:
        load_settings("local")
    assert value not in str(exc.value) and "sources.postgres.dsn_secret" in str(exc.value)
    assert "\n" not in str(exc.value)
