"""One run of a layer at a time: a lock in the lake, taken atomically, that a crashed holder cannot keep.

Two runs of one layer write the same tables, checkpoints and Great Expectations project files; Delta's
commit checks do not cover the checkpoints or the GX files, and measured concurrent runs duplicated bronze
and crashed silver. So the runner takes `<lake>/_locks/<layer>.lock` first: an exclusive create on a local
lake (O_EXCL), a conditional put on S3 (`If-None-Match: *`). The second run fails at once with one line
naming the holder. The lock is per layer, not per date: two dates of one layer share the same tables.

The holder rewrites its expiry every `HEARTBEAT_SECONDS`; a lock past its expiry, or held by a process on
this host that no longer exists (kill -9), is stale and taken over, atomically again (a rename locally, a
put conditional on the stale lock's ETag on S3), so two runs can never both take over the same lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# How long a lock outlives its last heartbeat: long enough for a stalled driver, short enough that a
# crashed run on another machine blocks the next one for minutes, not hours.
EXPIRY_SECONDS = 300
HEARTBEAT_SECONDS = 30


class LockHeld(RuntimeError):
    """Another run holds the layer; the message is the one line the operator needs."""


@dataclass
class Holder:
    run_id: str
    layer: str
    run_date: str | None
    host: str
    pid: int
    started: str
    expires: str

    def stale(self, now: datetime) -> bool:
        if datetime.fromisoformat(self.expires) < now:
            return True
        return self.host == socket.gethostname() and not _alive(self.pid)

    def describe(self) -> str:
        return (
            f"{self.layer} is being run by run {self.run_id} (date {self.run_date or '-'}, host {self.host}, "
            f"pid {self.pid}, since {self.started}; its lock expires {self.expires} unless renewed)"
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class _LocalStore:
    """The lock as a file: O_EXCL create, takeover by renaming the stale file away (only one renamer wins)."""

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(path), exist_ok=True)

    def create(self, body: bytes) -> Any:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return None
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        return True

    def read(self) -> tuple[bytes, Any] | None:
        try:
            with open(self.path, "rb") as f:
                body = f.read()
        except FileNotFoundError:
            return None
        return body, body

    def replace(self, body: bytes, tag: Any) -> Any:
        """Take over the stale lock whose content was `tag`: move it aside, check it was that one, create."""
        aside = f"{self.path}.{uuid.uuid4().hex}.stale"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return None  # someone else moved it first
        with open(aside, "rb") as f:
            moved = f.read()
        if moved != tag:  # a fresh lock taken in between: put it back (link fails if yet another exists)
            with contextlib.suppress(FileExistsError):
                os.link(aside, self.path)
            os.remove(aside)
            return None
        os.remove(aside)
        return self.create(body)

    def renew(self, body: bytes, tag: Any) -> Any:
        tmp = f"{self.path}.{uuid.uuid4().hex}.tmp"
        with open(tmp, "wb") as f:
            f.write(body)
        current = self.read()
        if current is None or current[1] != tag:
            os.remove(tmp)
            return None
        os.replace(tmp, self.path)
        return body

    def delete(self, tag: Any) -> None:
        current = self.read()
        if current is not None and current[1] == tag:
            os.remove(self.path)


class _S3Store:
    """The lock as an object: put If-None-Match=*, takeover and renewal put If-Match=<the ETag we read>."""

    def __init__(self, s3, uri: str) -> None:
        self.s3 = s3
        self.bucket, _, self.key = uri.split("://", 1)[1].partition("/")

    @staticmethod
    def _refused(exc: Exception) -> bool:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code in ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey") or status in (
            409,
            412,
        )

    def _put(self, body: bytes, **condition) -> Any:
        try:
            return self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=body, **condition)["ETag"]
        except Exception as exc:
            if self._refused(exc):
                return None
            raise

    def create(self, body: bytes) -> Any:
        return self._put(body, IfNoneMatch="*")

    def read(self) -> tuple[bytes, Any] | None:
        try:
            got = self.s3.get_object(Bucket=self.bucket, Key=self.key)
        except Exception as exc:
            if self._refused(exc):
                return None
            raise
        return got["Body"].read(), got["ETag"]

    def replace(self, body: bytes, tag: Any) -> Any:
        return self._put(body, IfMatch=tag)

    renew = replace

    def delete(self, tag: Any) -> None:
        try:
            self.s3.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=tag)
        except Exception as exc:
            if not self._refused(exc):
                raise


class LakeRoot:
    """The lock's view of a lake before a Spark session exists: its root, and S3 as the engines reach it."""

    def __init__(self, root: str, storage_options: dict[str, str] | None = None) -> None:
        self.root, self.storage_options = root.rstrip("/"), storage_options or {}

    def s3_client(self):
        from coretelecoms.lake.engine import DeltaEngine

        return DeltaEngine.s3_client(self)


