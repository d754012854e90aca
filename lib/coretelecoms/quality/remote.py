"""The quality project of an s3:// lake: `<lake>/_quality/` on S3, worked on in a local copy.

GX 1.x keeps its stores (suites, validation definitions, validation results) and the Data Docs site on a
file system only; its S3 store backends were removed (GX recommends a file-system project synced with S3).
EMR Serverless throws a worker's disk away after each job, so a job pulls `_quality/gx/` from S3 before it
validates, pulls the project and the site again just before it rebuilds the site (what other jobs added
meanwhile: GX's index lists the pages the site holds), and pushes its new results and pages back. Every
job therefore adds to one site that lists them all.

Only what differs is sent (S3's ETag of a single-part put is the MD5 of its bytes), and only what this
job pruned is deleted, so a concurrent job's new results are never removed.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from coretelecoms.quality.docs_site import S3Site

log = logging.getLogger(__name__)

PROJECT = "gx"
SITE_DIR = "data_docs"
SUMMARY = "index.html"  # the reviewer's summary page (quality.summary)


def quality_site(lake_root: str, client=None) -> S3Site:
    """`<lake>/_quality/` of an s3:// lake."""
    from coretelecoms.lake.engine import s3_client
    from coretelecoms.landing.store import split_s3

    bucket, prefix = split_s3(lake_root)
    under = f"{prefix}/_quality" if prefix else "_quality"
    return S3Site(bucket, under, client or s3_client())


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def files(local: Path, under: str) -> set[str]:
    """Paths (relative to `local`, posix) of the files below `local/under`."""
    base = local / under
    if not base.is_dir():
        return set()
    return {p.relative_to(local).as_posix() for p in base.rglob("*") if p.is_file()}


def pull(site: S3Site, local: Path, under: str) -> int:
    """Download what S3 holds under `under` and the local copy lacks or holds differently; returns the count."""
    fetched = 0
    for key, etag in site.etags(under).items():
        path = local / key
        if path.is_file() and _md5(path) == etag:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(site.read(key) or b"")
        fetched += 1
    return fetched


def push(site: S3Site, local: Path, under: str) -> int:
    """Upload the local files under `under` that S3 lacks or holds differently; returns the count."""
    remote = site.etags(under)
    sent = 0
    for key in sorted(files(local, under)):
        path = local / key
        if remote.get(key) == _md5(path):
            continue
        site.write(key, path.read_bytes())
        sent += 1
    return sent


class RemoteProject:
    """The local copy of `<lake>/_quality/` and the S3 prefix it is synced with."""

    def __init__(self, site: S3Site, local: Path) -> None:
        self.site, self.local = site, Path(local)

    def pull_project(self, with_site: bool = False) -> None:
        """The GX project; `with_site` also the Data Docs pages (GX's index lists the validation pages the
        site holds, so a job's rebuild must start from every page the others published)."""
        n = sum(pull(self.site, self.local, under) for under in (PROJECT, SITE_DIR)[: 1 + with_site])
        log.info("quality project: %d file(s) from %s", n, self.site)

    def publish(self, removed: set[str]) -> None:
        """Send the new results and the rebuilt site; delete what this job pruned."""
        sent = push(self.site, self.local, PROJECT) + push(self.site, self.local, SITE_DIR)
        page = self.local / SUMMARY
        if page.is_file():  # rebuilt by every job, so always sent
            self.site.write(SUMMARY, page.read_bytes())
            sent += 1
        self.site.delete(sorted(removed))
        log.info("quality project and Data Docs: %d file(s) to %s, %d pruned", sent, self.site, len(removed))


def site_index(site: S3Site) -> str:
    """The key of the Data Docs index; a clear error when no job has published the site yet."""
    key = f"{SITE_DIR}/index.html"
    if site.read(key) is None:
        raise FileNotFoundError(f"no Data Docs yet: {site}/{key} does not exist (run silver first)")
    return key


def download_site(site: S3Site, dest: Path) -> Path:
    """The summary page and the Data Docs copied to `dest` for offline reading (only what changed since a
    previous download); returns the summary page, which links into `dest/data_docs/`."""
    site_index(site)
    n = pull(site, Path(dest), SITE_DIR)
    if (page := site.read(SUMMARY)) is not None:
        (Path(dest) / SUMMARY).write_bytes(page)
    log.info("Data Docs: %d file(s) from %s/%s to %s", n, site, SITE_DIR, dest)
    return Path(dest) / SUMMARY
