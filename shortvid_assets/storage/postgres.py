"""The PostgreSQL server shortvid talks to: a configured URL, or an embedded one from the `pgserver` wheel.

`resolve_database_url()` is the one place that decides which server is used (RUN-1, RUN-2):
`SHORTVID_DATABASE_URL` when set, otherwise a real PostgreSQL started under the local state
folder that keeps running after this process exits, so the Dagster webserver, the daemon and
the CLI share it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import platform
import re
import subprocess
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from shortvid_assets import settings

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10
# The server's socket is `<dir>/.s.PGSQL.5432`; the kernel limit (sun_path) is 108 bytes.
_MAX_SOCKET_PATH = 100
_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class DatabaseUnavailable(RuntimeError):
    """The PostgreSQL server could not be reached or refused the connection."""


class InvalidDatabaseUrl(ValueError):
    """A database URL that libpq cannot parse, or with a scheme shortvid does not know."""


class EmbeddedPostgresError(RuntimeError):
    """The embedded PostgreSQL server could not be started or stopped."""


def _import_pgserver():
    """Import pgserver, silencing platformdirs' warning about an unset XDG_RUNTIME_DIR."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    return pgserver


def _pg_system_user() -> str | None:
    """The OS user pgserver runs PostgreSQL as: `pgserver` when we are root (postgres refuses root)."""
    if platform.system() != "Windows" and os.geteuid() == 0:
        return "pgserver"
    return None


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path` (created if missing) across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _lock_path(pg_dir: Path) -> Path:
    return pg_dir.parent / f".{pg_dir.name}.lock"


def embedded_server_url(pg_dir: Path | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL in `pg_dir` and return its unix-socket URL.

    The server is left running when this process exits (`cleanup_mode=None`) so other processes
    reuse it; a file lock beside the folder serialises concurrent first starts.
    """
    pg_dir = Path(pg_dir or settings.embedded_postgres_dir()).expanduser().resolve()
    if len(str(pg_dir / ".s.PGSQL.5432")) > _MAX_SOCKET_PATH:
        logger.warning(
            "Embedded PostgreSQL folder %s is long: its unix socket will live in pgserver's runtime folder "
            "instead. Set SHORTVID_EMBEDDED_PG_DIR to a shorter path to keep it beside the data.",
            pg_dir,
        )
    pgserver = _import_pgserver()
    with _file_lock(_lock_path(pg_dir)):
        cached = pgserver.PostgresServer._instances.get(pg_dir)
        if cached is not None and not cached.get_postmaster_info().is_running():
            # Stopped behind our back (another process, a reboot): start it again.
            pgserver.PostgresServer._instances.pop(pg_dir, None)
        try:
            server = pgserver.get_server(pg_dir, cleanup_mode=None)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as err:
            raise EmbeddedPostgresError(
                f"Could not start the embedded PostgreSQL in {pg_dir}: {err}. See {pg_dir / 'log'} for the "
                "server's own message; delete the folder to start from an empty database, or set "
                "SHORTVID_DATABASE_URL to use an existing server."
            ) from err
        url = server.get_uri()
    logger.info("Using the embedded PostgreSQL in %s", pg_dir)
    return url


def stop_embedded_server(pg_dir: Path | None = None) -> bool:
    """Stop the embedded PostgreSQL in `pg_dir`; return False when it was not running."""
    pg_dir = Path(pg_dir or settings.embedded_postgres_dir()).expanduser().resolve()
    if not (pg_dir / "postmaster.pid").exists():
        return False
    pgserver = _import_pgserver()
    with _file_lock(_lock_path(pg_dir)):
        pgserver.PostgresServer._instances.pop(pg_dir, None)
        try:
            pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pg_dir, user=_pg_system_user(), timeout=60)
        except subprocess.CalledProcessError:
            if (pg_dir / "postmaster.pid").exists():
                raise EmbeddedPostgresError(
                    f"pg_ctl could not stop the embedded PostgreSQL in {pg_dir}; see {pg_dir / 'log'}."
                ) from None
            return False
    return True


def resolve_database_url() -> str:
    """The review database URL: `SHORTVID_DATABASE_URL`, or the embedded server when it is unset."""
    return settings.database_url() or embedded_server_url()


def dagster_storage_url(url: str) -> str:
    """`url` with the scheme `postgresql+psycopg2`, as dagster-postgres needs with SQLAlchemy 2.1."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg2"):
        raise InvalidDatabaseUrl(
            f"Expected a postgresql:// URL, got one with scheme {parts.scheme!r}; "
            "write the database URL as postgresql://user:password@host:port/dbname."
        )
    return urlunsplit(parts._replace(scheme="postgresql+psycopg2"))


def _libpq_url(url: str) -> str:
    """Accept SQLAlchemy-style `postgresql+psycopg2://` URLs too: libpq knows only `postgresql://`."""
    return re.sub(r"^postgres(ql)?\+psycopg2://", "postgresql://", url)


