"""The one clock: every "now" and "today" in shortvid comes from here, so tests can pin it.

Tests move it with `time-machine` (the suite's conftest can shift the whole run a year ahead):
nothing else in the package calls `datetime.now()` or `date.today()`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def today() -> date:
    """The current UTC date: the newest daily partition that may exist."""
    return now().date()


def yesterday() -> date:
    """The latest complete UTC day, what a daily run makes by default."""
    return today() - timedelta(days=1)
