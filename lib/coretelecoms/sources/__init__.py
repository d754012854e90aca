"""Synthetic CoreTelecoms source systems: S3 files, the agents sheet export and the web-form database.

`generate()` writes the sources as SOURCES.md describes them and returns a manifest (also written to
`<sources_dir>/manifest.json`) so tests can check the pipeline against known truth:

    {"seed", "scale", "start", "days", "messy", "generated_at",
     "files":  {"<path relative to sources_dir>": {"source", "date", "records", "bytes", "sha256"}},
     "tables": {"customer_complaints.web_form_request_YYYY_MM_DD": {"date", "records"}},
     "faults": [{"kind", "source", "file" | "table", "record", "key", "column", "value", "detail"}]}

`records` counts data records (a multi-line CSV record is one; null for a truncated JSON). A fault's
`record` is the 1-based record number in file order (Postgres: ordered by "Column1"), null for file-level
faults; `key` is the natural key of that record, `value` what was written there.
"""

from .generator import generate
from .postgres import dsn, local_postgres, stop
from .redelivery import redeliver

__all__ = ["dsn", "generate", "local_postgres", "redeliver", "stop"]
