"""S3 objects (customers, call logs, social media) copied from the source bucket or a local folder.

`sources.s3.uri` is either a local folder (local runs, tests) or `s3://bucket[/prefix]`, read through
boto3 with the source account's own credentials (a key pair from a Secrets Manager secret or two env vars,
or a profile), region and optional endpoint URL (moto in tests). Keys are kept as they are, `call logs/`
space included: `landing/s3/<key>`.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from coretelecoms.landing.copier import Lander, Outcome
from coretelecoms.landing.store import date_in_name, split_s3
from coretelecoms.secrets import SecretError, resolve_secret
from coretelecoms.settings import S3SourceSettings

SYSTEM = "s3"

log = logging.getLogger("coretelecoms.landing")


@dataclass(frozen=True)
class ObjectSource:
    """One dataset in the source bucket: where its objects live and whether they are daily drops."""

    name: str
    folder: str  # key prefix inside the bucket, with the trailing slash
    suffix: str
    daily: bool
    expected: str  # the object's name, `{day}` for a daily drop (SOURCES.md)

    def expected_key(self, day: date | None = None) -> str:
        return self.folder + self.expected.format(day=day)

    def matches(self, key: str) -> bool:
        """The object's name is the documented one, in any letter case (`call_logs_day_2025-11-20.CSV`):
        exporters upper-case extensions, and a case-sensitive match used to drop such files silently. A
        part of a split drop (`..._2025-11-20_part2.json`) is the same delivery and matches too."""
        stem = self.expected[: -len(self.suffix)] if self.expected.endswith(self.suffix) else self.expected
        pattern = re.escape(stem).replace(re.escape("{day}"), r"\d{4}-\d{2}-\d{2}")
        pattern += r"(?:_[a-z0-9]+)?" + re.escape(self.suffix)
        return re.fullmatch(pattern, posixpath.basename(key), re.IGNORECASE) is not None

    def landing_rel(self, key: str) -> str:
        """Where the object lands: its key as it is, but with the documented extension's case, so bronze's
        `*.csv` / `*.json` file filter (case-sensitive) picks it up. `source_key` keeps the original."""
        if key.endswith(self.suffix):
            return f"{SYSTEM}/{key}"
        return f"{SYSTEM}/{key[: -len(self.suffix)]}{self.suffix}"


OBJECT_SOURCES = (
    ObjectSource("customers", "customers/", ".csv", daily=False, expected="customers_dataset.csv"),
    ObjectSource("call_logs", "call logs/", ".csv", daily=True, expected="call_logs_day_{day}.csv"),
    ObjectSource(
        "social_media", "social_medias/", ".json", daily=True, expected="media_complaint_day_{day}.json"
    ),
)


@dataclass
class SourceObject:
    key: str  # relative to the source root, e.g. "call logs/call_logs_day_2025-11-20.csv"
    size: int
    etag: str
    modified: datetime | None


class SourceUnreachable(RuntimeError):
    pass


class NotDelivered(LookupError):
    """An expected object is not there; the message is what the store answered (S3: `404 Not Found`)."""


def source_credentials(cfg: S3SourceSettings) -> dict[str, str]:
    """The source account's key pair from its secret reference ({} = the profile or default chain).
    Errors name the reference, never a value."""
    by_env = cfg.access_key_id_env or cfg.secret_access_key_env
    if sum(map(bool, (cfg.credentials_secret, by_env, cfg.profile))) > 1:
        raise SecretError(
            "sources.s3: give one of credentials_secret, access_key_id_env/secret_access_key_env or profile"
        )
    if cfg.credentials_secret:
        ref = cfg.credentials_secret
        raw = resolve_secret(ref, what="the source account's S3 keys (sources.s3.credentials_secret)")
        try:
            pair = json.loads(raw)
            keys = {k: str(pair[k]) for k in ("aws_access_key_id", "aws_secret_access_key")}
        except (ValueError, KeyError, TypeError):
            raise SecretError(
                f"{ref}: expected JSON with aws_access_key_id and aws_secret_access_key"
            ) from None
        if pair.get("aws_session_token"):
            keys["aws_session_token"] = str(pair["aws_session_token"])
        return keys
    if by_env:
        if not (cfg.access_key_id_env and cfg.secret_access_key_env):
            raise SecretError("sources.s3: set both access_key_id_env and secret_access_key_env")
        return {
            "aws_access_key_id": resolve_secret(cfg.access_key_id_env, what="the source account's key id"),
            "aws_secret_access_key": resolve_secret(
                cfg.secret_access_key_env, what="the source account's secret key"
            ),
        }
    return {}


class ObjectStore:
    """Lists and reads the source objects, from a folder or from S3."""

    def __init__(self, cfg: S3SourceSettings) -> None:
        self.cfg = cfg
        self.uri = cfg.uri.rstrip("/")
        self.is_s3 = self.uri.startswith(("s3://", "s3a://"))
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import boto3
            from botocore.config import Config

            session = boto3.Session(
                profile_name=self.cfg.profile, region_name=self.cfg.region, **source_credentials(self.cfg)
            )
            self._client = session.client(
                "s3",
                endpoint_url=self.cfg.endpoint_url,
                config=Config(
                    connect_timeout=5, read_timeout=120, retries={"max_attempts": 3, "mode": "standard"}
                ),
            )
        return self._client

    def describe(self, key: str = "") -> str:
        return f"{self.uri}/{key}" if key else self.uri

    def list(self, folder: str) -> Iterator[SourceObject]:
        if self.is_s3:
            yield from self._list_s3(folder)
        else:
            yield from self._list_local(folder)

    def _list_local(self, folder: str) -> Iterator[SourceObject]:
        root = Path(self.uri)
        if not root.is_dir():
            raise SourceUnreachable(f"source folder {root} does not exist")
        base = root / folder
        if not base.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
            for name in sorted(filenames):
                if name.startswith((".", "_")):  # writers' temp files
                    continue
                path = Path(dirpath) / name
                st = path.stat()
                yield SourceObject(
                    key=path.relative_to(root).as_posix(),
                    size=st.st_size,
                    etag=f"local-{st.st_size}-{st.st_mtime_ns}",
                    modified=datetime.fromtimestamp(st.st_mtime, UTC).replace(tzinfo=None),
                )

    def _list_s3(self, folder: str) -> Iterator[SourceObject]:
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, prefix = split_s3(self.uri)
        full = f"{prefix}/{folder}" if prefix else folder
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=full)
            for page in pages:
                for obj in page.get("Contents", []):
                    key = obj["Key"][len(prefix) + 1 :] if prefix else obj["Key"]
                    if key.endswith("/") or os.path.basename(key).startswith((".", "_")):
                        continue
                    yield SourceObject(
                        key=key,
                        size=obj["Size"],
                        etag=obj.get("ETag", "").strip('"'),
                        modified=obj["LastModified"].astimezone(UTC).replace(tzinfo=None),
                    )
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise SourceUnreachable(
                f"cannot list {self.describe(folder)}: {err.get('Code')} {err.get('Message')}"
            ) from None
        except BotoCoreError as exc:
            raise SourceUnreachable(f"cannot reach {self.describe(folder)}: {exc}") from None

    def head(self, key: str) -> SourceObject:
        """Ask the store for one expected object: it is there, or NotDelivered with the store's answer."""
        if not self.is_s3:
            path = Path(self.uri) / key
            if not path.is_file():
                raise NotDelivered("not found (no such file)")
            st = path.stat()
            return SourceObject(
                key,
                st.st_size,
                f"local-{st.st_size}-{st.st_mtime_ns}",
                datetime.fromtimestamp(st.st_mtime, UTC).replace(tzinfo=None),
            )
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, prefix = split_s3(self.uri)
        try:
            obj = self.client.head_object(Bucket=bucket, Key=f"{prefix}/{key}" if prefix else key)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            answer = f"{err.get('Code')} {err.get('Message') or ''}".strip()
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise NotDelivered(answer) from None
            raise SourceUnreachable(f"cannot read {self.describe(key)}: {answer}") from None
        except BotoCoreError as exc:
            raise SourceUnreachable(f"cannot reach {self.describe(key)}: {exc}") from None
        return SourceObject(
            key,
            obj["ContentLength"],
            obj.get("ETag", "").strip('"'),
            obj["LastModified"].astimezone(UTC).replace(tzinfo=None),
        )

    def copy_to(self, key: str, writer) -> None:
        """Stream one object into a staged landing file."""
        if self.is_s3:
            bucket, prefix = split_s3(self.uri)
            body = self.client.get_object(Bucket=bucket, Key=f"{prefix}/{key}" if prefix else key)["Body"]
            try:
                writer.copy_from(body)
            finally:
                body.close()
        else:
            with open(Path(self.uri) / key, "rb") as fh:
                writer.copy_from(fh)


