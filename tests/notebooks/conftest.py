"""`notebook_lake`: the shared four-day lakehouse, with the environment a notebook kernel needs to find it."""

from __future__ import annotations

import pytest


@pytest.fixture
def notebook_lake(lakehouse, monkeypatch):
    """The data dir of the shared lake; the kernel inherits CORETELECOMS_DATA_DIR pointing at it."""
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(lakehouse.data_dir))
    monkeypatch.setenv("CORETELECOMS_ENV", "local")
    monkeypatch.setenv("CORETELECOMS__LAKE__DELTA_ENGINE", "delta-rs")
    return lakehouse.data_dir
