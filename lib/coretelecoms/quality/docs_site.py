"""The Data Docs site as files: pages that render offline, on a local disk or under an S3 prefix.

GX 1.x pages load jQuery, Bootstrap, bootstrap-table (which draws the index's validation table), Font
Awesome and Vega from CDNs, and the navbar logo from an S3 bucket of GX's. Offline, the index lists no
validation at all. The exact files those URLs name are vendored from the npm registry into
`docs_assets/` (pinned versions, sha256 in `docs_assets/manifest.json`), copied into the site's
`static/vendor/`, and every page is rewritten after each build to load its local copy.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).with_name("docs_assets")
VENDOR = "static/vendor"
GX_IMAGES = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/([\w.-]+)(\?[^\"']*)?"
)
# A tag that loads something from the network when the page opens (links in <a href> do not).
REMOTE_LOAD = re.compile(r"<(?:script|link|img)\b[^>]*?\b(?:src|href)=[\"'](https?:)?//([^\"']+)[\"']", re.I)
SRI = re.compile(r"\s+(?:integrity=\"[^\"]*\"|crossorigin=\"[^\"]*\")")


@dataclass(frozen=True)
class Asset:
    file: str  # path under docs_assets/ and under the site's static/vendor/
    package: str
    version: str
    sha256: str
    replaces: tuple[str, ...]  # the CDN URLs GX pages use for this file


@functools.cache
def assets() -> tuple[Asset, ...]:
    manifest = json.loads((ASSETS_DIR / "manifest.json").read_text())
    return tuple(
        Asset(f["file"], f["package"], f["version"], f["sha256"], tuple(f["replaces"]))
        for f in manifest["files"]
    )


def verify_assets() -> list[str]:
    """Files whose bytes differ from their manifest checksum (empty when the vendored copy is intact)."""
    return [
        a.file for a in assets() if hashlib.sha256((ASSETS_DIR / a.file).read_bytes()).hexdigest() != a.sha256
    ]


def remote_loads(html: str) -> list[str]:
    """The URLs a page still fetches from the network when it opens."""
    return [m.group(2) for m in REMOTE_LOAD.finditer(html)]


def offline_page(html: str, depth: int) -> str:
    """`html` loading the vendored copies instead of CDNs; `depth` = folders between the page and the site root."""
    up = "../" * depth
    for asset in assets():
        for url in asset.replaces:
            html = html.replace(f'"{url}"', f'"{up}{VENDOR}/{asset.file}"')
    # The integrity hashes are of the same bytes, but crossorigin on a file:// page makes Chromium refuse
    # the script (CORS on a null origin), so both attributes go from the tags now loading local copies.
    html = re.sub(
        rf"<script src=\"{re.escape(up + VENDOR)}/[^\"]+\"[^>]*>",
        lambda m: SRI.sub("", m.group(0)),
        html,
    )
    # GX's own images are in the site already (static/images); the remote copy adds a tracking query.
    return GX_IMAGES.sub(lambda m: f"{up}static/images/{m.group(1)}", html)


# ----------------------------------------------------------------------------------------------- storage


class LocalSite:
    """The site in a folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __str__(self) -> str:
        return str(self.root)

    def pages(self) -> Iterator[str]:
        for path in self.root.rglob("*.html"):
            yield path.relative_to(self.root).as_posix()

    def read(self, key: str) -> bytes | None:
        path = self.root / key
        return path.read_bytes() if path.exists() else None

    def write(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


class S3Site:
    """The site under `s3://bucket/prefix/` (where GX's TupleS3StoreBackend writes it)."""

    def __init__(self, bucket: str, prefix: str, client) -> None:
        self.bucket, self.prefix, self.client = bucket, prefix.strip("/"), client

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def keys(self) -> Iterator[str]:
        return iter(self.etags())

    def pages(self) -> Iterator[str]:
        return (k for k in self.keys() if k.endswith(".html"))

    def etags(self, under: str = "") -> dict[str, str]:
        """Key (relative to the prefix) -> ETag of every object below `under` (all of the site's by default)."""
        start = self._key(under.strip("/") + "/" if under.strip("/") else "")
        found = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
            for obj in page.get("Contents", []):
                found[obj["Key"][len(self._key("")) :]] = obj["ETag"].strip('"')
        return found

    def delete(self, keys: list[str]) -> None:
        for i in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            chunk = [{"Key": self._key(k)} for k in keys[i : i + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True})

    def presigned_url(self, key: str, seconds: int) -> str:
        """A GET URL signed with SigV4 (boto3 may pick the legacy SigV2 for presigning, which newer regions
        refuse), by the same endpoint, region and default credential chain as the client."""
        import boto3
        from botocore.config import Config

        meta = self.client.meta
        signer = boto3.Session().client(
            "s3",
            endpoint_url=meta.endpoint_url,
            region_name=meta.region_name,
            config=Config(signature_version="s3v4"),
        )
        return signer.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=seconds
        )

    def read(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def write(self, key: str, data: bytes) -> None:
        kind = mimetypes.guess_type(key)[0] or "application/octet-stream"
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=kind)


def make_offline(site) -> int:
    """Put the vendored assets into the site (once per manifest) and rewrite the pages that still load
    CDN copies; returns how many pages were rewritten. Idempotent: a rewritten page has nothing left."""
    manifest = (ASSETS_DIR / "manifest.json").read_bytes()
    if site.read(f"{VENDOR}/manifest.json") != manifest:
        for asset in assets():
            site.write(f"{VENDOR}/{asset.file}", (ASSETS_DIR / asset.file).read_bytes())
        site.write(f"{VENDOR}/manifest.json", manifest)  # last: its presence says the copy is complete
    rewritten = 0
    for key in list(site.pages()):
        html = site.read(key).decode("utf-8")
        if not remote_loads(html):
            continue
        page = offline_page(html, depth=len(PurePosixPath(key).parts) - 1)
        left = remote_loads(page)
        if left:  # a GX upgrade that adds a CDN file: say which, the page still works online
            log.warning("Data Docs page %s still loads %s (not vendored)", key, ", ".join(sorted(set(left))))
        if page != html:
            site.write(key, page.encode("utf-8"))
            rewritten += 1
    return rewritten


def serve_folder(folder: Path, port: int, say=print) -> None:
    """Serve `folder` on 127.0.0.1 only (the pages hold row counts of production tables)."""
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:  # one line per request would bury the URL
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Quiet, directory=str(folder)))
    say(f"serving http://127.0.0.1:{server.server_address[1]}/index.html  (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
