"""Row rules: one YAML file per table, `conf/quality/<table>.yml`, each rule a predicate that a VALID row meets.

A rule is either free Spark SQL (`expr`) or a structured check on one column (`not_null`, `in`, `matches`,
`between`). Structured checks let nulls pass, as Great Expectations does, so pair them with a `not_null`
rule where the column is required; a free `expr` must be TRUE (false or NULL breaks it). Structured checks
also become native Great Expectations (accepted values, regex, range) in the generated suites.

Actions: `warn` keeps the row and counts it, `drop` removes and counts it, `quarantine` removes it and
stores it with the names of every rule it broke, `fail` stops the layer before anything is committed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pyspark.sql import Column
from pyspark.sql import functions as F

from coretelecoms.settings import REPO_ROOT, Settings

Action = Literal["warn", "drop", "quarantine", "fail"]
ACTIONS: tuple[str, ...] = ("warn", "drop", "quarantine", "fail")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class RuleFileError(ValueError):
    """A rule file that cannot be used; the message names the file, the rule and what is wrong."""


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


class Rule(BaseModel):
    """One named predicate over a row and what to do with rows that break it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    action: Action
    description: str | None = None
    expr: str | None = None
    column: str | None = None
    not_null: bool = False
    in_: list[str | int | float | bool] | None = Field(None, alias="in")
    matches: str | None = None
    between: tuple[float, float] | None = None

    @field_validator("name")
    @classmethod
    def _snake_case(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError(
                f"rule name {value!r} must be snake_case: lower-case letters, digits, underscores"
            )
        return value

    @field_validator("matches")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"'matches' is not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _exactly_one_check(self) -> Rule:
        structured = [
            k
            for k, v in (
                ("not_null", self.not_null),
                ("in", self.in_),
                ("matches", self.matches),
                ("between", self.between),
            )
            if v not in (None, False)
        ]
        if self.expr is not None:
            if not self.expr.strip():
                raise ValueError("'expr' is empty")
            if self.column is not None or structured:
                raise ValueError("give either 'expr', or 'column' with one check, not both")
            return self
        if self.column is None:
            raise ValueError(
                "give 'expr' (a SQL predicate) or 'column' with one of not_null / in / matches / between"
            )
        if len(structured) != 1:
            found = ", ".join(structured) or "none"
            raise ValueError(
                f"'column' needs exactly one of not_null / in / matches / between (found: {found})"
            )
        if self.between is not None and self.between[0] > self.between[1]:
            raise ValueError(f"'between' minimum {self.between[0]} is above maximum {self.between[1]}")
        return self

    @property
    def check(self) -> str:
        """`expr`, `not_null`, `in`, `matches` or `between`."""
        if self.expr is not None:
            return "expr"
        if self.not_null:
            return "not_null"
        if self.in_ is not None:
            return "in"
        return "matches" if self.matches is not None else "between"

    def predicate(self) -> Column:
        """TRUE for a row that meets the rule (NULL or FALSE breaks it)."""
        if self.expr is not None:
            return F.expr(self.expr)
        col = F.col(self.column)
        if self.not_null:
            return col.isNotNull()
        if self.in_ is not None:
            return col.isNull() | col.isin(list(self.in_))
        if self.matches is not None:
            return col.isNull() | col.rlike(self.matches)
        low, high = self.between
        return col.isNull() | col.between(low, high)

    def broken(self) -> Column:
        return ~F.coalesce(self.predicate(), F.lit(False))

    @property
    def sql(self) -> str:
        """The predicate as readable SQL (for Data Docs, metrics and messages)."""
        if self.expr is not None:
            return " ".join(self.expr.split())
        c = self.column
        if self.not_null:
            return f"{c} IS NOT NULL"
        if self.in_ is not None:
            return f"{c} IS NULL OR {c} IN ({', '.join(_sql_literal(v) for v in self.in_)})"
        if self.matches is not None:
            return f"{c} IS NULL OR {c} RLIKE {_sql_literal(self.matches)}"
        return f"{c} IS NULL OR {c} BETWEEN {self.between[0]:g} AND {self.between[1]:g}"


class RuleSet(BaseModel):
    """The rules of one table, plus how that table treats complaints whose customer or agent is unknown."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str
    on_orphan: Literal["keep", "quarantine"] = "keep"
    rules: list[Rule] = []
    source: str | None = None  # the file it came from, for messages

    @field_validator("table")
    @classmethod
    def _layer_entity(cls, value: str) -> str:
        if not re.match(r"^[a-z_]+\.[a-z_][a-z0-9_]*$", value):
            raise ValueError(f"table {value!r} must be <layer>.<entity>, e.g. silver.call_logs")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> RuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"rule name {rule.name!r} is used twice")
            seen.add(rule.name)
        return self

    def with_rules(self, extra: list[Rule]) -> RuleSet:
        """This set plus rules the layer adds itself (e.g. the orphan checks)."""
        return self.model_copy(update={"rules": [*self.rules, *extra]})

    def by_action(self, action: str) -> list[Rule]:
        return [r for r in self.rules if r.action == action]

    def names(self) -> list[str]:
        return [r.name for r in self.rules]


def _where(loc: tuple, data: dict) -> str:
    """A pydantic error location as text: `rules[2] ('end_after_start').action`."""
    parts: list[str] = []
    rules = data.get("rules") if isinstance(data, dict) else None
    i = 0
    while i < len(loc):
        part = loc[i]
        if part == "rules" and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            index = loc[i + 1]
            name = ""
            if isinstance(rules, list) and index < len(rules) and isinstance(rules[index], dict):
                name = f" ({rules[index].get('name')!r})" if rules[index].get("name") else ""
            parts.append(f"rules[{index}]{name}")
            i += 2
            continue
        parts.append(str(part))
        i += 1
    return ".".join(parts) or "rules"


def parse_rules(data: Any, source: str = "<rules>") -> RuleSet:
    """A parsed YAML document -> RuleSet, or RuleFileError naming the file, rule and problem."""
    if not isinstance(data, dict):
        raise RuleFileError(
            f"{source}: expected a mapping with 'table' and 'rules', got {type(data).__name__}"
        )
    try:
        return RuleSet(**data, source=source)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _where(tuple(err["loc"]), data)
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            message = (
                "unknown key (allowed: name, action, description, expr, column, not_null, in, matches, between)"
                if "rules[" in where
                else "unknown key (allowed: table, on_orphan, rules)"
            )
        more = f" (and {len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
        raise RuleFileError(f"{source}: {where}: {message}{more}") from None


def load_rules(path: Path | str) -> RuleSet:
    """Read and validate one rule file; the table it declares must match the file name."""
    path = Path(path)
    if not path.is_file():
        raise RuleFileError(f"{path}: rule file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    rules = parse_rules(data, str(path))
    if path.stem != rules.table:
        raise RuleFileError(f"{path}: declares table {rules.table!r} but the file is named for {path.stem!r}")
    return rules


def quality_dir(settings: Settings | None = None) -> Path:
    """`conf/quality` beside the settings file in use (the repository's when that is not a real path)."""
    if settings is not None:
        conf_file = settings.conf_file if settings.conf_file.is_absolute() else REPO_ROOT / settings.conf_file
        candidate = conf_file.parent / "quality"
        if candidate.is_dir():
            return candidate
    return REPO_ROOT / "conf" / "quality"


def rules_for(table: str, rules_dir: Path | None = None) -> RuleSet:
    """The rules of `table` from `<rules_dir>/<table>.yml`; a table without a file has no rules."""
    path = (rules_dir or quality_dir()) / f"{table}.yml"
    return load_rules(path) if path.exists() else RuleSet(table=table, source=str(path))
