"""`shortvid`: run the graph, review videos, manage themes, start the Dagster UI (ORCH-4, ORCH-5)."""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from shortvid_assets import settings
from shortvid_assets.domain.themes import ThemeConfigError, load_themes


class UserError(click.ClickException):
    """Bad input: a clear message and exit code 2, nothing written."""

    exit_code = 2


def _yesterday() -> str:
    return (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


def _parse_date(value: str) -> str:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise UserError(f"invalid date {value!r}: use YYYY-MM-DD, e.g. {_yesterday()}") from None
    from shortvid_assets.partitions import daily_partitions

    first = daily_partitions.start.date()
    if day < first or day > datetime.now(UTC).date():
        raise UserError(f"date {value} is outside the daily partitions ({first} .. today, UTC)")
    return day.isoformat()


def _themes() -> dict:
    try:
        return load_themes(settings.themes_file())
    except ThemeConfigError as exc:
        raise UserError(str(exc)) from None


def _check_theme(slug: str, themes: dict) -> str:
    if slug not in themes:
        raise UserError(
            f"unknown theme {slug!r}; known themes: {', '.join(sorted(themes))} (from {settings.themes_file()})"
        )
    return slug


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug details.")
def main(verbose: bool) -> None:
    """shortvid: trending short videos in, reviewed vertical videos out."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(message)s")


def _sync_theme_partitions(instance, themes: dict) -> list[str]:
    from shortvid_assets.partitions import theme_partitions

    known = set(instance.get_dynamic_partitions(theme_partitions.name))
    new = sorted(set(themes) - known)
    if new:
        instance.add_dynamic_partitions(theme_partitions.name, new)
    return new


def _run(day: str, theme_slugs: list[str], force: bool) -> list:
    from shortvid_assets.runtime.instance import get_instance
    from shortvid_assets.runtime.runner import run_day

    themes = _themes()
    for slug in theme_slugs:
        _check_theme(slug, themes)
    instance = get_instance()
    _sync_theme_partitions(instance, themes)
    runs = run_day(instance, day, theme_slugs or sorted(themes), force=force)
    for run in runs:
        state = "ok" if run.success else "FAILED"
        ran = ", ".join(run.ran) or "nothing (all materialized)"
        click.echo(
            f"[{state}] {run.job} {run.partition}: ran {ran}" + (f" (run {run.run_id})" if run.run_id else "")
        )
        if run.error:
            click.echo(run.error, err=True)
    return runs


@main.command()
@click.option("--date", "day", default=None, help="Partition date (YYYY-MM-DD); default yesterday (UTC).")
@click.option(
    "--theme", "theme_slugs", multiple=True, help="Theme slug; repeat for several; default every theme."
)
@click.option("--force", is_flag=True, help="Re-run stages that are already materialized.")
def run(day: str | None, theme_slugs: tuple[str, ...], force: bool) -> None:
    """Materialize the whole graph for a date and themes, skipping stages already materialized."""
    runs = _run(_parse_date(day or _yesterday()), list(theme_slugs), force)
    if not all(r.success for r in runs):
        raise click.ClickException("a stage failed; fix the cause and run the same command again to resume")


@main.command()
@click.option("--date", "day", default=None, help="Partition date (YYYY-MM-DD); default yesterday (UTC).")
@click.option("--theme", "theme_slugs", multiple=True, help="Theme slug; default every sample theme.")
def demo(day: str | None, theme_slugs: tuple[str, ...]) -> None:
    """Run the whole graph offline for a date and every theme, then show where the videos are."""
    from shortvid_assets.resources.paths import ShortvidPaths

    day = _parse_date(day or _yesterday())
    runs = _run(day, list(theme_slugs), force=False)
    if not all(r.success for r in runs):
        raise click.ClickException("the demo failed; see the log above, then run it again to resume")
    paths = ShortvidPaths.from_env()
    click.echo("\nVideos awaiting review:")
    for slug in theme_slugs or sorted(_themes()):
        for folder in ("review", "approved", "rejected"):
            video = paths.review_file(folder, day, slug, "mp4")
            if video.exists():
                click.echo(f"  {video}  ({folder})")
    click.echo(
        "\nOpen the Dagster UI on the same instance:  .venv/bin/shortvid dev   (then http://127.0.0.1:3000)"
        f"\nApprove a video:  .venv/bin/shortvid review approve {day} <theme> --by <your name>"
    )


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def dev(dagster_args: tuple[str, ...]) -> None:
    """Start `dagster dev` (UI + daemon) on shortvid's instance; extra arguments go to dagster."""
    from shortvid_assets.runtime.instance import get_instance

    get_instance()
    workspace = settings.PROJECT_DIR / "workspace.yaml"
    dagster = Path(sys.executable).with_name("dagster")
    args = [str(dagster), "dev", "-w", str(workspace), *dagster_args]
    click.echo(f"DAGSTER_HOME={os.environ['DAGSTER_HOME']}\n$ {' '.join(args)}")
    os.execv(args[0], args)


@main.group()
def themes() -> None:
    """The themes config (RUN-4)."""


@themes.command("list")
def themes_list() -> None:
    """List the configured themes."""
    for slug, theme in sorted(_themes().items()):
        click.echo(f"{slug:20} {theme.product_name} — {theme.target_duration_s:.0f}s, {theme.style}")


@themes.command("sync")
def themes_sync() -> None:
    """Add a partition for every theme in the config that has none yet."""
    from shortvid_assets.runtime.instance import get_instance

    new = _sync_theme_partitions(get_instance(), _themes())
    click.echo(
        f"added theme partitions: {', '.join(new)}" if new else "every theme already has its partition"
    )


@main.group()
def review() -> None:
    """Human review: approve or reject videos, list decisions."""


def _decide(decision: str, day: str, theme: str, reviewer: str, note: str | None) -> None:
    from shortvid_assets.resources.paths import ShortvidPaths
    from shortvid_assets.storage import postgres, review_decisions

    conn = postgres.connect(postgres.resolve_database_url())
    try:
        review_decisions.ensure_schema(conn)
        # The one validation shared with the review page: theme, date, video on disk, reviewer.
        saved = review_decisions.submit_decision(
            conn,
            ShortvidPaths.from_env(),
            partition_date=day,
            theme=theme,
            decision=decision,
            reviewer=reviewer,
            note=note,
        )
    except review_decisions.InvalidDecision as exc:
        raise UserError(str(exc)) from None
    finally:
        conn.close()
    click.echo(
        f"decision #{saved.id}: {saved.partition_date} {theme} {decision} by {saved.reviewer}; "
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
    """List review decisions, newest first."""
    from shortvid_assets.storage import postgres, review_decisions

    conn = postgres.connect(postgres.resolve_database_url())
    try:
        review_decisions.ensure_schema(conn)
        rows = review_decisions.list_decisions(
            conn,
            partition_date=date.fromisoformat(_parse_date(day)) if day else None,
            theme=theme,
            limit=limit,
        )
    finally:
        conn.close()
    if not rows:
        click.echo("no review decisions yet")
    for row in rows:
        click.echo(
            f"#{row.id:<5} {row.partition_date} {row.theme:16} {row.decision:9} by {row.reviewer:12} "
            f"{row.decided_at:%Y-%m-%d %H:%M} {row.note or ''}"
        )


@review.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, help="Port to listen on.")
def review_serve(host: str, port: int) -> None:
    """Start the review page; reviewers sign in with a token from SHORTVID_REVIEW_TOKENS."""
    from shortvid_assets.review.app import ReviewAppConfigError, serve

    try:
        serve(host=host, port=port)
    except ReviewAppConfigError as exc:
        raise UserError(str(exc)) from None


def _register_command_modules() -> None:
    """Commands that live in their own modules, next to the code they drive."""
    from shortvid_assets.cli.log import log
    from shortvid_assets.cli.ops import backfill, worker

    for command in (log, backfill, worker):
        main.add_command(command)


_register_command_modules()

if __name__ == "__main__":
    main()
