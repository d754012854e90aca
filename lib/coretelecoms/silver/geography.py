"""US postal geography: state and territory codes and names, military "states", and reading them off addresses.

Customer addresses end in `<state code> <ZIP>` (the last two tokens), military ones in `APO|FPO|DPO AA|AE|AP
<ZIP>`; agents carry a full state name. Both sides conform to the same (code, name) pairs.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from coretelecoms.silver.conform import squeeze, text

STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
    "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip
DISTRICT_AND_TERRITORIES: dict[str, str] = {
    "DC": "District of Columbia",
    "PR": "Puerto Rico",
    "GU": "Guam",
    "VI": "U.S. Virgin Islands",
    "MP": "Northern Mariana Islands",
    "AS": "American Samoa",
    "FM": "Federated States of Micronesia",
    "MH": "Marshall Islands",
    "PW": "Palau",
}
MILITARY: dict[str, str] = {
    "AA": "Armed Forces Americas",
    "AE": "Armed Forces Europe",
    "AP": "Armed Forces Pacific",
}
POSTAL_CODES: dict[str, str] = {**STATES, **DISTRICT_AND_TERRITORIES, **MILITARY}

STATE_CODE = r"^[A-Za-z]{2}$"
ZIP_CODE = r"^\d{5}(-\d{4})?$"


def _map(pairs: dict[str, str]) -> Column:
    return F.create_map(*[F.lit(x) for kv in pairs.items() for x in kv])


def one_line(c: str | Column) -> Column:
    """A multi-line address as one line: lines trimmed, empty lines dropped, joined with ", ".

    Plain regular expressions (no higher-order functions), so it stays in generated code."""
    col = F.col(c) if isinstance(c, str) else c
    v = F.regexp_replace(col, r"\r\n?", "\n")
    v = text(v)  # no whitespace at either end
    v = F.regexp_replace(v, r"[^\S\n]*\n\s*", "\n")  # spaces around line breaks, and empty lines, go
    v = F.regexp_replace(v, r"[^\S\n]+", " ")  # runs of spaces inside a line become one
    return F.regexp_replace(v, "\n", ", ")


def state_name_of(code: str | Column) -> Column:
    """Postal code (state, DC, territory, military AA/AE/AP) -> its name; unknown -> NULL."""
    col = F.col(code) if isinstance(code, str) else code
    return _map(POSTAL_CODES)[F.upper(col)]


def state_code_of(name: str | Column) -> Column:
    """Full name ("west virginia", "Puerto Rico") -> postal code; unknown -> NULL."""
    col = F.col(name) if isinstance(name, str) else name
    return _map({v.lower(): k for k, v in POSTAL_CODES.items()})[F.lower(squeeze(col))]


def with_address_parts(df: DataFrame, column: str = "address") -> DataFrame:
    """`address` as one line plus `state_code`, `zip_code` (its last two tokens) and `state_name`.

    When the address does not end in `<2 letters> <ZIP>`, state_code and zip_code stay NULL: nothing is
    guessed. A two-letter code that is not a known postal code keeps its code and gets no state_name."""
    line = one_line(column)
    tokens = F.split(line, " ")
    zip_code = F.element_at(tokens, -1)
    code = F.element_at(tokens, -2)
    found = (F.size(tokens) >= 2) & zip_code.rlike(ZIP_CODE) & code.rlike(STATE_CODE)
    code = F.when(found, F.upper(code))
    return df.withColumns(
        {
            column: line,
            "state_code": code,
            "zip_code": F.when(found, zip_code),
            "state_name": state_name_of(code),
        }
    )


def with_state_from_name(df: DataFrame, column: str = "state_name") -> DataFrame:
    """A full state name -> its canonical spelling in `state_name` plus `state_code`.

    An unknown name is kept as trimmed text with a NULL code (a rule counts it)."""
    code = state_code_of(column)
    return df.withColumns({"state_code": code, column: F.coalesce(state_name_of(code), squeeze(column))})
