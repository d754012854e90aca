"""The landing zone's storage: `<lake>/landing/` on a local disk or in S3.

Every copy is staged to a temporary file while its SHA-256 is computed, then published in one step
(a rename on a local disk, a single PUT or multipart upload in S3), so a reader never sees half a file.
Bytes are streamed in chunks: a 400 MB customers file never sits in memory.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import BinaryIO

CHUNK = 8 << 20
_DATE = re.compile(r"(\d{4})[-_](\d{2})[-_](\d{2})")


def date_in_name(name: str) -> date | None:
    """The drop date a file or table name carries (`..._2025-11-20.csv`, `..._2025_11_20`), else None."""
    for part in reversed(name.replace("\\", "/").split("/")):
        m = _DATE.search(part)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


def local_path(uri: str) -> str:
    """`file:/x` and `file:///x` (how Hadoop names local files) -> `/x`; other URIs unchanged."""
    if uri.startswith("file://"):
        return uri[len("file://") :]
    if uri.startswith("file:"):
        return uri[len("file:") :]
    return uri


def landing_key(uri: str, root: str) -> str:
    """A landed file's key relative to the landing root (`s3/call logs/call_logs_day_2025-11-20.csv`).

    Lineage (`_source_file`), the landing registry and bronze's record of what it ingested hold this key,
    never an absolute path, so a lake copied or moved (another disk, bucket or prefix) keeps its state.
    A path under another root (a moved lake's older registry rows) is cut after its `/landing/`."""
    path, base = _bare(local_path(uri)), _bare(local_path(root)).rstrip("/") + "/"
    if path.startswith(base):
        return path[len(base) :]
    _, found, rest = path.rpartition("/landing/")
    return rest if found else path


def _bare(path: str) -> str:
    for scheme in ("s3://", "s3a://"):
        if path.startswith(scheme):
            return path[len(scheme) :]
    return path


def split_s3(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> (`bucket`, `some/prefix`)."""
    rest = uri[len("s3://") :] if uri.startswith("s3://") else uri[len("s3a://") :]
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix.strip("/")


class HashingWriter:
    """A binary file that hashes what goes through it (psycopg2's copy_expert writes into it too)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | str) -> int:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._sha.update(data)
        self.size += len(data)
        return self._fh.write(data)

    def copy_from(self, stream: BinaryIO) -> None:
        while chunk := stream.read(CHUNK):
            self.write(chunk)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


class LandingStore:
    """Stage, publish and open files under `<lake_root>/landing`."""

    def __init__(self, lake_root: str, tmp_dir: str | None = None) -> None:
        self.is_s3 = lake_root.startswith(("s3://", "s3a://"))
        self.lake_root = lake_root.rstrip("/") if self.is_s3 else os.path.abspath(local_path(lake_root))
        self.root = f"{self.lake_root}/landing"
        if self.is_s3:
            self.tmp = Path(tmp_dir or tempfile.gettempdir()) / "coretelecoms-landing"
        else:
            # Same file system as the final place, so publishing is an atomic rename. The leading
            # underscore hides it from Spark's file listing.
            self.tmp = Path(self.root) / "_tmp"

    def uri(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    @contextmanager
    def stage(self) -> Iterator[HashingWriter]:
        """A temporary file to write into; removed unless `publish` moved it."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        writer = HashingWriter(self.tmp / f"{uuid.uuid4().hex}.part")
        try:
            yield writer
        finally:
            writer.close()
            writer.path.unlink(missing_ok=True)

    def publish(self, writer: HashingWriter, rel: str) -> str:
        """Move a staged file to `landing/<rel>` in one step; returns its URI."""
        writer.close()
        target = self.uri(rel)
        if self.is_s3:
            bucket, key = split_s3(target)
            _lake_s3().upload_file(str(writer.path), bucket, key)  # multipart; the object appears whole
        else:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            os.replace(writer.path, target)
        return target

    def ensure_dir(self, rel: str) -> str:
        """The folder a stream watches; S3 prefixes need not exist."""
        if not self.is_s3:
            Path(self.uri(rel)).mkdir(parents=True, exist_ok=True)
        return self.uri(rel)


def open_uri(uri: str) -> BinaryIO:
    """Open a landed file for reading (local path, `file:` URI or `s3://`)."""
    if uri.startswith(("s3://", "s3a://")):
        bucket, key = split_s3(uri)
        return _lake_s3().get_object(Bucket=bucket, Key=key)["Body"]
    return open(local_path(uri), "rb")  # noqa: SIM115 - the caller closes it


def _lake_s3():
    """The lake account's S3 client (default credential chain), not the source account's."""
    import boto3

    return boto3.client("s3")
