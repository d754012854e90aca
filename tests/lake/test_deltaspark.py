"""What of the delta-spark engine runs without its jars: session confs it sets for one statement go back."""

from __future__ import annotations

import pytest

from coretelecoms.lake.deltaspark import (
    RETENTION_CHECK_CONF,
    TXN_APP_CONF,
    TXN_VERSION_CONF,
    DeltaSparkEngine,
)
from coretelecoms.lake.engine import Txn


def test_statement_confs_are_put_back(spark, tmp_path):
    engine = DeltaSparkEngine(spark, str(tmp_path / "lake"))
    spark.conf.set(TXN_APP_CONF, "someone-else")
    try:
        with engine._txn_conf(Txn("silver.x/bronze.x", 7)):
            assert spark.conf.get(TXN_APP_CONF) == "silver.x/bronze.x"
            assert spark.conf.get(TXN_VERSION_CONF) == "7"
        assert spark.conf.get(TXN_APP_CONF) == "someone-else"
        assert spark.conf.get(TXN_VERSION_CONF, None) is None
    finally:
        spark.conf.unset(TXN_APP_CONF)


def test_retention_check_is_lifted_only_inside_the_block(spark, tmp_path):
    engine = DeltaSparkEngine(spark, str(tmp_path / "lake"))
    assert spark.conf.get(RETENTION_CHECK_CONF, None) is None
    with pytest.raises(RuntimeError), engine._session_conf({RETENTION_CHECK_CONF: "false"}):
        assert spark.conf.get(RETENTION_CHECK_CONF) == "false"
        raise RuntimeError("vacuum failed")
    assert spark.conf.get(RETENTION_CHECK_CONF, None) is None
