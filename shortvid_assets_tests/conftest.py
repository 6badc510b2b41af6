"""Shared fixtures: the suite's clock, PostgreSQL servers and a fresh database per test.

`SHORTVID_TEST_CLOCK_SHIFT_DAYS=N` runs the whole session with the clock moved N days ahead
(time-machine, ticking): CI runs the suite a year ahead to prove no test depends on the date
it runs on. Subprocesses (the CLI, the daemon) keep the real clock, and must pass either way.

`pg_server_url` runs every test that uses it against two backends:
- `local`: the server named by `SHORTVID_TEST_DATABASE_URL` (e.g.
  postgresql://postgres@127.0.0.1:5432/postgres); skipped when that variable is unset.
- `embedded`: a real PostgreSQL from the pgserver wheel in a short folder under /tmp (unix
  sockets allow ~100 characters), started once per session and removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2.extensions
import pytest

from shortvid_assets.storage import postgres, review_decisions

TEST_DATABASE_URL_ENV = "SHORTVID_TEST_DATABASE_URL"
CLOCK_SHIFT_ENV = "SHORTVID_TEST_CLOCK_SHIFT_DAYS"


@pytest.fixture(scope="session", autouse=True)
def shifted_clock() -> Iterator[int]:
    """The number of days the session's clock is moved ahead (0: the real date)."""
    days = int(os.environ.get(CLOCK_SHIFT_ENV, "0").strip() or 0)
    if not days:
        yield 0
        return
    import time_machine

    with time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True):
        yield days


@pytest.fixture(scope="session")
def embedded_pg_dir() -> Iterator[Path]:
    """A running embedded PostgreSQL's data folder (e.g. /tmp/svpg-abcd/pg), stopped and deleted at the end."""
    root = Path(tempfile.mkdtemp(prefix="svpg-", dir="/tmp"))
    pg_dir = root / "pg"
    try:
        postgres.embedded_server_url(pg_dir)
        yield pg_dir
    finally:
        postgres.stop_embedded_server(pg_dir)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session", params=["local", "embedded"])
def pg_server_url(request: pytest.FixtureRequest) -> str:
    """URL of a PostgreSQL server's maintenance database, once per backend (`local`, `embedded`)."""
    if request.param == "local":
        url = os.environ.get(TEST_DATABASE_URL_ENV, "").strip()
        if not url:
            pytest.skip(f"{TEST_DATABASE_URL_ENV} is not set: no local PostgreSQL server to test against")
        postgres.connect(url).close()  # fail early, with a clear message, when it is set but down
        return url
    pg_dir = request.getfixturevalue("embedded_pg_dir")
    return postgres.embedded_server_url(pg_dir)


@pytest.fixture
def review_db_url(pg_server_url: str) -> Iterator[str]:
    """URL of an empty database made for this test alone, dropped afterwards."""
    name = f"svtest_{uuid.uuid4().hex[:16]}"
    url = postgres.create_database(pg_server_url, name)
    try:
        yield url
    finally:
        postgres.drop_database(pg_server_url, name)


@pytest.fixture
def review_conn(review_db_url: str) -> Iterator[psycopg2.extensions.connection]:
    """A connection to this test's fresh database with the review schema in place."""
    conn = postgres.connect(review_db_url)
    try:
        review_decisions.ensure_schema(conn)
        yield conn
    finally:
        conn.close()
