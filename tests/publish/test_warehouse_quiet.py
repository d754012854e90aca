"""The local warehouse does not warn about the TRANSIENT tables publish creates; other warnings still show."""

from __future__ import annotations

import logging

from coretelecoms.publish.warehouse import connect
from coretelecoms.settings import WarehouseSettings


def test_fakesnow_transient_table_warning_is_filtered_and_nothing_else(tmp_path, caplog):
    cfg = WarehouseSettings(kind="fakesnow", path=str(tmp_path / "warehouse"))
    caplog.set_level(logging.WARNING)
    with connect(cfg, "test") as conn:
        cur = conn.cursor()
        cur.execute("CREATE DATABASE IF NOT EXISTS CORETELECOMS_DW")
        cur.execute("CREATE SCHEMA IF NOT EXISTS CORETELECOMS_DW.ANALYTICS")
        cur.execute("CREATE TRANSIENT TABLE CORETELECOMS_DW.ANALYTICS.STAGE_T (ID INT)")
        cur.execute("INSERT INTO CORETELECOMS_DW.ANALYTICS.STAGE_T VALUES (1)")
        assert cur.execute("SELECT COUNT(*) FROM CORETELECOMS_DW.ANALYTICS.STAGE_T").fetchone() == (1,)
    assert not [r for r in caplog.records if "transientproperty" in r.getMessage()]
    logging.getLogger("sqlglot").warning("Unsupported property otherproperty")
    assert [r.getMessage() for r in caplog.records if r.name == "sqlglot"] == [
        "Unsupported property otherproperty"
    ]
