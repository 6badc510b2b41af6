"""Protects the one date parser every entry point uses (strict ISO, inside the partitions) and the
CLI's shared refusals: exit code 2 and one line."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from shortvid_assets.cli.common import UserError, filter_date, listing_limit, partition_date
from shortvid_assets.domain.dates import InvalidDate, parse_day, partition_day

TODAY = date(2026, 12, 3)


@pytest.fixture
def pinned():
    with time_machine.travel("2026-12-03 10:00:00+00:00", tick=False):
        yield


@pytest.mark.parametrize(
    "text",
    [" 2026-11-20", "2026-11-20 ", "20261120", "2026-W47-5", "2026-11-31", "", "11/20/2026", "2026-11-20\n"],
)
def test_only_strict_iso_dates_parse(text):
    with pytest.raises(InvalidDate, match="YYYY-MM-DD"):
        parse_day(text)


def test_digits_of_other_scripts_are_told_the_form_not_no_such_day():
    with pytest.raises(InvalidDate, match="write it as YYYY-MM-DD"):
        parse_day("\u0662\u0660\u0662\u0666-\u0661\u0661-\u0662\u0660")  # 2026-11-20 in Arabic-Indic digits


def test_a_strict_iso_date_parses():
    assert parse_day("2026-11-20") == date(2026, 11, 20)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2026-12-03", "has not ended yet"),
        ("2027-01-01", "has not ended yet"),
        ("2025-12-31", "SHORTVID_START_DATE"),
    ],
)
def test_partition_days_run_from_the_start_date_to_yesterday(pinned, text, problem):
    with pytest.raises(InvalidDate, match=problem):
        partition_day(text)
    assert partition_day("2026-12-02") == date(2026, 12, 2)


def test_the_cli_defaults_to_yesterday_and_refuses_with_exit_code_2(pinned):
    assert partition_date(None) == "2026-12-02"
    with pytest.raises(UserError) as refused:
        partition_date("")
    assert refused.value.exit_code == 2 and "\n" not in refused.value.message


def test_listing_filters_accept_any_strict_day_and_bounded_limits():
    assert filter_date("2020-01-01") == "2020-01-01"
    with pytest.raises(UserError, match="YYYY-MM-DD"):
        filter_date("2020-1-1")
    for bad in (-1, 0, 10**9):
        with pytest.raises(UserError, match="from 1 to 10000"):
            listing_limit(bad)


def test_a_long_bad_value_is_not_echoed_in_full():
    with pytest.raises(InvalidDate) as refused:
        parse_day("x" * 100_000)
    assert len(str(refused.value)) < 200
