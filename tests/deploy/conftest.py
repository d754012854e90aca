"""Fixtures for the deployment tests: EMR settings from conf/emr.yaml with a clean environment, moto's AWS."""

from __future__ import annotations

import os

import pytest
from deploy_helpers import REPO


@pytest.fixture
def clean_env(monkeypatch):
    """No CORETELECOMS* variables from the developer's shell, and no real AWS credentials."""
    for key in list(os.environ):
        if key.startswith("CORETELECOMS") or key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    return monkeypatch


@pytest.fixture
def emr_conf(clean_env):
    from coretelecoms.settings import load_settings

    return load_settings("emr", conf_dir=REPO / "conf")
