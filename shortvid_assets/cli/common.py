"""What every `shortvid` command shares: the bad-input error, date and theme parsing, the database."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import click

from shortvid_assets import clock, settings
from shortvid_assets.domain.dates import InvalidDate, parse_day, partition_day
from shortvid_assets.domain.models import Theme
from shortvid_assets.domain.themes import ThemeConfigError, load_themes
from shortvid_assets.storage import postgres
from shortvid_assets.storage.artifacts import Artifacts


class UserError(click.ClickException):
    """Bad input: a clear message and exit code 2, nothing written."""

    exit_code = 2


def partition_date(value: str | None) -> str:
    """A strict YYYY-MM-DD inside the daily partitions (default: the last complete UTC day)."""
    try:
        return partition_day(value if value is not None else clock.yesterday()).isoformat()
    except InvalidDate as err:
        raise UserError(str(err)) from None


def filter_date(value: str | None) -> str | None:
    """An optional strict YYYY-MM-DD used to filter listings (any calendar day)."""
    if value is None:
        return None
    try:
        return parse_day(value).isoformat()
    except InvalidDate as err:
        raise UserError(str(err)) from None


def themes() -> dict[str, Theme]:
    try:
        return load_themes(settings.themes_file())
    except ThemeConfigError as exc:
        raise UserError(str(exc)) from None


def check_theme(slug: str, known: dict[str, Theme]) -> str:
    if slug not in known:
        raise UserError(
            f"unknown theme {slug[:64]!r}; known themes: {', '.join(sorted(known))} "
            f"(from {settings.themes_file()})"
        )
    return slug


def artifacts() -> Artifacts:
    return Artifacts(settings.data_dir(), settings.output_dir())


@contextlib.contextmanager
def database(ensure_schema: Callable) -> Iterator:
    """A connection to shortvid's database with the table `ensure_schema` creates in place."""
    conn = postgres.connect(postgres.resolve_database_url())
    try:
        ensure_schema(conn)
        yield conn
    finally:
        conn.close()


def listing_limit(value: int) -> int:
    if not 1 <= value <= 10_000:
        raise UserError(f"--limit {value}: give a number of rows from 1 to 10000")
    return value
