"""Bronze over generated messy sources, checked against the generator's manifest.

One lake lives through four days: 11-20 and 11-21 run day by day; 11-22 and 11-23 are landed as a
range and then ingested by one bronze run (one micro-batch of several files); 11-23 then runs again.
The generator re-delivers the first day's call log on the last day: the bucket holds the first delivery
until 11-21 has run, then the new content, and a final re-run of 11-20 picks the re-delivery up.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date

import pytest
from bronze_support import make_ctx
from pyspark.sql import functions as F

from coretelecoms.bronze import REJECTED_TABLE, run_bronze
from coretelecoms.bronze.contract import COLUMNS, map_header
from coretelecoms.landing import run_landing
from coretelecoms.ops import ledger

TABLES = ("customers", "agents", "call_logs", "social_media", "web_forms")
D1, D2, D3, D4 = (date(2025, 11, d) for d in (20, 21, 22, 23))


@pytest.fixture(scope="module")
def run(spark, messy_sources, tmp_path_factory):
    root = tmp_path_factory.mktemp("messy_lake")
    ctx = make_ctx(spark, messy_sources.settings(root))
    (key,) = [k for k, e in messy_sources.manifest["files"].items() if "first_delivery" in e]
    current = messy_sources.dir / key
    redelivery = current.read_bytes()
    first = messy_sources.dir / messy_sources.manifest["files"][key]["first_delivery"]["path"]
    current.write_bytes(first.read_bytes())  # what the bucket held before the re-delivery
    try:
        entries = {D1: run_bronze(ctx.for_layer("bronze"), D1), D2: run_bronze(ctx.for_layer("bronze"), D2)}
    finally:
        current.write_bytes(redelivery)
    run_landing(ctx.for_layer("landing"), None, D3, D4)
    entries[D4] = run_bronze(ctx.for_layer("bronze"), D4)
    counts = {t: ctx.lake.count(f"bronze.{t}") for t in TABLES}
    rerun = run_bronze(ctx.for_layer("bronze"), D4)
    rerun_counts = {t: ctx.lake.count(f"bronze.{t}") for t in TABLES}
    redelivered = run_bronze(ctx.for_layer("bronze"), D1)
    return {
        "ctx": ctx,
        "entries": entries,
        "counts": counts,
        "rerun": rerun,
        "rerun_counts": rerun_counts,
        "redelivered": redelivered,
        "redelivered_key": key,
        "sources": messy_sources,
    }


def landing_path(run, key: str) -> str:
    if key == "gsheets/agents.csv":  # the sheet lands as one snapshot per change, named by its run date
        return f"gsheets/agents/agents_{D1}.csv"
    return run["sources"].landing_rel(key)


def on_disk(run, key: str) -> str:
    """Where a landed file is: `_source_file` holds its key under <lake>/landing."""
    return f"{run['ctx'].settings.lake.root}/landing/{key}"


def redelivered_path(run) -> str:
    """The landing path of the re-delivered version (`v2-<sha>/` beside the first)."""
    (path,) = [
        r["_source_file"]
        for r in table(run, "call_logs").select("_source_file").distinct().collect()
        if "/v2-" in r["_source_file"]
    ]
    return path


def table(run, name):
    return run["ctx"].lake.read(f"bronze.{name}")


def test_every_table_has_the_contract_schema(run):
    for name in TABLES:
        df = table(run, name)
        assert df.columns[: len(COLUMNS[name])] == list(COLUMNS[name])
        types = dict(df.dtypes)
        assert {types[c] for c in COLUMNS[name]} == {"string"}
        assert [types[c] for c in ("_source_record", "_source_date", "_ingested_at")] == [
            "bigint",
            "date",
            "timestamp_ntz",
        ]


def test_rows_per_file_equal_the_records_in_that_file(run):
    manifest = run["sources"].manifest
    per_file = {}
    for name in TABLES:
        for r in table(run, name).groupBy("_source_file").count().collect():
            per_file[r["_source_file"]] = r["count"]
    expected = {}
    for key, info in {**manifest["files"], **manifest["tables"]}.items():
        if info["records"]:
            expected[landing_path(run, key)] = info["records"]
    expected[redelivered_path(run)] = manifest["files"][run["redelivered_key"]]["records"]
    assert per_file == expected


def test_the_redelivered_file_lands_as_a_new_version_with_only_its_rows_added(run):
    manifest = run["sources"].manifest
    key = run["redelivered_key"]
    entries = {e.source: e for e in run["redelivered"]}
    assert entries["call_logs"].files == 1
    assert entries["call_logs"].rows_out == manifest["files"][key]["records"]
    assert sum(e.rows_out for e in run["redelivered"]) == entries["call_logs"].rows_out
    first, second = landing_path(run, key), redelivered_path(run)
    df = table(run, "call_logs")
    v1 = {r["_source_record"]: r for r in df.filter(F.col("_source_file") == first).collect()}
    v2 = {r["_source_record"]: r for r in df.filter(F.col("_source_file") == second).collect()}
    assert {r["_source_date"] for r in v2.values()} == {D1}
    changes = [f for f in manifest["faults"] if f["kind"] == "redelivered"]
    assert changes
    for f in changes:
        was = f["detail"].split("'")[1]
        assert v1[f["record"]]["resolution_status"] == was
        assert v2[f["record"]]["resolution_status"] == f["value"]
        assert v1[f["record"]]["call_id"] == v2[f["record"]]["call_id"] == f["key"]
    changed = {f["record"] for f in changes}
    same = [r for r in v1 if r not in changed]
    columns = COLUMNS["call_logs"] + ("_corrupt_record",)
    assert all([v1[r][c] for c in columns] == [v2[r][c] for c in columns] for r in same)


def test_rerun_for_the_same_date_adds_nothing(run):
    assert all(e.rows_out == 0 and e.files == 0 for e in run["rerun"])
    assert run["rerun_counts"] == run["counts"]


def test_row_faults_sit_at_their_record_with_the_value_as_delivered(run):
    manifest = run["sources"].manifest
    by_source = {
        name: {(r["_source_file"], r["_source_record"]): r.asDict() for r in table(run, name).collect()}
        for name in TABLES
    }
    key_columns = {
        "customers": "customer_id",
        "agents": "id",
        "call_logs": "call_id",
        "social_media": "complaint_id",
        "web_forms": "request_id",
    }
    checked = {}
    for fault in manifest["faults"]:
        if fault["record"] is None:
            continue
        key = fault.get("file") or fault["table"]
        path = redelivered_path(run) if fault["kind"] == "redelivered" else landing_path(run, key)
        row = by_source[fault["source"]][(path, fault["record"])]
        assert row[key_columns[fault["source"]]] == str(fault["key"]), fault
        if fault["kind"] == "unparseable_line":  # kept whole, raw, at its own record number
            assert row["_corrupt_record"] == fault["value"], fault
        else:
            assert row["_corrupt_record"] is None, fault
        if fault["column"] and fault["kind"] != "duplicate_row":
            column = next(iter(map_header([fault["column"]], fault["source"]).positions))
            assert row[column] == str(fault["value"]), fault  # exactly as delivered: spaces, casing
        checked[fault["kind"]] = checked.get(fault["kind"], 0) + 1
    row_kinds = {f["kind"] for f in manifest["faults"] if f["record"] is not None}
    assert set(checked) == row_kinds and "unparseable_line" in row_kinds and "redelivered" in row_kinds
    assert {f["source"] for f in manifest["faults"] if f["kind"] == "whitespace_casing"} >= {"agents"}
    cuts = [f for f in manifest["faults"] if f["kind"] == "unparseable_line"]
    # The re-delivered file repeats its first delivery's cut lines byte for byte, at the same records.
    repeated = sum(1 for f in cuts if f["file"] == run["redelivered_key"])
    assert (
        table(run, "call_logs").filter(F.col("_corrupt_record").isNotNull()).count() == len(cuts) + repeated
    )

    def corrupt(entries):
        return sum(json.loads(e.details)["corrupt_records"] for e in entries if e.source == "call_logs")

    assert sum(corrupt(day) for day in run["entries"].values()) == len(cuts)
    assert corrupt(run["redelivered"]) == repeated


def test_file_faults_end_where_the_issue_says(run):
    manifest = run["sources"].manifest
    faults = {f["kind"]: f for f in manifest["faults"] if f["record"] is None}
    rejected = {r["file"]: r["reason"] for r in run["ctx"].lake.read(REJECTED_TABLE).collect()}

    extra = faults["extra_column"]
    rows = (
        table(run, "call_logs")
        .filter(F.col("_source_file") == landing_path(run, extra["file"]))
        .filter(F.col("_corrupt_record").isNull())  # a line cut short lost its extra field too
    )
    rescued = {json.loads(r["_rescued_data"])["call_channel"] for r in rows.select("_rescued_data").collect()}
    assert rescued <= {"IVR", "Agent", "Callback"} and rescued
    assert (
        table(run, "call_logs")
        .filter(F.col("_source_file") != landing_path(run, extra["file"]))
        .filter(F.col("_rescued_data").isNotNull())
        .count()
        == 0
    )

    missing = faults["missing_column"]
    path = landing_path(run, missing["table"])
    rows = table(run, "web_forms").filter(F.col("_source_file") == path)
    assert rows.count() == manifest["tables"][missing["table"]]["records"]
    assert rows.filter(F.col("resolution_date").isNotNull()).count() == 0
    d4 = {e.source: e for e in run["entries"][D4]}
    assert json.loads(d4["web_forms"].details)["missing_columns"] == {"resolution_date": rows.count()}
    assert d4["web_forms"].status == "warn"

    reordered = faults["reordered_columns"]
    path = landing_path(run, reordered["file"])
    with open(on_disk(run, path), encoding="utf-8") as fh:
        document = json.load(fh)
    for r in table(run, "social_media").filter(F.col("_source_file") == path).collect():
        i = r["source_index"]
        assert r["complaint_id"] == document["complaint_id"][i]
        assert r["customer_id"] == document["customeR iD"][i]
        assert r["agent_id"] == str(document["agent ID"][i])
        assert r["media_complaint_generation_date"] == document["MediaComplaintGenerationDate"][i]

    assert rejected[landing_path(run, faults["truncated_json"]["file"])].startswith("unparseable JSON")
    assert rejected[landing_path(run, faults["empty_file"]["file"])] == "empty file"
    assert rejected[landing_path(run, faults["header_only_file"]["file"])] == "empty file (header only)"
    # The empty part2 and the truncated part3 beside the drop; the header-only call-log part2.
    assert d4["social_media"].rejected == 2 and d4["social_media"].status == "warn"
    assert d4["call_logs"].rejected == 1 and d4["call_logs"].status == "warn"
    assert "2 file(s) rejected (1 empty)" in d4["social_media"].error


def test_ledger_rejected_counts_every_row_of_rejected_files(run):
    ctx = run["ctx"]
    table_counts = {
        (r["run_id"], r["source"]): r["count"]
        for r in ctx.lake.read(REJECTED_TABLE).groupBy("run_id", "source").count().collect()
    }
    bronze = ledger.read(ctx).filter(F.col("layer") == "bronze").collect()
    ledger_counts = {(r["run_id"], r["source"]): r["rejected"] for r in bronze if r["rejected"]}
    assert ledger_counts == table_counts
    file_faults = ("empty_file", "header_only_file", "truncated_json")
    assert sum(table_counts.values()) == sum(
        f["kind"] in file_faults for f in run["sources"].manifest["faults"]
    )
    for r in bronze:
        rejected = json.loads(r["details"])["rejected_files"]
        assert len(rejected) == r["rejected"]


def _csv_records(path):
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, [r for r in reader if r]


def test_lineage_points_at_the_right_file_and_record(run):
    rng = random.Random(3)
    for name in ("customers", "call_logs", "web_forms", "agents"):
        df = table(run, name)
        files = [r["_source_file"] for r in df.select("_source_file").distinct().collect()]
        for path in files:
            header, records = _csv_records(on_disk(run, path))
            mapping = map_header(header, name)
            picks = rng.sample(range(1, len(records) + 1), min(5, len(records)))
            rows = df.filter((F.col("_source_file") == path) & F.col("_source_record").isin(picks)).collect()
            assert len(rows) == len(picks)
            for row in rows:
                record = records[row["_source_record"] - 1]
                for column, position in mapping.positions.items():
                    value = record[position] if position < len(record) else None  # a line cut short
                    assert row[column] == value, (path, row["_source_record"], column)


def test_social_lineage_points_at_the_inner_key_of_its_file(run):
    df = table(run, "social_media")
    files = [r["_source_file"] for r in df.select("_source_file").distinct().collect()]
    assert len(files) == 4  # one drop a day; the empty and truncated extras have no rows
    for path in files:
        with open(on_disk(run, path), encoding="utf-8") as fh:
            document = json.load(fh)
        header = list(document)
        mapping = map_header(["source_index", *header], "social_media")
        keys = list(document[header[0]])
        rows = df.filter(F.col("_source_file") == path).collect()
        assert sorted(r["_source_record"] for r in rows) == list(range(1, len(keys) + 1))
        for row in rows:
            key = keys[row["_source_record"] - 1]  # record n is the n-th inner key, as delivered
            assert row["source_index"] == key
            for column, position in mapping.positions.items():
                if column != "source_index":
                    value = document[header[position - 1]][key]
                    assert row[column] == (value if isinstance(value, str) else json.dumps(value)), (
                        path,
                        key,
                    )


def test_source_dates_and_ledger_entries(run):
    ctx = run["ctx"]
    dates = {
        r["_source_file"].rsplit("/", 1)[-1]: r["_source_date"]
        for r in table(run, "call_logs").select("_source_file", "_source_date").distinct().collect()
    }
    assert dates == {f"call_logs_day_{d}.csv": d for d in (D1, D2, D3, D4)}
    assert {
        r["_source_date"] for r in table(run, "customers").select("_source_date").distinct().collect()
    } == {D1}
    runs = ledger.read(ctx)
    bronze = runs.filter(F.col("layer") == "bronze")
    assert bronze.select("run_id").distinct().count() == 5  # D1, D2, D4, its re-run, the re-delivery
    assert bronze.filter(F.col("status") == "failed").count() == 0
    landing = runs.filter(F.col("layer") == "landing").collect()
    assert {r["source"] for r in landing} == set(TABLES)
    d1 = {e.source: e for e in run["entries"][D1]}
    assert (
        d1["customers"].rows_out
        == run["sources"].manifest["files"]["s3/core-telecoms-data-lake/customers/customers_dataset.csv"][
            "records"
        ]
    )