def land_objects(
    lander: Lander, store: ObjectStore, source: ObjectSource, dates: list[date] | None
) -> Outcome:
    """Land `source`'s objects: for daily sources only those dropped on `dates` (None = all)."""
    out = Outcome()
    objects = []
    for obj in store.list(source.folder):
        if source.matches(obj.key):
            objects.append(obj)
        else:  # never ignored silently: a misnamed drop is a delivery nobody would otherwise see
            named = source.folder + source.expected.replace("{day}", "YYYY-MM-DD")
            message = (
                f"unexpected {source.name} object {store.describe(obj.key)} (expected {named}); not landed"
            )
            log.warning(message)
            out.warnings.append(message)
    expected: list[date | None] = []
    if source.daily and dates is not None:
        wanted = set(dates)
        objects = [o for o in objects if date_in_name(o.key) in wanted]
        expected = sorted(wanted - {date_in_name(o.key) for o in objects})
    elif not objects and not source.daily:
        expected = [None]
    elif not objects:
        out.warnings.append(f"no {source.name} object under {store.describe(source.folder)}")
    for day in expected:  # not listed: ask the store for the object itself, and say what it answered
        key = source.expected_key(day)
        try:
            objects.append(store.head(key))
        except NotDelivered as answer:
            when = f" for {day}" if day else ""
            out.warnings.append(
                f"no {source.name} object{when}: {store.describe(key)}: {answer} (not delivered)"
            )
    for obj in objects:
        if lander.unchanged(source.name, obj.key, obj.etag, obj.size):
            out.skipped.append(obj.key)
            continue
        landed = lander.land(
            source=source.name,
            system=SYSTEM,
            source_uri=store.describe(obj.key),
            key=obj.key,
            rel=source.landing_rel(obj.key),
            write=lambda w, k=obj.key: store.copy_to(k, w),
            etag=obj.etag,
            modified=obj.modified,
        )
        if landed is None:
            out.skipped.append(obj.key)
        else:
            out.landed.append(landed)
    return out
