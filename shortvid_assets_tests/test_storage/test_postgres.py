"""Protects the Postgres layer: the embedded server starts once and is shared, URLs are derived
correctly (dagster-postgres scheme, per-test databases), and an unreachable server is reported
clearly without leaking the password."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
import pytest
import sqlalchemy

from shortvid_assets.storage import postgres


def _server_version(url: str) -> int:
    conn = postgres.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version_num")
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_embedded_server_is_reused_and_is_real_postgres(embedded_pg_dir: Path) -> None:
    first = postgres.embedded_server_url(embedded_pg_dir)
    second = postgres.embedded_server_url(embedded_pg_dir)
    assert first == second
    assert f"host={embedded_pg_dir}" in first
    assert (embedded_pg_dir / ".s.PGSQL.5432").is_socket()
    assert _server_version(first) >= 160000


_START_SCRIPT = """
import sys
from shortvid_assets.storage import postgres
print(postgres.embedded_server_url(__import__("pathlib").Path(sys.argv[1])))
"""


def test_two_processes_starting_the_embedded_server_at_once_share_it() -> None:
    root = Path(tempfile.mkdtemp(prefix="svpg-", dir="/tmp"))
    pg_dir = root / "pg"
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _START_SCRIPT, str(pg_dir)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [proc.communicate(timeout=120) for proc in procs]
        for proc, (_, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, err
        urls = {out.strip() for out, _ in outputs}
        assert len(urls) == 1
        url = urls.pop()
        # The server outlives the processes that started it.
        assert _server_version(url) >= 160000

        # Stopped behind this process's back, it is started again on the next call.
        assert postgres.stop_embedded_server(pg_dir) is True
        with pytest.raises(postgres.DatabaseUnavailable):
            postgres.connect(url)
        assert postgres.embedded_server_url(pg_dir) == url
        assert _server_version(url) >= 160000
    finally:
        postgres.stop_embedded_server(pg_dir)
        shutil.rmtree(root, ignore_errors=True)
    assert postgres.stop_embedded_server(pg_dir) is False


def test_resolve_database_url_prefers_the_configured_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHORTVID_DATABASE_URL", "postgresql://app:pw@db.example:5433/shortvid")
    assert postgres.resolve_database_url() == "postgresql://app:pw@db.example:5433/shortvid"


def test_resolve_database_url_falls_back_to_the_embedded_server(
    monkeypatch: pytest.MonkeyPatch, embedded_pg_dir: Path
) -> None:
    monkeypatch.delenv("SHORTVID_DATABASE_URL", raising=False)
    monkeypatch.setenv("SHORTVID_EMBEDDED_PG_DIR", str(embedded_pg_dir))
    url = postgres.resolve_database_url()
    assert url == postgres.embedded_server_url(embedded_pg_dir)
    assert _server_version(url) >= 160000


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg2://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
        (
            "postgresql://postgres:@/postgres?host=/tmp/x/pg",
            "postgresql+psycopg2://postgres:@/postgres?host=/tmp/x/pg",
        ),
    ],
)
def test_dagster_storage_url(url: str, expected: str) -> None:
    assert postgres.dagster_storage_url(url) == expected


def test_dagster_storage_url_rejects_other_schemes() -> None:
    with pytest.raises(postgres.InvalidDatabaseUrl, match="mysql"):
        postgres.dagster_storage_url("mysql://u@h/db")


def test_dagster_storage_url_connects_through_sqlalchemy(pg_server_url: str) -> None:
    engine = sqlalchemy.create_engine(postgres.dagster_storage_url(pg_server_url))
    try:
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_connect_to_a_closed_port_names_the_host_and_hides_the_password() -> None:
    port = _closed_port()
    with pytest.raises(postgres.DatabaseUnavailable) as caught:
        postgres.connect(f"postgresql://reviewer:s3cr3t-pw@127.0.0.1:{port}/shortvid")
    message = str(caught.value)
    assert f"127.0.0.1:{port}/shortvid" in message
    assert "SHORTVID_DATABASE_URL" in message
    assert "s3cr3t-pw" not in message
    assert caught.value.__cause__ is None


def test_an_unparsable_url_is_reported_without_echoing_it() -> None:
    with pytest.raises(postgres.InvalidDatabaseUrl) as caught:
        postgres.connect("postgresql://reviewer:s3cr3t-pw@host:notaport/db?bogus_option=1")
    assert "s3cr3t-pw" not in str(caught.value)


def test_describe_url_drops_the_password() -> None:
    assert (
        postgres.describe_url("postgresql://app:pw@db.example:5433/shortvid")
        == "app@db.example:5433/shortvid"
    )
    assert (
        postgres.describe_url("postgresql://postgres:@/postgres?host=/tmp/x")
        == "postgres@/tmp/x:5432/postgres"
    )


@pytest.mark.parametrize(
    ("server_url", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:5432/postgres", "postgresql://postgres@127.0.0.1:5432/svtest_a"),
        (
            "postgresql://postgres:@/postgres?host=/tmp/x/pg",
            "postgresql://postgres:@/svtest_a?host=/tmp/x/pg",
        ),
    ],
)
def test_database_url_for(server_url: str, expected: str) -> None:
    assert postgres.database_url_for(server_url, "svtest_a") == expected


def test_create_and_drop_database(pg_server_url: str) -> None:
    name = "svtest_create_drop"
    postgres.drop_database(pg_server_url, name)
    url = postgres.create_database(pg_server_url, name)
    held_open = postgres.connect(url)  # DROP must not wait for connections left open
    with held_open.cursor() as cur:
        cur.execute("SELECT current_database()")
        assert cur.fetchone()[0] == name
    postgres.drop_database(pg_server_url, name)
    with pytest.raises(postgres.DatabaseUnavailable, match=name):
        postgres.connect(url)
    with pytest.raises(psycopg2.OperationalError), held_open.cursor() as cur:
        cur.execute("SELECT 1")  # the forced drop terminated it
    held_open.close()


@pytest.mark.parametrize("name", ["Upper", "semi;colon", "", "x" * 64])
def test_create_database_rejects_unsafe_names(name: str) -> None:
    with pytest.raises(ValueError, match="Database name"):
        postgres.create_database("postgresql://u@127.0.0.1:1/postgres", name)
