"""Unit tests of the bronze parsers on a handful of hand-made files in the SOURCES.md shapes."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from coretelecoms.bronze.contract import COLUMNS, map_header, snake_case, squash
from coretelecoms.bronze.parsing import LandedFile, Parsed, Rejection, flatten, parse_csv, parse_json

TS = datetime(2025, 11, 20, 6, 0)
CALL_HEADER = ",call ID,customeR iD,COMPLAINT_catego ry,agent ID,call_start_time,call_end_time,resolutionstatus,callLogsGenerationDate"


def landed(path, day=date(2025, 11, 20)):
    return LandedFile(f"file:{path}", path.stat().st_size, day, f"s3/call logs/{path.name}")


def rows(parsed: Parsed):
    return [r.asDict() for r in parsed.frame.orderBy("_source_file", "_source_record").collect()]


@pytest.mark.parametrize(
    ("header", "source", "column"),
    [
        ("COMPLAINT_catego ry", "call_logs", "complaint_category"),
        ("customeR iD", "call_logs", "customer_id"),
        ("DATE of biRTH", "customers", "date_of_birth"),
        ("resolutionstatus", "web_forms", "resolution_status"),
        ("callLogsGenerationDate", "call_logs", "call_logs_generation_date"),
        ("MediaComplaintGenerationDate", "social_media", "media_complaint_generation_date"),
        ("webFormGenerationDate", "web_forms", "web_form_generation_date"),
        ("", "call_logs", "source_index"),
        ("Column1", "web_forms", "source_index"),
        ("iD", "agents", "id"),
        ("NamE", "agents", "name"),
        ("  agent ID ", "call_logs", "agent_id"),
    ],
)
def test_headers_map_by_name(header, source, column):
    mapping = map_header([header], source)
    assert mapping.positions == {column: 0}
    assert squash(header) == squash(column) or column == "source_index"


def test_header_map_reports_extra_missing_and_reordered():
    mapping = map_header(["call ID", "", "call_channel", "customeR iD"], "call_logs")
    assert mapping.positions == {"call_id": 0, "source_index": 1, "customer_id": 3}
    assert mapping.extras == [(2, "call_channel")]
    assert "complaint_category" in mapping.missing and mapping.reordered


def test_extra_column_names_are_snake_cased_like_the_contract():
    header = [
        "customer_id",
        "Call Channel",
        "loyaltyTier",
        " HTTPStatus ",
        "",
        "call-channel",
        "DATE of biRTH",
    ]
    mapping = map_header(header, "customers")
    assert mapping.extras == [
        (1, "call_channel"),
        (2, "loyalty_tier"),
        (3, "http_status"),
        (4, "_c4"),
        (5, "call_channel_2"),  # two headers, one snake_case name: both kept
    ]
    # the contract's own names are what snake_case makes of the delivered headers
    assert snake_case("callLogsGenerationDate") == "call_logs_generation_date"


def test_rescued_data_keys_are_snake_cased(spark, tmp_path):
    f = tmp_path / "call_logs_day_2025-11-21.csv"
    f.write_text(
        CALL_HEADER + ",Call Channel,waitSeconds\n"
        "0,C1,u1,Payments,1001,2025-05-01 10:00:00,2025-05-01 10:05:00,Resolved,2025-11-21,IVR,12\n"
    )
    (row,) = rows(parse_csv(spark, landed(f), "call_logs", TS, "r"))
    assert json.loads(row["_rescued_data"]) == {"call_channel": "IVR", "wait_seconds": "12"}
    table, _ = flatten({"complaint_id": {"0": "S1"}, "Media Handle": {"0": "@a"}}, "social_media")
    assert json.loads(table.column("_rescued_data").to_pylist()[0]) == {"media_handle": "@a"}


def test_csv_multiline_records_count_once_and_values_stay_text(spark, tmp_path):
    f = tmp_path / "customers_dataset.csv"
    f.write_text(
        "customer_id,name,Gender,DATE of biRTH,signup_date,email,address\n"
        'a1, Ann Lee ,F,1980-01-02,2015-03-04,x@gmail.com,"1 Oak St\nPort X, TX 75013"\n'
        'b2,Bob,M,"",2016-01-01,,"PSC 5521, Box 0917\nAPO AE 09834"\n'
        "c3,Cy,M,1990-01-01,2017-01-01,c@yahoo.com,Plain 1\n"
    )
    parsed = parse_csv(spark, landed(f), "customers", TS, "run-1")
    got = rows(parsed)
    assert [r["_source_record"] for r in got] == [1, 2, 3]
    assert got[0]["name"] == " Ann Lee "  # never trimmed in bronze
    assert got[0]["address"] == "1 Oak St\nPort X, TX 75013"
    assert got[1]["date_of_birth"] == "" and got[1]["email"] is None  # quoted empty vs absent
    assert got[1]["gender"] == "M" and got[2]["address"] == "Plain 1"
    assert all(r["_corrupt_record"] is None and r["_rescued_data"] is None for r in got)
    assert got[0]["_source_file"] == f"s3/call logs/{f.name}" and got[0]["_source_date"] == date(2025, 11, 20)
    assert got[0]["_ingested_at"] == TS and got[0]["_run_id"] == "run-1"
    assert parsed.frame.columns == [
        *COLUMNS["customers"],
        "_rescued_data",
        "_corrupt_record",
        "_source_file",
        "_source_record",
        "_source_date",
        "_ingested_at",
        "_run_id",
        "_missing_columns",
    ]
    assert all(r["_missing_columns"] is None for r in got)  # every contract column delivered


def test_csv_maps_reordered_extra_and_missing_columns_by_name(spark, tmp_path):
    f = tmp_path / "call_logs_day_2025-11-21.csv"
    f.write_text(
        "resolutionstatus,call ID,,customeR iD,agent ID,call_start_time,call_end_time,callLogsGenerationDate,call_channel\n"
        "Resolved,C1,7,u1,1001,2025-05-01 10:00:00,2025-05-01 10:05:00,2025-11-21,IVR\n"
    )
    parsed = parse_csv(spark, landed(f), "call_logs", TS, "r")
    (row,) = rows(parsed)
    assert row["resolution_status"] == "Resolved" and row["call_id"] == "C1" and row["source_index"] == "7"
    assert row["customer_id"] == "u1" and row["call_logs_generation_date"] == "2025-11-21"
    assert row["complaint_category"] is None and parsed.header.missing == ["complaint_category"]
    assert json.loads(row["_rescued_data"]) == {"call_channel": "IVR"}
    # The row says which column was not delivered (silver keeps its stored value).
    assert row["_missing_columns"] == ["complaint_category"]


def test_csv_unparseable_record_is_kept_raw(spark, tmp_path):
    f = tmp_path / "call_logs_day_2025-11-20.csv"
    f.write_text(
        CALL_HEADER + "\n"
        "0,C1,u1,Payments,1001,2025-05-01 10:00:00,2025-05-01 10:05:00,Resolved,2025-11-20\n"
        "2,C2,u2,Payments\n"
        "3,C3,u3,Payments,1002,2025-05-02 10:00:00,2025-05-02 10:09:00,Backlog,2025-11-20\n"
    )
    got = rows(parse_csv(spark, landed(f), "call_logs", TS, "r"))
    assert [r["_source_record"] for r in got] == [1, 2, 3]
    assert got[1]["_corrupt_record"] == "2,C2,u2,Payments"
    assert got[0]["_corrupt_record"] is None and got[2]["call_id"] == "C3"


def test_empty_and_header_only_files_are_rejected_as_empty(spark, tmp_path):
    empty = tmp_path / "call_logs_day_2025-11-22.csv"
    empty.write_bytes(b"")
    header_only = tmp_path / "call_logs_day_2025-11-22_part2.csv"
    header_only.write_text(CALL_HEADER + "\n")
    for f, reason in ((empty, "empty file"), (header_only, "empty file (header only)")):
        result = parse_csv(spark, landed(f), "call_logs", TS, "r")
        assert isinstance(result, Rejection) and result.empty and result.reason == reason


def test_json_is_flattened_with_inner_keys_as_index(spark, tmp_path):
    document = {
        "complaint_id": {"0": "S1", "3": "S2", "7": "S3"},
        "customeR iD": {"0": "u1", "3": "u2", "7": "u3"},
        "agent ID": {"0": 1057, "3": 1013, "7": None},
        "resolution_date": {"0": "2025-08-09 03:12:09", "3": "", "7": ""},
        "surprise": {"0": "x", "3": "y", "7": "z"},
    }
    table, mapping = flatten(document, "social_media")
    assert table.column("source_index").to_pylist() == ["0", "3", "7"]
    assert table.column("agent_id").to_pylist() == ["1057", "1013", None]
    assert table.column("resolution_date").to_pylist()[1] == ""
    assert json.loads(table.column("_rescued_data").to_pylist()[2]) == {"surprise": "z"}
    assert "media_channel" in mapping.missing
    f = tmp_path / "media_complaint_day_2025-11-20.json"
    f.write_text(json.dumps(document))
    got = rows(parse_json(spark, landed(f), "social_media", TS, "r"))
    assert [(r["source_index"], r["_source_record"]) for r in got] == [("0", 1), ("3", 2), ("7", 3)]
    missing = {c for c in got[0]["_missing_columns"]}
    assert "media_channel" in missing and "complaint_id" not in missing and "source_index" not in missing


def test_truncated_json_is_rejected_with_the_reason(spark, tmp_path):
    f = tmp_path / "media_complaint_day_2025-11-20_part3.json"
    f.write_text('{"complaint_id": {"0": "S1", "1": "S')
    result = parse_json(spark, landed(f), "social_media", TS, "r")
    assert isinstance(result, Rejection) and not result.empty
    assert result.reason.startswith("unparseable JSON")


def test_a_headerless_export_is_rejected_without_echoing_its_first_record(spark, tmp_path):
    f = tmp_path / "agents.csv"
    f.write_text("1000,Ada Okafor,5,NY\n1001,Ben Ito,2,CA\n")
    result = parse_csv(spark, landed(f), "agents", TS, "r")
    assert isinstance(result, Rejection) and not result.empty
    assert result.reason.startswith(
        "no header: none of the first row's 4 fields names a column of the agents"
    )
    assert "id, name, experience, state" in result.reason and "Ada" not in result.reason
    # A real header in another order still loads.
    ok = tmp_path / "agents_ok.csv"
    ok.write_text("state,name,id,experience\nNY,Ada Okafor,1000,5\n")
    assert rows(parse_csv(spark, landed(ok), "agents", TS, "r"))[0]["id"] == "1000"


def call_record(i, status="Resolved"):
    return f"{i},C{i},u{i},Payments,100{i},2025-05-01 10:00:00,2025-05-01 10:05:00,{status},2025-11-20"


def test_a_stray_quote_costs_its_own_record_only(spark, tmp_path):
    f = tmp_path / "call_logs_day_2025-11-20.csv"
    # Record 2 opens a quote it never closes: a multi-line parse would read records 3-5 into its value.
    lines = [call_record(1), '2,"C2,u2,Payments,1002', call_record(3), call_record(4), call_record(5)]
    f.write_text(CALL_HEADER + "\n" + "\n".join(lines) + "\n")
    parsed = parse_csv(spark, landed(f), "call_logs", TS, "r")
    got = rows(parsed)
    assert [r["_source_record"] for r in got] == [1, 2, 3, 4, 5]
    assert [r["call_id"] for r in got if r["_corrupt_record"] is None] == ["C1", "C3", "C4", "C5"]
    assert got[1]["_corrupt_record"] == '2,"C2,u2,Payments,1002'
    assert got[4]["resolution_status"] == "Resolved" and got[4]["agent_id"] == "1005"


@pytest.mark.parametrize("batch_rows", [1, 2, 10_000])  # Arrow batches cut the file's records anywhere
def test_a_quoted_newline_after_a_stray_quote_still_joins_its_record(spark, tmp_path, batch_rows):
    # b2's stray quote is closed by c3's opening quote: Spark's record ends inside c3, whose rest is
    # Spark's next (malformed) record; both are cut as one text.
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", batch_rows)
    f = tmp_path / "customers_dataset.csv"
    header = "customer_id,name,Gender,DATE of biRTH,signup_date,email,address"
    f.write_text(
        header + "\n"
        'a1,Ann,F,1980-01-02,2015-03-04,a@x.com,"1 Oak St\nPort X, TX 75013"\n'
        'b2,"Bob,M,1981-01-01,2016-01-01,b@x.com,Plain 2\n'
        'c3,Cy,M,1990-01-01,2017-01-01,c@x.com,"2 Elm St\nAPO AE 09834"\n'
        "d4,Di,F,1991-01-01,2018-01-01,d@x.com,Plain 4\n"
    )
    got = rows(parse_csv(spark, landed(f, None), "customers", TS, "r"))
    assert [r["_source_record"] for r in got] == [1, 2, 3, 4]
    assert [r["customer_id"] for r in got if r["_corrupt_record"] is None] == ["a1", "c3", "d4"]
    assert got[0]["address"] == "1 Oak St\nPort X, TX 75013" and got[2]["address"] == "2 Elm St\nAPO AE 09834"
    assert got[1]["_corrupt_record"] == 'b2,"Bob,M,1981-01-01,2016-01-01,b@x.com,Plain 2'
    spark.conf.unset("spark.sql.execution.arrow.maxRecordsPerBatch")


@pytest.mark.parametrize("where", ["first", "late"])
def test_an_invalid_utf8_byte_flags_its_record_and_the_rest_loads(spark, tmp_path, where):
    f = tmp_path / "call_logs_day_2025-11-20.csv"
    before = [call_record(i).encode() for i in range(1, 2 if where == "first" else 400)]
    bad = b"400,C400,u400,Pay\xffments,1400,2025-05-01 10:00:00,2025-05-01 10:05:00,Resolved,2025-11-20"
    after = [call_record(i).encode() for i in range(401, 404)]
    f.write_bytes(b"\n".join([CALL_HEADER.encode(), *before, bad, *after]) + b"\n")
    got = rows(parse_csv(spark, landed(f), "call_logs", TS, "r"))
    assert len(got) == len(before) + 1 + len(after)
    flagged = [r for r in got if r["_corrupt_record"] is not None]
    assert len(flagged) == 1 and flagged[0]["call_id"] == "C400"
    # the record as decoded, U+FFFD in place of the bad byte: silver quarantines it under record_parsed
    assert flagged[0]["_corrupt_record"] == bad.decode("utf-8", errors="replace")
    assert all("\ufffd" not in (r["complaint_category"] or "") for r in got if r["_corrupt_record"] is None)


def test_a_header_that_is_not_utf8_rejects_the_file_with_the_reason(spark, tmp_path):
    f = tmp_path / "call_logs_day_2025-11-20.csv"
    f.write_bytes(
        CALL_HEADER.replace("call ID", "call \xff ID").encode("latin-1")
        + b"\n"
        + call_record(1).encode()
        + b"\n"
    )
    result = parse_csv(spark, landed(f), "call_logs", TS, "r")
    assert isinstance(result, Rejection) and "header is not valid UTF-8" in result.reason


def test_invalid_utf8_in_json_flags_its_record_and_the_rest_loads(spark, tmp_path):
    f = tmp_path / "media_complaint_day_2025-11-20.json"
    good = json.dumps(
        {
            "complaint_id": {"0": "S1", "1": "S2", "2": "S3"},
            "COMPLAINT_catego ry": {"0": "a", "1": "BAD", "2": "c"},
        }
    )
    f.write_bytes(good.encode().replace(b"BAD", b"B\xc3D"))
    got = rows(parse_json(spark, landed(f), "social_media", TS, "r"))
    assert [r["complaint_id"] for r in got] == ["S1", "S2", "S3"]
    assert [r["_corrupt_record"] is None for r in got] == [True, False, True]
    assert json.loads(got[1]["_corrupt_record"]) == {"complaint_id": "S2", "COMPLAINT_catego ry": "B\ufffdD"}
