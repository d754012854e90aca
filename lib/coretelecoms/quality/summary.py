"""The reviewer's one page, `<lake>/_quality/index.html`: each table's latest run, the rules it broke with
counts, its quarantine size, links into the Data Docs, and the quarantine rate per day as a chart.

Rendered with Jinja2 from `_quality.metrics` and `silver.quarantine`, read with delta-rs (no Spark), right
after each layer rebuilds the Data Docs. The page is self-contained (inline CSS, an inline SVG chart), so it
opens offline and from S3 as a single object.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from coretelecoms.ops.overview import table_rows
from coretelecoms.quality.metrics import TABLE as METRICS
from coretelecoms.quality.remote import SUMMARY

# silver.tables.QUARANTINE_TABLE; not imported: quality sits below the layers.
QUARANTINE = "silver.quarantine"
PAGE = SUMMARY
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


@dataclass
class Broken:
    rule: str
    action: str
    stage: str
    rows_failed: int | None
    rows_checked: int | None
    gating: bool


@dataclass
class TableSummary:
    name: str
    run_id: str
    run_date: object
    passed: bool
    broken: list[Broken]
    quarantined: int
    links: list[dict] = field(default_factory=list)


def gates(m: dict) -> bool:
    """Whether a failed expectation stopped its table (the severities quality.gx.rule_checks gives)."""
    if m["kind"] not in ("expectation", "check") or m["success"]:
        return False
    return m["action"] == "fail" or (m["stage"] == "batch" and m["action"] in ("quarantine", "drop"))


def latest_runs(metrics: list[dict], quarantined: dict[str, int]) -> list[TableSummary]:
    by_table: dict[str, list[dict]] = defaultdict(list)
    for m in metrics:
        by_table[m["table_name"]].append(m)
    found = []
    for name in sorted(by_table):
        rows = by_table[name]
        last = max(rows, key=lambda m: (m["recorded_at"], m["run_id"]))
        run = [m for m in rows if m["run_id"] == last["run_id"]]
        broken = [
            Broken(m["rule"], m["action"], m["stage"], m["rows_failed"], m["rows_checked"], gates(m))
            for m in run
            if not m["success"] or (m["rows_failed"] or 0) > 0
        ]
        broken.sort(key=lambda b: (not b.gating, b.stage, b.rule))
        passed = not any(b.gating for b in broken)
        found.append(
            TableSummary(name, last["run_id"], last["run_date"], passed, broken, quarantined.get(name, 0))
        )
    return found


def quarantine_rates(metrics: list[dict], quarantine: list[dict]) -> dict[str, dict]:
    """table -> {day: share of that day's incoming rows quarantined}. The day's incoming rows are the rows
    its batch rules checked (`kind = rule`, `stage = batch`)."""
    incoming: dict[tuple, int] = {}
    for m in metrics:
        if m["kind"] == "rule" and m["stage"] == "batch" and m["run_date"] and m["rows_checked"]:
            key = (m["table_name"], m["run_date"])
            incoming[key] = max(incoming.get(key, 0), m["rows_checked"])
    held: dict[tuple, int] = defaultdict(int)
    for q in quarantine:
        held[(q["table_name"], q["_source_date"])] += 1
    rates: dict[str, dict] = defaultdict(dict)
    for (table, day), n in sorted(incoming.items()):
        rates[table][day] = held.get((table, day), 0) / n
    return {t: days for t, days in rates.items() if any(days.values())}


def chart(rates: dict[str, dict], width: int = 760, height: int = 240) -> dict:
    """An SVG line chart's coordinates (the template draws it)."""
    days = sorted({d for series in rates.values() for d in series})
    left, right, top, bottom = 48, width - 170, 12, height - 28
    peak = max((r for series in rates.values() for r in series.values()), default=0) or 1.0

    def x(day) -> float:
        return left if len(days) == 1 else left + (right - left) * days.index(day) / (len(days) - 1)

    def y(rate: float) -> float:
        return bottom - (bottom - top) * rate / peak

    series = []
    for i, (name, points) in enumerate(sorted(rates.items())):
        dots = [
            {"x": round(x(d), 1), "y": round(y(r), 1), "day": d, "label": f"{r:.2%}"}
            for d, r in sorted(points.items())
        ]
        series.append(
            {
                "name": name,
                "colour": COLOURS[i % len(COLOURS)],
                "points": " ".join(f"{p['x']},{p['y']}" for p in dots),
                "dots": dots,
            }
        )
    step = max(1, len(days) // 8)
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": right,
        "top": top,
        "bottom": bottom,
        "y_max": f"{peak:.1%}",
        "x_labels": [{"x": round(x(d), 1), "text": str(d)[5:]} for d in days[::step]],
        "series": series,
    }


def docs_links(root: Path, table: str) -> list[dict]:
    """Links (relative to the summary) to the table's suite pages and newest validation pages. Found from the
    GX project's stored results, which every job pulls, so it holds on S3 as locally."""
    layer, _, entity = table.partition(".")
    stored = root / "gx" / "uncommitted"  # where GX's file project keeps validation results
    links = []
    for stage in ("batch", "table"):
        results = sorted(
            (stored / "validations" / layer / entity / stage).glob("*/*/*.json"),
            key=lambda p: p.parent.name,  # the run time
        )
        if results:
            rel = results[-1].relative_to(stored).with_suffix(".html").as_posix()
            links.append({"label": f"{stage} validation", "href": f"data_docs/{rel}"})
        elif (root / "data_docs" / "expectations" / layer / entity / f"{stage}.html").is_file():
            links.append(
                {"label": f"{stage} suite", "href": f"data_docs/expectations/{layer}/{entity}/{stage}.html"}
            )
    return links


def render(lake_root: str, root: Path) -> Path:
    """Write `<root>/index.html` (root = the quality folder holding gx/ and data_docs/)."""
    import jinja2

    metrics = table_rows(lake_root, METRICS)
    quarantine = table_rows(lake_root, QUARANTINE, ["table_name", "_source_date"])
    counts: dict[str, int] = defaultdict(int)
    for q in quarantine:
        counts[q["table_name"]] += 1
    tables = latest_runs(metrics, counts)
    for t in tables:
        t.links = docs_links(root, t.name)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("coretelecoms.quality", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    html = env.get_template("summary.html.j2").render(
        built=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        docs_href="data_docs/index.html",
        tables=tables,
        chart=chart(quarantine_rates(metrics, quarantine)),
    )
    page = Path(root) / PAGE
    page.write_text(html)
    return page
