"""`shortvid log`: the generation log (REVIEW-2) and what each video cost (REVIEW-5)."""

from __future__ import annotations

import click

from shortvid_assets.cli.common import UserError, database, filter_date, filter_theme, listing_limit, shown
from shortvid_assets.storage import generation_log


@click.group("log")
def log() -> None:
    """Generation log: every script and voiceover attempt with its prompts, model, cost and status."""


@log.command("list")
@click.option("--date", "day", default=None, help="Only this date (YYYY-MM-DD).")
@click.option("--theme", default=None, help="Only this theme slug.")
@click.option("--limit", default=50, show_default=True, help="At most this many rows, newest first.")
def log_list(day: str | None, theme: str | None, limit: int) -> None:
    """List generation attempts, newest first, with the total cost of what is listed."""
    # Every option is checked before the database starts.
    day, theme, limit = filter_date(day), filter_theme(theme), listing_limit(limit)
    with database(generation_log.ensure_schema) as conn:
        rows = generation_log.list_generations(conn, date=day, theme=theme, limit=limit)
    if not rows:
        click.echo("no generations logged yet" + (" for this filter" if day or theme else ""))
        return
    for row in rows:
        click.echo(
            f"#{row.id:<5} {row.created_at:%Y-%m-%d %H:%M} {row.date} {shown(row.theme):16} {shown(row.asset):12} "
            f"{shown(row.status):9} {shown(row.implementation):24} {shown(row.model or '-'):20} ${row.cost_usd:.5f}"
        )
    click.echo(f"{len(rows)} rows, ${sum(row.cost_usd for row in rows):.5f} in all")


@log.command("show")
@click.argument("generation_id", metavar="ID", type=int)
def log_show(generation_id: int) -> None:
    """Show one generation attempt in full (prompts, paid calls, error) as JSON."""
    if not 1 <= generation_id < 2**63:
        raise UserError(f"no generation #{generation_id}: see `shortvid log list` for the ids")
    with database(generation_log.ensure_schema) as conn:
        row = generation_log.get_generation(conn, generation_id)
        total = generation_log.generation_cost(conn, row.date, row.theme) if row else 0.0
    if row is None:
        raise UserError(f"no generation #{generation_id}: see `shortvid log list` for the ids")
    # JSON escapes C0 controls inside strings; DEL, C1 and bidi controls are escaped line by line.
    click.echo("\n".join(shown(line) for line in generation_log.to_json(row).splitlines()))
    click.echo(f"spent on the video of {row.date} {row.theme} so far: ${total:.5f}")
