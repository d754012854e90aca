"""`sources generate --messy` ends in its report, never a traceback, whatever faults a seed draws."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from coretelecoms.cli import app
from coretelecoms.sources import stop

runner = CliRunner()


def test_messy_generation_over_several_seeds_prints_a_clean_report(tmp_path, monkeypatch):
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    unknown_counts = 0
    try:
        for seed in (1, 2, 3, 7):
            result = runner.invoke(
                app,
                [
                    "sources",
                    "generate",
                    "--scale",
                    "0.001",
                    "--days",
                    "2",
                    "--seed",
                    str(seed),
                    "--messy",
                    "0.2",
                ],
            )
            assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
            assert result.exit_code == 0, result.output
            assert "Traceback" not in result.output
            assert "Generated source systems" in result.output and "injected faults:" in result.output
            manifest = json.loads((tmp_path / "sources" / "manifest.json").read_text())
            unknown = [p for p, info in manifest["files"].items() if info["records"] is None]
            unknown_counts += len(unknown)
            for path in unknown:
                # The row of a file without a countable record count says so instead of a number.
                row = next(line for line in result.output.splitlines() if path.rsplit("/", 1)[-1] in line)
                assert row.rstrip(" │|").endswith("?"), row
    finally:
        stop(tmp_path / "sources" / "postgres")
    # The seeds were chosen so that at least one draws a truncated file with no record count.
    assert unknown_counts > 0
