"""Helpers for the bronze tests: generated sources with their own embedded PostgreSQL, and a run
context on a fresh lake that lands from them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from coretelecoms.context import RunContext
from coretelecoms.lake import engine_for
from coretelecoms.settings import Settings

START = date(2025, 11, 20)
SCALE = 0.002


class Sources:
    """A generated source-system state: files, a Postgres database, and the generator's manifest."""

    def __init__(self, root: Path, messy: float, days: int) -> None:
        from coretelecoms.sources import dsn, generate, local_postgres

        self.root = root
        self.pgdata = root / "pg"
        self.dir = root / "src"
        self.manifest = generate(
            self.dir,
            scale=SCALE,
            start=START,
            days=days,
            seed=7,
            messy=messy,
            pg_dsn=dsn(local_postgres(self.pgdata)),
        )

    def stop(self) -> None:
        from coretelecoms.sources import stop

        stop(self.pgdata)

    @property
    def s3(self) -> Path:
        return self.dir / "s3" / "core-telecoms-data-lake"

    def landing_rel(self, manifest_key: str) -> str:
        """Manifest file key (relative to the sources dir) -> path under landing/."""
        if manifest_key.startswith("s3/core-telecoms-data-lake/"):
            return "s3/" + manifest_key[len("s3/core-telecoms-data-lake/") :]
        if manifest_key.startswith("customer_complaints."):
            return f"postgres/customer_complaints/{manifest_key.split('.', 1)[1]}.csv"
        raise KeyError(manifest_key)

    def settings(self, root: Path, **postgres) -> Settings:
        return Settings(
            env="test",
            lake={"root": str(root / "lake"), "delta_engine": "delta-rs"},
            spark={"master": "local[2]"},
            sources={
                "s3": {"uri": str(self.s3)},
                "postgres": {"embedded": True, "pgdata": str(self.pgdata), **postgres},
                "gsheets": {"mode": "export", "export_path": str(self.dir / "gsheets" / "agents.csv")},
            },
            warehouse={},
            data_dir=root,
        )


def make_ctx(spark, settings: Settings, layer: str = "bronze") -> RunContext:
    return RunContext(settings, spark, engine_for(spark, settings.lake.root, "delta-rs"), layer)
