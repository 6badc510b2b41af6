"""Partition dates: one strict parser for every entry point (CLI, review page, SQL rows, settings)."""

from __future__ import annotations

import re
from datetime import date

from shortvid_assets import clock, settings

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only, the whole text


class InvalidDate(ValueError):
    """A date that is not a strict YYYY-MM-DD, or one outside the daily partitions."""


def parse_day(value: str | date) -> date:
    """A calendar date written exactly YYYY-MM-DD (no spaces, no 20261120, no week dates)."""
    if isinstance(value, date):
        return value
    text = str(value)
    if not _ISO_DAY.fullmatch(text):
        raise InvalidDate(f"invalid date {text[:40]!r}: write it as YYYY-MM-DD, e.g. {clock.yesterday()}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidDate(f"invalid date {text!r}: no such day (YYYY-MM-DD)") from None


def check_in_partitions(day: date, *, first: date, last: date) -> date:
    """`day` itself when it lies in [first, last]; otherwise an error that names the range."""
    if not first <= day <= last:
        raise InvalidDate(
            f"date {day} is outside the daily partitions ({first} .. {last}, UTC): "
            + ("it has not ended yet" if day > last else f"set SHORTVID_START_DATE before {day} to use it")
        )
    return day


def partition_day(value: str | date) -> date:
    """A strict YYYY-MM-DD inside the daily partitions: from SHORTVID_START_DATE to the last complete UTC day."""
    return check_in_partitions(parse_day(value), first=settings.start_date(), last=clock.yesterday())
