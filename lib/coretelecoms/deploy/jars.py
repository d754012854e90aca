"""The JVM jars production needs beside the EMR runtime: the Snowflake Spark connector and its JDBC driver.

EMR's image ships Spark and Delta; the connector is ours to bring. The versions live in `jars.json` beside this
file, with the sha256 of each jar. `fetch` downloads them from a Maven repository and checks them twice: against
the `.sha1` the repository publishes (a broken transfer) and against the pinned sha256 (a changed artifact).
A jar without a pinned sha256 is refused unless `pin=True`, which records it: the first download on a machine
that reaches Maven Central pins the versions for every later build (`coretelecoms emr jars --pin`, then commit
`jars.json`).

Standard library only: the EMR image build runs it before the project's dependencies are installed
(`python -m coretelecoms.deploy.jars fetch /jars`).
"""

from __future__ import annotations

import hashlib
import json
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

LOCK = Path(__file__).with_name("jars.json")
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
# Where the custom EMR image keeps them (docker/emr/Dockerfile); the archive path uploads them to S3 instead.
IMAGE_JARS_DIR = "/opt/coretelecoms/jars"


class JarError(RuntimeError):
    pass


@dataclass(frozen=True)
class Jar:
    group: str
    artifact: str
    version: str
    sha256: str | None
    main_class: str

    @property
    def coordinate(self) -> str:
        return f"{self.group}:{self.artifact}:{self.version}"

    @property
    def file_name(self) -> str:
        return f"{self.artifact}-{self.version}.jar"

    def url(self, repo: str = MAVEN_CENTRAL) -> str:
        return f"{repo.rstrip('/')}/{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{self.file_name}"


def pinned(lock: Path | None = None) -> tuple[Jar, ...]:
    data = json.loads((lock or LOCK).read_text())
    return tuple(
        Jar(j["group"], j["artifact"], j["version"], j.get("sha256"), j["class"]) for j in data["jars"]
    )


CONNECTOR, JDBC = pinned()


def jar_paths(folder: str) -> list[str]:
    """The pinned jars as files of `folder` (an s3:// prefix or a directory on the image)."""
    return [f"{folder.rstrip('/')}/{jar.file_name}" for jar in pinned()]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(folder: Path, jars: tuple[Jar, ...] | None = None) -> list[Path]:
    """The pinned jars in `folder`, each matching its pinned sha256; JarError names the first that does not."""
    out = []
    for jar in jars or pinned():
        path = folder / jar.file_name
        if not path.is_file():
            raise JarError(f"{jar.coordinate} is missing from {folder} (run `coretelecoms emr jars`)")
        if not jar.sha256:
            raise JarError(
                f"{jar.coordinate} has no pinned sha256 in jars.json (run `coretelecoms emr jars --pin`)"
            )
        actual = sha256_of(path)
        if actual != jar.sha256:
            raise JarError(f"{path.name}: sha256 {actual} differs from the pinned {jar.sha256}")
        out.append(path)
    return out


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.read()
    except OSError as exc:
        raise JarError(f"cannot download {url}: {exc}") from None


def fetch(
    folder: Path, *, repo: str = MAVEN_CENTRAL, pin: bool = False, lock: Path | None = None
) -> list[Path]:
    """Download the pinned jars into `folder` (kept when already there and matching) and verify them."""
    lock = lock or LOCK
    folder.mkdir(parents=True, exist_ok=True)
    data = json.loads(lock.read_text())
    for entry, jar in zip(data["jars"], pinned(lock), strict=True):
        path = folder / jar.file_name
        if not (path.is_file() and jar.sha256 and sha256_of(path) == jar.sha256):
            body = _download(jar.url(repo))
            published = _download(jar.url(repo) + ".sha1").decode().split()[0].strip().lower()
            if hashlib.sha1(body).hexdigest() != published:
                raise JarError(f"{jar.file_name}: the download does not match the repository's .sha1")
            path.write_bytes(body)
        if pin and not jar.sha256:
            entry["sha256"] = sha256_of(path)
    if pin:
        lock.write_text(json.dumps(data, indent=2) + "\n")
    return verify(folder, pinned(lock))


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "fetch":
        print("usage: python -m coretelecoms.deploy.jars fetch DIR", file=sys.stderr)
        return 2
    try:
        for path in fetch(Path(argv[1])):
            print(path)
    except JarError as exc:
        print(f"jars: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
