"""`shortvid review`: approve or reject videos, list decisions, serve the review page."""

from __future__ import annotations

import click
import psycopg2.extensions

from shortvid_assets import settings
from shortvid_assets.cli.common import (
    UserError,
    artifacts,
    database,
    filter_date,
    filter_theme,
    listing_limit,
)
from shortvid_assets.domain.text_fields import printable
from shortvid_assets.review.decisions import check_decision, record_checked
from shortvid_assets.review.publication import PublicationShown, publication_shown
from shortvid_assets.storage import review_decisions


@click.group()
def review() -> None:
    """Human review: approve or reject videos, list decisions."""


def _decide(decision: str, day: str, theme: str, reviewer: str, note: str | None) -> None:
    try:
        # The one validation shared with the review page (theme, date, video on disk, reviewer), done
        # before the database is opened: bad input is refused even when the database is down or slow.
        checked = check_decision(
            artifacts(),
            settings.themes_file(),
            partition_date=day,
            theme=theme,
            decision=decision,
            reviewer=reviewer,
            note=note,
        )
        with database(review_decisions.ensure_schema) as conn:
            saved = record_checked(conn, checked)
    except review_decisions.InvalidDecision as exc:
        raise UserError(str(exc)) from None
    click.echo(
        f"decision #{saved.id}: {saved.partition_date} {saved.theme} {decision} by {printable(saved.reviewer)}; "
        "the review sensor applies it"
    )


@review.command()
@click.argument("day", metavar="DATE")
@click.argument("theme")
@click.option("--by", "reviewer", required=True, help="Who decides.")
@click.option("--note", default=None, help="Why.")
def approve(day: str, theme: str, reviewer: str, note: str | None) -> None:
    """Approve the video of DATE and THEME."""
    _decide("approved", day, theme, reviewer, note)


@review.command()
@click.argument("day", metavar="DATE")
@click.argument("theme")
@click.option("--by", "reviewer", required=True, help="Who decides.")
@click.option("--note", default=None, help="Why.")
def reject(day: str, theme: str, reviewer: str, note: str | None) -> None:
    """Reject the video of DATE and THEME."""
    _decide("rejected", day, theme, reviewer, note)


@review.command("list")
@click.option("--date", "day", default=None)
@click.option("--theme", default=None)
@click.option("--limit", default=50, show_default=True)
def review_list(day: str | None, theme: str | None, limit: int) -> None:
    """List review decisions, newest first.

    A decision the sensor set aside says why it is not applicable; an approval says whether and where
    its video was published.
    """
    # Options are checked before the database is opened: bad input is refused even when it is down.
    day, theme, limit = filter_date(day), filter_theme(theme), listing_limit(limit)
    with database(review_decisions.ensure_schema) as conn:
        rows = review_decisions.list_decisions(conn, partition_date=day, theme=theme, limit=limit)
        set_aside = review_decisions.set_aside_reasons(conn, [row.id for row in rows])
        published = _publications(conn, [row for row in rows if row.decision == "approved"])
    if not rows:
        click.echo("no review decisions yet")
    for row in rows:
        # Every value from the table is printed with control characters escaped: a row typed in a SQL
        # client must not forge lines or terminal escapes in this listing.
        line = (
            f"#{row.id:<5} {row.partition_date} {printable(row.theme):16} {row.decision:9} "
            f"by {printable(row.reviewer):12} {row.decided_at:%Y-%m-%d %H:%M} {printable(row.note or '')}"
        ).rstrip()
        if row.id in set_aside:
            line += f"  [not applicable: {printable(set_aside[row.id])}]"
        if row.id in published:
            line += f"  [{_publication_text(published[row.id])}]"
        click.echo(line)


def _publications(
    conn: psycopg2.extensions.connection, approvals: list[review_decisions.ReviewDecision]
) -> dict[int, PublicationShown | None]:
    """The publication of each approval's video, by decision id (one lookup per video and render)."""
    found: dict[tuple, PublicationShown | None] = {}
    for row in approvals:
        key = (row.partition_date, row.theme, row.video_sha256)
        if key not in found:
            found[key] = publication_shown(conn, row.partition_date, row.theme, video_sha256=row.video_sha256)
    return {row.id: found[(row.partition_date, row.theme, row.video_sha256)] for row in approvals}


def _publication_text(shown: PublicationShown | None) -> str:
    """One approval's publication, every value from the table escaped; never the upload session."""
    if shown is None:
        return "not published"
    text = f"{printable(shown.status)} on {printable(shown.platform)}"
    if shown.published:
        text += f": {printable(shown.remote_id or '')} {printable(shown.link or '')}".rstrip()
    if shown.other_render:
        text += " (another render than this decision's)"
    return text


@review.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port to listen on."
)
def review_serve(host: str, port: int) -> None:
    """Start the review page; reviewers sign in with a token from SHORTVID_REVIEW_TOKENS."""
    from shortvid_assets.review.app import ReviewAppConfigError, serve

    try:
        serve(host=host, port=port)
    except ReviewAppConfigError as exc:
        raise UserError(str(exc)) from None
