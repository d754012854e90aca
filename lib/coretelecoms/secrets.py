"""Secrets by reference only: a setting names an environment variable or an AWS Secrets Manager ARN.

The value is fetched when needed and never logged; errors name the reference, never the value. Every
error text on its way to the ledger, a log line or the console goes through `redact`, the one place that
knows what a secret looks like: the values this process resolved, any password inside a URI or a libpq
key=value DSN, and private keys.
"""

from __future__ import annotations

import os
import re


class SecretError(RuntimeError):
    pass


MASK = "…"

# Every secret value resolved in this process (and its pieces), so an error that quotes one is masked
# even when it is not shaped like a DSN (libpq quotes the piece it could not parse).
_known: set[str] = set()
# Pieces of a known DSN that say where to look and are never secret: kept when quoted.
_harmless: set[str] = set()
# Quoted by libpq in its messages but never secret: the `=` of key=value and the option names.
LIBPQ_WORDS = {"=", "host", "hostaddr", "port", "dbname", "user", "password", "sslmode", "connect_timeout"}

# An environment variable name, or a Secrets Manager ARN: all a secret setting may hold.
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]+")

SCHEME = r"[A-Za-z][A-Za-z0-9+.-]*://"
# scheme://user:PASSWORD@host — the password runs to the last `@` of the token, whatever it holds.
URI_PASSWORD = re.compile(rf"({SCHEME}[^\s:/@\"']*:)(\S*)@")
# scheme://user:PASSWORD with no `@` left (a truncated or unparsable URI); a port number is no secret.
URI_TAIL = re.compile(rf"({SCHEME}[^\s:/@\"']*:)(?!\d+(?:[/?#\s\"']|$)|{MASK})[^\s@]+(?=\s|$)")
SECRET_KEYS = (
    r"password|passwd|pwd|passphrase|private_key\w*|secret_access_key|aws_secret_access_key"
    r"|session_token|aws_session_token|api_key|access_token|refresh_token|client_secret"
)
# libpq key=value (`password='it''s'`, `password=x`) and query strings (`?password=x&...`).
KEY_VALUE = re.compile(rf"(?i)\b({SECRET_KEYS})(\s*=\s*)('(?:[^'\\]|\\.)*'?|\"[^\"]*\"?|[^\s&;]+)")
# JSON or Python reprs: "password": "x", 'password': 'x'.
KEY_COLON = re.compile(rf"(?i)([\"']({SECRET_KEYS})[\"']\s*:\s*)([\"'])(?:\\.|(?!\3).)*\3?")
PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S)


def _dsn_password(value: str) -> tuple[str | None, set[str]]:
    """The password of a DSN and its harmless parts (host, user, database), when libpq can parse it."""
    try:
        from psycopg2.extensions import parse_dsn

        parts = parse_dsn(value)
    except Exception:
        return None, set()
    keep = {v for k, v in parts.items() if k in ("host", "user", "dbname") and v and "@" not in v}
    return parts.get("password"), keep


def remember(value: str | None) -> None:
    """Mask `value` (and, for a DSN, its password) in every later `redact`."""
    if not value:
        return
    pieces = {value, value.strip(), *value.strip().splitlines()}
    password, keep = _dsn_password(value.strip())
    # What the patterns call a password too, for what libpq cannot parse (a Snowflake URL, a broken DSN).
    passwords = {password} if password else set()
    passwords |= {m[2] for m in URI_PASSWORD.finditer(value)} | {m[3] for m in KEY_VALUE.finditer(value)}
    for password in passwords:
        pieces |= {password, *password.splitlines()}
        keep = {k for k in keep if password not in k}
    _harmless.update(keep)
    # Very short pieces would mask ordinary words; a secret that short is no secret anyway.
    _known.update(p for p in pieces if len(p.strip()) >= 4)


def redact(text: str | None) -> str | None:
    """The text with every secret it may hold replaced by "…"."""
    if not text:
        return text

    def quoted(m: re.Match) -> str:
        # A quoted piece of a known secret (libpq quotes what it could not parse), unless it is a host,
        # user or database name, which say where to look.
        piece = m[1]
        if piece in _harmless or piece in LIBPQ_WORDS or not any(piece in v for v in _known):
            return m[0]
        return f'"{MASK}"'

    # Quoted pieces first, while they are whole; then every known value wherever it stands.
    text = re.sub(r'"([^"\n]+)"', quoted, text)
    for value in sorted(_known, key=len, reverse=True):
        text = text.replace(value, MASK)
    text = PEM.sub(MASK, text)
    text = URI_PASSWORD.sub(rf"\1{MASK}@", text)
    text = URI_TAIL.sub(rf"\1{MASK}", text)
    text = KEY_VALUE.sub(rf"\1\2{MASK}", text)
    text = KEY_COLON.sub(rf"\1\3{MASK}\3", text)
    return text


def error_text(exc: BaseException, limit: int = 500, first_line: bool = False) -> str:
    """The exception's type and message for the ledger, redacted before it is cut (a cut could split a
    secret into pieces no pattern recognises)."""
    message = redact(str(exc).strip())
    if first_line and message:
        message = message.splitlines()[0]
    return (f"{type(exc).__name__}: {message}" if message else type(exc).__name__)[:limit]


def check_reference(reference: str, *, what: str) -> None:
    """A secret setting holds a name, never a value: refuse anything else without echoing it."""
    if ENV_NAME.fullmatch(reference) or ARN.fullmatch(reference):
        return
    if reference.startswith("arn:"):
        raise SecretError(
            f"{what}: not a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)"
        )
    raise SecretError(
        f"{what}: the setting holds what looks like a secret value (a DSN, key or password), not the name "
        "of an environment variable or a Secrets Manager ARN; put the value in a variable or a secret and "
        "name that here (the value is not shown)"
    )


def resolve_secret(reference: str | None, *, what: str) -> str:
    """`arn:aws:secretsmanager:...` is read from Secrets Manager; anything else is an env var name."""
    if not reference:
        raise SecretError(f"no secret configured for {what}")
    if "<" in reference and reference.startswith("arn:"):
        raise SecretError(f"{what}: {reference} is still a placeholder (terraform output secret_arns)")
    check_reference(reference, what=what)
    if reference.startswith("arn:"):
        import boto3

        region = reference.split(":")[3]
        try:
            # A session of its own: boto3's default one keeps the credentials it resolved first, which need
            # not be the ones the environment holds now.
            client = boto3.session.Session(region_name=region).client("secretsmanager")
            value = client.get_secret_value(SecretId=reference)["SecretString"]
        except Exception as exc:  # the message must not carry the value, only the reference
            raise SecretError(f"cannot read {what} from {reference}: {type(exc).__name__}") from None
        remember(value)
        return value
    value = os.environ.get(reference)
    if value is None:
        raise SecretError(f"{what}: environment variable {reference} is not set")
    remember(value)
    return value
