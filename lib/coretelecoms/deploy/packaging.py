"""Build what a cluster needs to run the project: the wheel and a packed Python environment for `spark.archives`.

Standard library only (venv-pack is imported when packing), so the image builds can call it before the
project's dependencies are installed: `python -m coretelecoms.deploy.packaging requirements dist/*.whl`.

The archive follows the EMR Serverless recipe for bringing a Python environment (emr-spark-8.2.0 ships
Python 3.11-3.13 but none of the project's dependencies): a `venv --copies` with the project and its runtime dependencies except PySpark (the
cluster provides Spark), the interpreter's standard library copied in so `./environment/bin/python` does not
depend on a Python installed on the workers, packed by venv-pack. It runs only where it was built for: same
CPU architecture, and an interpreter that does not link a shared libpython. `docker/emr/venv.Dockerfile`
builds it on Amazon Linux 2023 (what EMR runs) with such an interpreter.
"""

from __future__ import annotations

import argparse
import email.parser
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
# Spark itself comes from the cluster: a pip-installed pyspark would shadow EMR's build of it.
CLUSTER_PROVIDED = ("pyspark", "py4j")
# Parts of the standard library a Spark job never imports; they only make the archive bigger.
# EMR Serverless unpacks `venv.tar.gz#environment` here (the job's working directory is /home/hadoop); the
# packed pyvenv.cfg points `home` at it, so the interpreter finds the standard library packed beside it.
EMR_ENV_PREFIX = "/home/hadoop/environment"
STDLIB_SKIP = (
    "site-packages",
    "dist-packages",
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "__pycache__",
)


class PackagingError(RuntimeError):
    pass


@dataclass
class PackageResult:
    wheel: Path
    archive: Path | None
    requirements: list[str]
    warnings: list[str] = field(default_factory=list)


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise PackagingError(f"{what} failed ({' '.join(cmd[:4])} …):\n{tail}")


def build_wheel(out_dir: Path, source: Path = REPO_ROOT, python: str = sys.executable) -> Path:
    """`pip wheel --no-deps` of the project, built from a copy so the work tree gets no build/ or egg-info."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="coretelecoms-src-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(source / name, src / name)
        shutil.copytree(
            source / "lib", src / "lib", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
        )
        before = set(out_dir.glob("coretelecoms-*.whl"))
        _run(
            [python, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out_dir), str(src)], "pip wheel"
        )
    wheels = sorted(out_dir.glob("coretelecoms-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise PackagingError(f"pip wheel wrote no coretelecoms wheel into {out_dir}")
    new = [w for w in wheels if w not in before]
    return (new or wheels)[-1]


def runtime_requirements(wheel: Path, exclude: tuple[str, ...] = CLUSTER_PROVIDED) -> list[str]:
    """The wheel's pinned runtime requirements (no extras), minus what the cluster provides."""
    with zipfile.ZipFile(wheel) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(zf.read(meta_name).decode())
    out = []
    for req in meta.get_all("Requires-Dist") or []:
        if ";" in req and "extra" in req.split(";", 1)[1]:
            continue
        name = re.split(r"[\s\[<>=!~;(]", req, maxsplit=1)[0]
        if name.lower().replace("_", "-") in exclude:
            continue
        out.append(req.strip())
    return out


def _copy_stdlib(venv: Path) -> None:
    """Make the venv's interpreter self-contained: the standard library next to it, as EMR's recipe does."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    target = venv / "lib" / stdlib.name
    target.mkdir(parents=True, exist_ok=True)
    for entry in stdlib.iterdir():
        if entry.name in STDLIB_SKIP or (target / entry.name).exists():
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, ignore=shutil.ignore_patterns(*STDLIB_SKIP))
        else:
            shutil.copy2(entry, target / entry.name)


def build_archive(
    wheel: Path,
    out: Path,
    *,
    requirements: list[str] | None = None,
    conf_dir: Path | None = REPO_ROOT / "conf",
    python: str = sys.executable,
    include_stdlib: bool = True,
    python_prefix: str | None = EMR_ENV_PREFIX,
) -> list[str]:
    """Pack a venv holding the wheel (+ requirements) into `out` (a .tar.gz for spark.archives).

    `requirements=None` installs the wheel's runtime requirements minus PySpark; a list overrides them (the
    tests pass [] to stay offline and fast). `conf/` goes in as `environment/conf`, which the job finds through
    CORETELECOMS_CONF_DIR. `python_prefix` is where the archive will be unpacked (venv-pack's --python-prefix).
    Returns warnings about where the archive will not run.
    """
    import venv_pack

    warnings = []
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        warnings.append(
            f"{python} links a shared libpython: the archive needs that library on the workers; build it with "
            "docker/emr/venv.Dockerfile for EMR Serverless"
        )
    reqs = runtime_requirements(wheel) if requirements is None else requirements
    with tempfile.TemporaryDirectory(prefix="coretelecoms-venv-") as tmp:
        env = Path(tmp) / "environment"
        # No pip inside (not needed at run time): the building interpreter's pip installs into it.
        _run([python, "-m", "venv", "--copies", "--without-pip", str(env)], "python -m venv")
        pip = [python, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "--quiet"]
        _run([*pip, "--no-deps", str(wheel)], "pip install (wheel)")
        if reqs:
            _run([*pip, *reqs], "pip install (requirements)")
        if conf_dir is not None and conf_dir.is_dir():
            shutil.copytree(conf_dir, env / "conf")
        if include_stdlib:
            _copy_stdlib(env)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.unlink()
        venv_pack.pack(prefix=str(env), output=str(out), python_prefix=python_prefix, verbose=False)
    return warnings


def package(
    out_dir: Path,
    *,
    requirements: list[str] | None = None,
    archive: bool = True,
    python: str = sys.executable,
) -> PackageResult:
    """The wheel and, unless `archive=False`, `venv.tar.gz` in `out_dir`."""
    out_dir = Path(out_dir)
    wheel = build_wheel(out_dir, python=python)
    reqs = runtime_requirements(wheel) if requirements is None else requirements
    if not archive:
        return PackageResult(wheel=wheel, archive=None, requirements=reqs)
    target = out_dir / "venv.tar.gz"
    warnings = build_archive(wheel, target, requirements=reqs, python=python)
    return PackageResult(wheel=wheel, archive=target, requirements=reqs, warnings=warnings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coretelecoms.deploy.packaging")
    sub = parser.add_subparsers(dest="cmd", required=True)
    req = sub.add_parser("requirements", help="print a wheel's runtime requirements, minus PySpark")
    req.add_argument("wheel", type=Path)
    req.add_argument("--keep-pyspark", action="store_true", help="keep pyspark/py4j (a standalone image)")
    pkg = sub.add_parser("package", help="build the wheel and venv.tar.gz")
    pkg.add_argument("out_dir", type=Path)
    pkg.add_argument("--no-archive", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "requirements":
            exclude = () if args.keep_pyspark else CLUSTER_PROVIDED
            print("\n".join(runtime_requirements(args.wheel, exclude)))
        else:
            result = package(args.out_dir, archive=not args.no_archive)
            print(result.wheel)
            if result.archive:
                print(result.archive)
            for warning in result.warnings:
                print(f"warning: {warning}", file=sys.stderr)
    except PackagingError as exc:
        print(f"packaging error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    sys.exit(main())