# The invocation locks this process holds, by lock URI. The CLI takes its layers' locks before the Spark
# session starts (4-8 s), so a second run is refused within a second; the run of each layer then takes the
# same lock again, which hands the held lock to that run (its id and date) instead of refusing itself.
_HELD: dict[str, RunLock] = {}
_HELD_LOCK = threading.Lock()


class RunLock:
    """`with RunLock(lake, layer, run_id, run_date):` holds `<lake>/_locks/<layer>.lock` for the block."""

    def __init__(self, lake, layer: str, run_id: str, run_date=None, *, invocation: bool = False) -> None:
        """`invocation`: taken for a whole command before Spark starts; this process's runs of the layer
        then take it over instead of being refused by it."""
        self.layer, self.run_id = layer, run_id
        self.invocation = invocation
        self.run_date = str(run_date) if run_date else None
        self.uri = uri = f"{lake.root}/_locks/{layer}.lock"
        self._outer: RunLock | None = None
        self._renewing = threading.Lock()  # the heartbeat and a hand-over both rewrite the lock
        self.store = (
            _S3Store(lake.s3_client(), uri) if lake.root.startswith(("s3://", "s3a://")) else _LocalStore(uri)
        )
        self.tag: Any = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def _body(self, started: str | None = None) -> bytes:
        now = _now()
        holder = Holder(
            self.run_id,
            self.layer,
            self.run_date,
            socket.gethostname(),
            os.getpid(),
            started or now.isoformat(),
            (now + timedelta(seconds=EXPIRY_SECONDS)).isoformat(),
        )
        return json.dumps(asdict(holder)).encode()

    def acquire(self) -> None:
        with _HELD_LOCK:
            outer = _HELD.get(self.uri)
        if outer is not None:
            outer.hand_to(self.run_id, self.run_date)
            self._outer = outer
            return
        self._take()
        if self.invocation:
            with _HELD_LOCK:
                _HELD[self.uri] = self

    def hand_to(self, run_id: str, run_date: str | None) -> None:
        """This process's next run (a layer of the invocation that took the lock) holds it now: the lock
        names that run, so a refused run sees who is really running."""
        with self._renewing:
            self.run_id, self.run_date = run_id, run_date
            renewed = self.store.renew(self._body(self._started), self.tag)
            if renewed is None:
                raise LockHeld(f"{self.layer}: the run lock was taken over while this process held it")
            self.tag = renewed

    def _take(self) -> None:
        body = self._body()
        for _ in range(5):  # a lock released or taken over while we looked: look again
            tag = self.store.create(body)
            if tag is not None:
                self.tag = body if tag is True else tag
                self._started = json.loads(body)["started"]
                self._start_heartbeat()
                return
            current = self.store.read()
            if current is None:
                continue
            try:
                holder = Holder(**json.loads(current[0]))
            except (ValueError, TypeError):  # a torn or foreign file: treat as stale
                holder = None
            if holder is not None and not holder.stale(_now()):
                raise LockHeld(holder.describe())
            tag = self.store.replace(body, current[1])
            if tag is not None:
                self.tag = body if tag is True else tag
                self._started = json.loads(body)["started"]
                self._start_heartbeat()
                return
        raise LockHeld(f"{self.layer}: could not take the run lock (it changed hands repeatedly)")

    def _start_heartbeat(self) -> None:
        def beat() -> None:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                with self._renewing:
                    renewed = self.store.renew(self._body(self._started), self.tag)
                    if renewed is None:  # taken over (we stalled past the expiry): stop claiming it
                        return
                    self.tag = renewed

        self._beat = threading.Thread(target=beat, name=f"runlock-{self.layer}", daemon=True)
        self._beat.start()

    def release(self) -> None:
        if self._outer is not None:  # the outer holder releases it
            self._outer = None
            return
        with _HELD_LOCK:
            if _HELD.get(self.uri) is self:
                del _HELD[self.uri]
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=10)
        if self.tag is not None:
            self.store.delete(self.tag)
            self.tag = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