def _dsn_parts(url: str) -> dict[str, str]:
    try:
        return psycopg2.extensions.parse_dsn(_libpq_url(url))
    except psycopg2.ProgrammingError:
        # Never echo the URL: it may carry a password.
        raise InvalidDatabaseUrl(
            "The database URL is not valid for libpq; write it as "
            "postgresql://user:password@host:port/dbname (check SHORTVID_DATABASE_URL)."
        ) from None


def describe_url(url: str) -> str:
    """`user@host:port/dbname` of a database URL, without its password, for logs and messages."""
    parts = _dsn_parts(url)
    host = parts.get("host") or "the default local socket"
    port = parts.get("port") or "5432"
    user = parts.get("user", "")
    return f"{user + '@' if user else ''}{host}:{port}/{parts.get('dbname', user or '')}"


def connect(url: str, **kwargs: object) -> psycopg2.extensions.connection:
    """Open a psycopg2 connection, raising `DatabaseUnavailable` with a password-free message on failure."""
    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    kwargs.setdefault("application_name", "shortvid")
    where = describe_url(url)
    try:
        return psycopg2.connect(_libpq_url(url), **kwargs)
    except psycopg2.OperationalError as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise DatabaseUnavailable(
            f"Cannot connect to PostgreSQL at {where}: {reason}. Start that server, or point "
            "SHORTVID_DATABASE_URL at a reachable one (unset it to use the embedded server)."
        ) from None


def database_url_for(server_url: str, name: str) -> str:
    """The URL of database `name` on the server of `server_url` (same user, host and options)."""
    libpq = _libpq_url(server_url)
    if "://" in libpq:
        parts = urlsplit(server_url)
        return urlunsplit(parts._replace(path="/" + quote(name, safe="")))
    return psycopg2.extensions.make_dsn(libpq, dbname=name)


def _check_database_name(name: str) -> None:
    if not _DATABASE_NAME.match(name):
        raise ValueError(
            f"Database name {name!r} is not allowed: use lowercase letters, digits and underscores, "
            "starting with a letter or underscore, at most 63 characters."
        )


def _on_server(server_url: str, statement: sql.Composable) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE cannot run inside one)."""
    with connected(server_url) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(statement)


def create_database(server_url: str, name: str) -> str:
    """Create database `name` on the server of `server_url` and return its URL."""
    _check_database_name(name)
    _on_server(server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url_for(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    """Drop database `name` if it exists, closing any connection still open on it."""
    _check_database_name(name)
    _on_server(server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def connected(
    url: str, ensure_schema: Callable[[psycopg2.extensions.connection], None] | None = None
) -> Iterator[psycopg2.extensions.connection]:
    """A connection to `url`, with `ensure_schema(conn)` run first when given; closed afterwards."""
    conn = connect(url)
    try:
        if ensure_schema is not None:
            ensure_schema(conn)
        yield conn
    finally:
        conn.close()


def ensure_relations(
    conn: psycopg2.extensions.connection, lock_key: int, relations: tuple[str, ...], ddl: tuple[str, ...]
) -> None:
    """Run `ddl` (idempotent statements) unless every relation in `relations` exists already.

    The check takes no table lock, so a current schema never waits behind an open transaction;
    creation runs under an advisory lock so concurrent processes do not race.
    """
    check = " AND ".join("to_regclass(%s) IS NOT NULL" for _ in relations)
    with transaction(conn) as cur:
        cur.execute(f"SELECT {check}", relations)
        if cur.fetchone()[0]:
            return
    with advisory_lock(conn, lock_key), transaction(conn) as cur:
        for statement in ddl:
            cur.execute(statement)


@contextlib.contextmanager
def transaction(
    conn: psycopg2.extensions.connection, *, snapshot_read: bool = False
) -> Iterator[psycopg2.extensions.cursor]:
    """Run a block in its own transaction: committed on success, rolled back on error.

    With `snapshot_read`, the transaction is REPEATABLE READ READ ONLY, so every statement in
    the block sees the one snapshot taken by its first statement.
    """
    if conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
        raise RuntimeError("The connection is inside a transaction; commit or roll it back first.")
    autocommit = conn.autocommit
    conn.autocommit = True  # BEGIN is issued here so the isolation level is per transaction
    try:
        with conn.cursor() as cur:
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if snapshot_read else "BEGIN")
            try:
                yield cur
            except BaseException:
                with contextlib.suppress(psycopg2.Error):
                    cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
    finally:
        if conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            conn.autocommit = autocommit


@contextlib.contextmanager
def advisory_lock(conn: psycopg2.extensions.connection, key: int) -> Iterator[None]:
    """Hold a session-level advisory lock, e.g. to serialise schema migrations across processes."""
    autocommit = conn.autocommit
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            with contextlib.suppress(psycopg2.Error), conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", (key,))
    finally:
        if conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            conn.autocommit = autocommit
