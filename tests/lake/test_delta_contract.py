"""One contract for every Delta engine (coretelecoms.lake.contract): each case on delta-rs and delta-spark.

delta-spark cases run only where its jars are on the classpath (EMR, through `coretelecoms emr smoke`);
elsewhere they skip and say why.
"""

from __future__ import annotations

import pytest

from coretelecoms.lake import engine_for
from coretelecoms.lake.contract import CASES
from coretelecoms.spark import has_delta_spark


@pytest.fixture(params=["delta-rs", "delta-spark"])
def lake(request, spark, tmp_path):
    if request.param == "delta-spark" and not has_delta_spark(spark):
        pytest.skip("delta-spark jars are not on this machine's classpath (no Maven Central); runs on EMR")
    return engine_for(spark, str(tmp_path / "lake"), request.param)


@pytest.mark.parametrize("case", CASES, ids=[case.__name__ for case in CASES])
def test_contract(case, spark, lake):
    case(spark, lake)
