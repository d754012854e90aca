"""`small_lake`: a small lake built by the pipeline's own layers (sources -> bronze -> silver -> gold).

Skips, saying why, while a layer is not built yet. A shared lake fixture can replace this one by name.
"""

from __future__ import annotations

import importlib.util
from datetime import date, timedelta

import pytest

LAYERS = ("bronze", "silver", "gold")
START = date(2025, 11, 20)
DAYS = 2
SCALE = 0.001


def missing_layers() -> list[str]:
    return [layer for layer in LAYERS if importlib.util.find_spec(f"coretelecoms.{layer}") is None]


@pytest.fixture(scope="module")
def small_lake(spark, tmp_path_factory):
    """The data dir of a lake holding every layer for two drops; CORETELECOMS_DATA_DIR points at it."""
    missing = missing_layers()
    if missing:
        pytest.skip(f"the notebooks need a lake built by every layer; not built yet: {', '.join(missing)}")
    from coretelecoms.context import RunContext
    from coretelecoms.lake import engine_for
    from coretelecoms.runner import layer_function
    from coretelecoms.settings import load_settings
    from coretelecoms.sources import dsn, generate, local_postgres, stop

    root = tmp_path_factory.mktemp("notebook-lake")
    mp = pytest.MonkeyPatch()
    mp.setenv("CORETELECOMS_DATA_DIR", str(root))
    mp.setenv("CORETELECOMS_ENV", "local")
    mp.setenv("CORETELECOMS__LAKE__DELTA_ENGINE", "delta-rs")
    settings = load_settings("local")
    pgdata = settings.sources.postgres.pgdata
    try:
        generate(
            root / "sources",
            scale=SCALE,
            start=START,
            days=DAYS,
            seed=7,
            messy=0.0,
            pg_dsn=dsn(local_postgres(pgdata)),
        )
        ctx = RunContext(settings, spark, engine_for(spark, settings.lake.root, "delta-rs"), "bronze")
        for day in (START + timedelta(days=i) for i in range(DAYS)):
            for layer in LAYERS:
                ctx = ctx.for_layer(layer)
                failed = [e for e in layer_function(layer)(ctx, day) if e.status == "failed"]
                assert not failed, f"{layer} {day}: {failed[0].source}: {failed[0].error}"
        yield root
    finally:
        stop(pgdata)
        mp.undo()
