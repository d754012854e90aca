"""The reviewer's summary page `<lake>/_quality/index.html`."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

from coretelecoms.quality.summary import chart, latest_runs, quarantine_rates


def metric(table, run, day, rule, *, kind="expectation", stage="batch", action="fail", checked=10, failed=0):
    return {
        "table_name": table,
        "run_id": run,
        "run_date": day,
        "stage": stage,
        "kind": kind,
        "rule": rule,
        "action": action,
        "rows_checked": checked,
        "rows_failed": failed,
        "success": failed == 0,
        "recorded_at": datetime(2025, 11, day.day, 1, 0),
    }


D1, D2 = date(2025, 11, 20), date(2025, 11, 21)
METRICS = [
    metric("silver.a", "r1", D1, "key_unique", failed=2),  # an old failure, superseded by r2
    metric("silver.a", "r2", D2, "key_unique"),
    metric("silver.a", "r2", D2, "phone_format", kind="rule", action="quarantine", checked=200, failed=4),
    metric("silver.a", "r2", D2, "colour", stage="table", action="warn", checked=900, failed=7),
    metric("silver.a", "r1", D1, "phone_format", kind="rule", action="quarantine", checked=100, failed=0),
    metric("gold.b", "g2", D2, "rows_reconcile", stage="table", action="fail", failed=1),
]


def test_latest_run_per_table_with_what_it_broke():
    got = {t.name: t for t in latest_runs(METRICS, {"silver.a": 4})}
    a, b = got["silver.a"], got["gold.b"]
    assert (a.run_id, a.run_date, a.passed, a.quarantined) == ("r2", D2, True, 4)
    # Rule counts and warnings are listed; nothing in r2 gated, r1's failure is history.
    assert [(x.rule, x.rows_failed, x.rows_checked, x.gating) for x in a.broken] == [
        ("phone_format", 4, 200, False),
        ("colour", 7, 900, False),
    ]
    assert (b.passed, b.quarantined, [x.rule for x in b.broken if x.gating]) == (False, 0, ["rows_reconcile"])


def test_quarantine_rate_per_day_is_quarantined_over_incoming_rows():
    quarantine = [{"table_name": "silver.a", "_source_date": D2}] * 4 + [
        {"table_name": "silver.a", "_source_date": D1}
    ]
    rates = quarantine_rates(METRICS, quarantine)
    assert rates == {"silver.a": {D1: 1 / 100, D2: 4 / 200}}
    drawn = chart(rates)
    (series,) = drawn["series"]
    assert [d["label"] for d in series["dots"]] == ["1.00%", "2.00%"]
    # The higher rate is drawn higher (smaller y), the first day left of the second.
    first, second = series["dots"]
    assert second["y"] < first["y"] and first["x"] < second["x"]
    assert drawn["y_max"] == "2.0%"


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.rows, self.series = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.hrefs.append(attrs["href"])
        if tag == "tr" and "data-table" in attrs:
            self.rows.append(attrs["data-table"])
        if tag == "polyline":
            self.series.append(attrs["data-table"])


def test_the_lake_has_a_summary_linking_into_its_data_docs(lakehouse):
    from deltalake import DeltaTable

    root = Path(lakehouse.settings.lake.root) / "_quality"
    html = (root / "index.html").read_text()
    page = Links()
    page.feed(html)
    # Every table the layers validated, once.
    assert {"silver.customers", "silver.call_logs", "silver.web_complaints", "gold.fct_complaint"} <= set(
        page.rows
    )
    assert len(page.rows) == len(set(page.rows))
    # Every link opens a page that exists, and the validation links reach the Data Docs.
    assert "data_docs/index.html" in page.hrefs
    # (The lifecycle's daily checks are its commit checks, not a GX suite: its validation is maintenance's.)
    validated = [t for t in page.rows if t != "gold.fct_complaint_lifecycle"]
    assert sum("data_docs/validations/" in h for h in page.hrefs) >= len(validated)
    for href in page.hrefs:
        assert (root / href).is_file(), href
    # The quarantine counts are those of silver.quarantine (the lake is messy: something is quarantined).
    rows = DeltaTable(str(Path(lakehouse.settings.lake.root) / "silver" / "quarantine")).to_pyarrow_table()
    held = Counter(rows.column("table_name").to_pylist())
    assert held
    for table, n in held.items():
        row = re.search(rf'<tr data-table="{re.escape(table)}">(.*?)</tr>', html, re.S).group(1)
        assert f'<td class="n">{n:,}</td>' in row
    assert set(page.series) == set(held)
