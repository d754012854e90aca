"""Fixtures for the synthetic source systems: one embedded PostgreSQL, a clean and a messy generation."""

from __future__ import annotations

import os
import sys

import psycopg2
import pytest
from psycopg2 import sql
from source_readers import MESSY, SCALE

from coretelecoms.sources import dsn, generate, local_postgres, stop


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """A local[2] session; reuses the one the shared tests/conftest.py fixture may already have started."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    active = SparkSession.getActiveSession()
    session = active or (
        SparkSession.builder.master("local[2]")
        .appName("coretelecoms-sources-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.local.dir", str(tmp_path_factory.mktemp("spark")))
        .getOrCreate()
    )
    yield session
    if active is None:
        session.stop()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    pgdata = tmp_path_factory.mktemp("pg") / "postgres"
    server = local_postgres(pgdata)
    yield server
    stop(pgdata)


@pytest.fixture(scope="session")
def database(pg_server):
    """DSN of a database of that name on the shared server (created once), so generations do not collide.

    Reusing one is fine: generate() replaces every daily table of the schema.
    """

    def make(name: str) -> str:
        conn = psycopg2.connect(dsn(pg_server))
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.close()
        return dsn(pg_server, name)

    return make


@pytest.fixture(scope="session")
def clean(tmp_path_factory, database):
    """(sources_dir, manifest, dsn) of a clean four-day generation."""
    root = tmp_path_factory.mktemp("clean")
    target = database("clean")
    return root, generate(root, scale=SCALE, seed=42, pg_dsn=target), target


@pytest.fixture(scope="session")
def messy(tmp_path_factory, database):
    """(sources_dir, manifest, dsn) of a four-day generation with faults injected."""
    root = tmp_path_factory.mktemp("messy")
    target = database("messy")
    return root, generate(root, scale=SCALE, seed=42, messy=MESSY, pg_dsn=target), target
