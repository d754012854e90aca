"""Copy one source object into landing exactly once, as a new version when its content changed.

The first delivery keeps its original name (`landing/s3/call logs/call_logs_day_2025-11-20.csv`). A
re-delivery with new content lands beside it in a version folder named from the landing sequence and the
checksum (`call logs/v2-3fa9c1e2b4d0/call_logs_day_2025-11-20.csv`): a new path, so the bronze stream
picks it up as a new file, and lineage (`_source_file`) tells the versions apart. The drop date stays in
the file name. Identical content (same ETag, or same SHA-256 after a copy) is skipped.

Each file is recorded in `_ops.landed_files` as soon as it is published, so a run killed half-way loses
at most the record of the one file it was publishing; the re-run copies that file again to the same path
(same registry state and content give the same name) and records it once.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from coretelecoms.context import RunContext
from coretelecoms.landing.registry import LandedFile, Registry
from coretelecoms.landing.store import HashingWriter, LandingStore, date_in_name


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Outcome:
    """What landing did for one source in one run."""

    landed: list[LandedFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def version_rel(rel: str, version: int, sha256: str) -> str:
    if version <= 1:
        return rel
    folder, name = posixpath.split(rel)
    return posixpath.join(folder, f"v{version}-{sha256[:12]}", name)


class Lander:
    def __init__(
        self, ctx: RunContext, store: LandingStore, registry: Registry, run_date: date | None
    ) -> None:
        self.ctx = ctx
        self.store = store
        self.registry = registry
        self.run_date = run_date

    def unchanged(self, source: str, key: str, etag: str | None, size: int | None) -> bool:
        """Cheap check before any byte moves: the latest landed version has this ETag and size."""
        latest = self.registry.latest(source, key)
        return bool(latest and etag and latest["etag"] == etag and (size is None or latest["size"] == size))

    def land(
        self,
        *,
        source: str,
        system: str,
        source_uri: str,
        key: str,
        rel: str,
        write: Callable[[HashingWriter], None],
        etag: str | None = None,
        modified: datetime | None = None,
        drop_date: date | None = None,
    ) -> LandedFile | None:
        """Stage the content through `write`, then publish it unless the latest version has the same SHA-256."""
        started = time.monotonic()
        latest = self.registry.latest(source, key)
        with self.store.stage() as writer:
            write(writer)
            writer.close()
            if latest is not None and latest["sha256"] == writer.sha256:
                return None
            version = (latest["version"] + 1) if latest else 1
            target = version_rel(rel, version, writer.sha256)
            self.store.publish(writer, target)
            landed = LandedFile(
                source=source,
                system=system,
                source_uri=source_uri,
                source_key=key,
                version=version,
                landing_path=target,
                size=writer.size,
                etag=etag,
                sha256=writer.sha256,
                source_modified=modified,
                drop_date=drop_date or date_in_name(key),
                run_date=self.run_date,
                landed_at=now(),
                copy_seconds=round(time.monotonic() - started, 3),
                run_id=self.ctx.run_id,
            )
            self.registry.add([landed])
            return landed
