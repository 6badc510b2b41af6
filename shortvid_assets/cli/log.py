"""`shortvid log`: the generation log (REVIEW-2) and what each video cost (REVIEW-5)."""

from __future__ import annotations

import datetime as dt

import click

from shortvid_assets.storage import generation_log, postgres


class _UserError(click.ClickException):
    """Bad input: a clear message and exit code 2."""

    exit_code = 2


def _connect():
    conn = postgres.connect(postgres.resolve_database_url())
    generation_log.ensure_schema(conn)
    return conn


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _UserError(f"invalid date {value!r}: use YYYY-MM-DD") from None


@click.group("log")
def log() -> None:
    """Generation log: every script and voiceover attempt with its prompts, model, cost and status."""


@log.command("list")
@click.option("--date", "day", default=None, help="Only this date (YYYY-MM-DD).")
@click.option("--theme", default=None, help="Only this theme slug.")
@click.option("--limit", default=50, show_default=True, help="At most this many rows, newest first.")
def log_list(day: str | None, theme: str | None, limit: int) -> None:
    """List generation attempts, newest first, with the total cost of what is listed."""
    conn = _connect()
    try:
        rows = generation_log.list_generations(conn, date=_date(day), theme=theme, limit=limit)
    finally:
        conn.close()
    if not rows:
        click.echo("no generations logged yet" + (" for this filter" if day or theme else ""))
        return
    for row in rows:
        click.echo(
            f"#{row.id:<5} {row.created_at:%Y-%m-%d %H:%M} {row.date} {row.theme:16} {row.asset:12} "
            f"{row.status:9} {row.implementation:24} {row.model or '-':20} ${row.cost_usd:.5f}"
        )
    click.echo(f"{len(rows)} rows, ${sum(row.cost_usd for row in rows):.5f} in all")


@log.command("show")
@click.argument("generation_id", metavar="ID", type=int)
def log_show(generation_id: int) -> None:
    """Show one generation attempt in full (prompts, paid calls, error) as JSON."""
    conn = _connect()
    try:
        row = generation_log.get_generation(conn, generation_id)
        total = generation_log.generation_cost(conn, row.date, row.theme) if row else 0.0
    finally:
        conn.close()
    if row is None:
        raise _UserError(f"no generation #{generation_id}: see `shortvid log list` for the ids")
    click.echo(generation_log.to_json(row))
    click.echo(f"spent on the video of {row.date} {row.theme} so far: ${total:.5f}")
