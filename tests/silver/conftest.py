"""Silver fixtures: a fresh lake per test (or per module for the day-by-day scenario) with bronze tables
written through the lake module, and a rules directory that tests can edit."""

from __future__ import annotations

import shutil

import pytest
from silver_support import Bronze, make_ctx

from coretelecoms.settings import REPO_ROOT


@pytest.fixture
def ctx(spark, tmp_path):
    return make_ctx(spark, tmp_path)


@pytest.fixture
def bronze(spark, ctx):
    return Bronze(spark, ctx.lake)


@pytest.fixture
def rules_dir(tmp_path):
    """A copy of conf/quality that a test may change."""
    target = tmp_path / "quality"
    shutil.copytree(REPO_ROOT / "conf" / "quality", target)
    return target
