"""`silver.customers` (key `customer_id`): one row per customer, typed and cleaned from `bronze.customers`.

Emails are repaired only by the documented canonical fixes (lower-case; `.om` -> `.com`; `hotmai` ->
`hotmail`; `gmial` -> `gmail`) and then checked for syntactic validity; nothing else is guessed.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from coretelecoms.silver.conform import parse_date, text, title_case
from coretelecoms.silver.geography import with_address_parts

TABLE = "silver.customers"
BRONZE = "bronze.customers"
KEY = "customer_id"
COLUMNS = (
    "customer_id",
    "name",
    "gender",
    "date_of_birth",
    "signup_date",
    "email",
    "email_is_valid",
    "address",
    "state_code",
    "zip_code",
    "state_name",
)

# local@domain.tld: dot-separated atoms on the left, dot-separated labels and an alphabetic TLD on the right.
EMAIL_VALID = (
    r"^[a-z0-9!#%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#%&'*+/=?^_`{|}~-]+)*"
    r"@([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$"
)


def repair_email(c: str | Column) -> Column:
    """Lower-cased, trimmed, with the documented domain fixes; other mistakes are left for the validity flag.

    The fixes apply to the part after the last '@': `.om` -> `.com` at the end, `hotmai.` -> `hotmail.`
    and `gmial.` -> `gmail.` at the start."""
    email = F.lower(text(c))
    domain = F.substring_index(email, "@", -1)
    local = F.substring(email, F.lit(1), F.length(email) - F.length(domain) - 1)
    d = F.when(
        domain.endswith(".om"), F.concat(F.substring(domain, F.lit(1), F.length(domain) - 3), F.lit(".com"))
    )
    d = d.otherwise(domain)
    for wrong, right in (("hotmai.", "hotmail."), ("gmial.", "gmail.")):
        d = F.when(
            d.startswith(wrong), F.concat(F.lit(right), F.substring(d, len(wrong) + 1, 1 << 20))
        ).otherwise(d)
    return F.when(email.contains("@"), F.concat(local, F.lit("@"), d)).otherwise(email)


def email_is_valid(c: str | Column) -> Column:
    col = F.col(c) if isinstance(c, str) else c
    return F.coalesce(col.rlike(EMAIL_VALID), F.lit(False))


def with_email(df: DataFrame) -> DataFrame:
    """`email` repaired, plus `email_is_valid` (syntactic validity after repair; missing -> false)."""
    email = repair_email("email")
    return df.withColumns({"email": email, "email_is_valid": email_is_valid(email)})


def with_typed_columns(df: DataFrame) -> DataFrame:
    """Ids lower-case, names title-cased, gender upper-case, dates parsed; empty text -> NULL."""
    return df.withColumns(
        {
            "customer_id": F.lower(text("customer_id")),
            "name": title_case("name"),
            "gender": F.upper(text("gender")),
            "date_of_birth": parse_date("date_of_birth"),
            "signup_date": parse_date("signup_date"),
        }
    )


def clean_customers(df: DataFrame) -> DataFrame:
    """bronze.customers rows -> silver.customers columns (plus the lineage and rule-only columns kept)."""
    return df.transform(with_typed_columns).transform(with_email).transform(with_address_parts)
