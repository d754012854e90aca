"""`coretelecoms run landing --start D --end D`: one pass over the range, as jobs/landing.py does."""

from __future__ import annotations

from landing_support import write_bucket
from typer.testing import CliRunner

from coretelecoms.cli import app
from coretelecoms.context import RunContext
from coretelecoms.landing import web_forms
from coretelecoms.landing.registry import TABLE as LANDED
from coretelecoms.settings import load_settings


def test_a_range_run_lands_each_file_once_and_a_second_one_exports_nothing(
    spark, tmp_path, postgres, monkeypatch
):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CORETELECOMS__SOURCES__POSTGRES__PGDATA", str(postgres))
    monkeypatch.setenv("CORETELECOMS__SOURCES__GSHEETS__EXPORT_PATH", str(tmp_path / "src" / "agents.csv"))
    monkeypatch.setenv("CORETELECOMS__SOURCES__S3__URI", str(write_bucket(tmp_path / "src")))
    monkeypatch.setenv("CORETELECOMS__LAKE__DELTA_ENGINE", "delta-rs")
    exported = []
    copy = web_forms.export
    monkeypatch.setattr(
        web_forms,
        "export",
        lambda conn, schema, table, w: (exported.append(table), copy(conn, schema, table, w)),
    )
    args = ["run", "landing", "--start", "2025-11-20", "--end", "2025-11-21"]

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sorted(exported) == ["web_form_request_2025_11_20", "web_form_request_2025_11_21"]
    ctx = RunContext.create(load_settings(), "test", spark)
    landed = sorted(r["source_key"] for r in ctx.lake.read(LANDED).collect())
    assert len(landed) == 8 and len(set(landed)) == 8  # customers, agents, 2 x (calls, social, web forms)

    exported.clear()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert exported == []  # no COPY at all: every table of the range is already exported
    assert ctx.lake.count(LANDED) == 8
