"""Recording a reviewer's decision: the one write-time validation shared by the CLI and the review page.

Bad input raises `InvalidDecision` here, at write time, so the sensor never meets a decision
that shortvid itself wrote and cannot apply. `check_decision` needs no database, so a command can
refuse bad input before it connects; `submit_decision` checks and records in one call.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg2.extensions

from shortvid_assets.domain.dates import InvalidDate, partition_day
from shortvid_assets.domain.files import file_sha256
from shortvid_assets.domain.themes import ThemeConfigError, load_themes
from shortvid_assets.storage.artifacts import Artifacts
from shortvid_assets.storage.review_decisions import (
    DECISIONS,
    InvalidDecision,
    NewDecision,
    ReviewDecision,
    check_new_decision,
    record_decision,
)


class ThemesUnreadable(InvalidDecision):
    """The themes config cannot be read: the operator's problem, not the reviewer's input."""


def check_partition_date(value: dt.date | str) -> dt.date:
    """A strict YYYY-MM-DD inside the daily partitions, or InvalidDecision saying why not."""
    try:
        return partition_day(value)
    except InvalidDate as err:
        raise InvalidDecision(f"{err}: no video can exist for it") from None


def check_decision(
    artifacts: Artifacts,
    themes_file: Path,
    *,
    partition_date: dt.date | str,
    theme: str,
    decision: str,
    reviewer: str,
    note: str | None = None,
    expected_sha256: str | None = None,
) -> NewDecision:
    """Validate a reviewer's decision against the themes and output folders: the row to record.

    `expected_sha256` is the hash of the video the reviewer watched (the page sends it): a
    re-render in the meantime refuses the decision instead of applying it to unseen bytes.
    """
    if not reviewer or not reviewer.strip():
        raise InvalidDecision("The reviewer is empty; say who decided (a name or e-mail).")
    if decision not in DECISIONS:
        raise InvalidDecision(
            f"Decision {decision!r} is not one of {', '.join(DECISIONS)}; pass one of those."
        )
    day = check_partition_date(partition_date)
    try:
        themes = load_themes(themes_file)
    except ThemeConfigError as err:
        raise ThemesUnreadable(str(err)) from None
    if theme not in themes:
        known = ", ".join(sorted(themes)) or "none"
        raise InvalidDecision(f"unknown theme {theme[:64]!r}; known themes: {known} (in the themes config)")
    video = artifacts.find_video(day.isoformat(), theme)
    if video is None:
        raise InvalidDecision(
            f"no composed video for {day} {theme}: run `shortvid run --date {day} --theme {theme}` first"
        )
    sha256 = file_sha256(video)
    if expected_sha256 is not None and expected_sha256 != sha256:
        raise InvalidDecision(
            f"the video for {day} {theme} was re-rendered since you opened it; reload the page and watch "
            "the new render before deciding"
        )
    return check_new_decision(
        partition_date=day,
        theme=theme,
        decision=decision,
        reviewer=reviewer,
        note=(note or "").strip() or None,
        video_path=video,
        video_sha256=sha256,
    )


def record_checked(conn: psycopg2.extensions.connection, checked: NewDecision) -> ReviewDecision:
    """Record a decision `check_decision` returned."""
    return record_decision(conn, **checked.model_dump())


def submit_decision(
    conn: psycopg2.extensions.connection,
    artifacts: Artifacts,
    themes_file: Path,
    *,
    partition_date: dt.date | str,
    theme: str,
    decision: str,
    reviewer: str,
    note: str | None = None,
    expected_sha256: str | None = None,
) -> ReviewDecision:
    """Validate a reviewer's decision (`check_decision`), then record it."""
    checked = check_decision(
        artifacts,
        themes_file,
        partition_date=partition_date,
        theme=theme,
        decision=decision,
        reviewer=reviewer,
        note=note,
        expected_sha256=expected_sha256,
    )
    return record_checked(conn, checked)
