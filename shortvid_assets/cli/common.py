"""What every `shortvid` command shares: the bad-input error, date and theme parsing, the database."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator

import click

from shortvid_assets import clock, settings
from shortvid_assets.domain.dates import InvalidDate, parse_day, partition_day
from shortvid_assets.domain.models import SLUG_PATTERN, Theme
from shortvid_assets.domain.text_fields import printable
from shortvid_assets.domain.themes import ThemeConfigError, load_themes
from shortvid_assets.storage import postgres
from shortvid_assets.storage.artifacts import Artifacts

# The longest message a refusal prints: user input is cut, never echoed in full.
MAX_MESSAGE = 400
# Bad input: exit code 2 and one line. A settings, themes or date problem raised anywhere below the
# CLI is one of these; the main group turns it into that line.
REFUSALS: tuple[type[Exception], ...] = (
    settings.SettingError,
    ThemeConfigError,
    InvalidDate,
    postgres.InvalidDatabaseUrl,
)
# Not the user's input, but still one line (exit code 1): the database cannot be reached or started.
UNAVAILABLE: tuple[type[Exception], ...] = (postgres.DatabaseUnavailable, postgres.EmbeddedPostgresError)


def one_line(message: str, limit: int = MAX_MESSAGE) -> str:
    """`message` on one line, control characters escaped, cut to `limit` characters."""
    text = printable(" ".join(str(message).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class UserError(click.ClickException):
    """Bad input: a clear message and exit code 2, nothing written."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class Unavailable(click.ClickException):
    """A server shortvid needs is down: one line, exit code 1."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


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


def filter_theme(value: str | None) -> str | None:
    """An optional theme slug used to filter listings (any slug, configured or not)."""
    if value is not None and not re.fullmatch(SLUG_PATTERN.strip("^$"), value):
        raise UserError(
            f"--theme {value[:64]!r} is not a theme slug: write lowercase letters, digits and '-' "
            "(see `shortvid themes list`)"
        )
    return value


def shown(value: object) -> str:
    """A value from the database or a file as a listing prints it: control characters escaped."""
    return printable(str(value))


def check_settings(*, resources: bool = False) -> None:
    """Refuse a bad setting before anything starts; with `resources`, every external system's too."""
    settings.validate()
    if resources:
        from shortvid_assets.definitions import build_resources

        build_resources()
