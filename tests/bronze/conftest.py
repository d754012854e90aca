"""Fixtures for bronze: generated sources, clean and messy, each with its own embedded PostgreSQL."""

from __future__ import annotations

import pytest
from bronze_support import Sources


@pytest.fixture(scope="module")
def messy_sources(tmp_path_factory):
    sources = Sources(tmp_path_factory.mktemp("messy"), messy=0.05, days=4)
    yield sources
    sources.stop()


@pytest.fixture(scope="module")
def clean_sources(tmp_path_factory):
    sources = Sources(tmp_path_factory.mktemp("clean"), messy=0.0, days=2)
    yield sources
    sources.stop()
