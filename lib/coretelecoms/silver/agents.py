"""`silver.agents` (key `agent_id` INT): the agents sheet, typed and conformed.

The sheet spells experience `intern` and `Mid-level`; silver uses the canonical `Intern`, `Junior`,
`Mid-Level`, `Senior`. The state arrives as a full name; silver conforms the name and adds its code.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from coretelecoms.silver.conform import EXPERIENCE, canonical, parse_int, title_case
from coretelecoms.silver.geography import with_state_from_name

TABLE = "silver.agents"
BRONZE = "bronze.agents"
KEY = "agent_id"
COLUMNS = ("agent_id", "name", "experience", "state_name", "state_code")


def with_typed_columns(df: DataFrame) -> DataFrame:
    """`id` -> `agent_id` INT, names title-cased, experience canonical."""
    return df.withColumns(
        {
            "agent_id": parse_int("id"),
            "name": title_case("name"),
            "experience": canonical("experience", EXPERIENCE),
        }
    )


def with_state(df: DataFrame) -> DataFrame:
    return df.withColumn("state_name", F.col("state")).transform(with_state_from_name)


def clean_agents(df: DataFrame) -> DataFrame:
    """bronze.agents rows -> silver.agents columns (plus the lineage and rule-only columns kept)."""
    return df.transform(with_typed_columns).transform(with_state)
