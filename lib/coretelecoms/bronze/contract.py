"""The bronze data contract: the text columns of each table and how source headers map onto them.

Headers are matched by name, never by position: both sides are squashed to lower-case letters and
digits (`COMPLAINT_catego ry` -> `complaintcategory`, `callLogsGenerationDate` ->
`calllogsgenerationdate`), so stray spaces, underscores and casing do not matter. A leftover index
column (empty header, `Column1`, `Unnamed: 0`) becomes `source_index`. Unknown columns are kept for
`_rescued_data` under a snake_case name like the contract's (`Call Channel`, `callChannel` ->
`call_channel`; an empty header -> `_c<position>`); contract columns the file lacks are reported as missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "name", "gender", "date_of_birth", "signup_date", "email", "address"),
    "agents": ("id", "name", "experience", "state"),
    "call_logs": (
        "source_index",
        "call_id",
        "customer_id",
        "complaint_category",
        "agent_id",
        "call_start_time",
        "call_end_time",
        "resolution_status",
        "call_logs_generation_date",
    ),
    "social_media": (
        "source_index",
        "complaint_id",
        "customer_id",
        "complaint_category",
        "agent_id",
        "resolution_status",
        "request_date",
        "resolution_date",
        "media_channel",
        "media_complaint_generation_date",
    ),
    "web_forms": (
        "source_index",
        "request_id",
        "customer_id",
        "complaint_category",
        "agent_id",
        "resolution_status",
        "request_date",
        "resolution_date",
        "web_form_generation_date",
    ),
}

PARTITION_BY = ["_source_date"]
INDEX_NAMES = {"", "column1", "unnamed0", "index", "sourceindex"}


def squash(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def snake_case(name: str) -> str:
    """`Call Channel`, `callChannel`, `HTTPStatus` -> `call_channel`, `call_channel`, `http_status`."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name.strip())
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


@dataclass
class HeaderMap:
    """Where each contract column sits in one file's header."""

    positions: dict[str, int]  # contract column -> position in the file
    extras: list[tuple[int, str]] = field(
        default_factory=list
    )  # (position, original header) of unknown columns
    missing: list[str] = field(default_factory=list)
    reordered: bool = False  # contract columns not in contract order


def map_header(header: list[str], source: str) -> HeaderMap:
    columns = COLUMNS[source]
    wanted = {squash(c): c for c in columns}
    positions: dict[str, int] = {}
    extras: list[tuple[int, str]] = []
    for i, raw in enumerate(header):
        key = squash(raw)
        target = "source_index" if "source_index" in columns and key in INDEX_NAMES else wanted.get(key)
        if target and target not in positions:
            positions[target] = i
        else:
            extras.append((i, snake_case(raw) or f"_c{i}"))
    # Two unknown columns with one name would collide in the rescued JSON object.
    seen: dict[str, int] = {}
    unique = []
    for i, name in extras:
        seen[name] = seen.get(name, 0) + 1
        unique.append((i, name if seen[name] == 1 else f"{name}_{seen[name]}"))
    order = [positions[c] for c in columns if c in positions]
    return HeaderMap(positions, unique, [c for c in columns if c not in positions], order != sorted(order))
