"""`shortvid run`, `shortvid demo`, `shortvid dev`: materialize the graph, or open the UI on its instance."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from shortvid_assets import settings
from shortvid_assets.cli.common import artifacts, check_settings, check_theme, partition_date, themes
from shortvid_assets.storage.artifacts import REVIEW_FOLDERS


def _run(day: str, theme_slugs: list[str], force: bool) -> list:
    """Refuse bad settings, themes and slugs before the database starts; then run the day."""
    known = themes()
    for slug in theme_slugs:
        check_theme(slug, known)
    check_settings(resources=True)
    from shortvid_assets.partitions import add_theme_partitions
    from shortvid_assets.runtime.instance import get_instance
    from shortvid_assets.runtime.runner import run_day

    instance = get_instance()
    add_theme_partitions(instance, known)
    runs = run_day(instance, day, theme_slugs or sorted(known), force=force)
    for run in runs:
        state = "ok" if run.success else "FAILED"
        ran = ", ".join(run.ran) or "nothing (all materialized)"
        click.echo(
            f"[{state}] {run.job} {run.partition}: ran {ran}" + (f" (run {run.run_id})" if run.run_id else "")
        )
        if run.error:
            click.echo(run.error, err=True)
    return runs


@click.command()
@click.option("--date", "day", default=None, help="Partition date (YYYY-MM-DD); default yesterday (UTC).")
@click.option(
    "--theme", "theme_slugs", multiple=True, help="Theme slug; repeat for several; default every theme."
)
@click.option("--force", is_flag=True, help="Re-run stages that are already materialized.")
def run(day: str | None, theme_slugs: tuple[str, ...], force: bool) -> None:
    """Materialize the whole graph for a date and themes, skipping stages already materialized."""
    runs = _run(partition_date(day), list(theme_slugs), force)
    if not all(r.success for r in runs):
        raise click.ClickException("a stage failed; fix the cause and run the same command again to resume")


@click.command()
@click.option("--date", "day", default=None, help="Partition date (YYYY-MM-DD); default yesterday (UTC).")
@click.option("--theme", "theme_slugs", multiple=True, help="Theme slug; default every sample theme.")
def demo(day: str | None, theme_slugs: tuple[str, ...]) -> None:
    """Run the whole graph offline for a date and every theme, then show where the videos are."""
    day = partition_date(day)
    runs = _run(day, list(theme_slugs), force=False)
    if not all(r.success for r in runs):
        raise click.ClickException("the demo failed; see the log above, then run it again to resume")
    store = artifacts()
    click.echo("\nVideos awaiting review:")
    for slug in theme_slugs or sorted(themes()):
        video = store.find_video(day, slug)
        if video is not None:
            folder = next(f for f in REVIEW_FOLDERS if video.parent.name == f)
            click.echo(f"  {video}  ({folder})")
    click.echo(
        "\nOpen the Dagster UI on the same instance:  .venv/bin/shortvid dev   (then http://127.0.0.1:3000)"
        f"\nApprove a video:  .venv/bin/shortvid review approve {day} <theme> --by <your name>"
    )


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def dev(dagster_args: tuple[str, ...]) -> None:
    """Start `dagster dev` (UI + daemon) on shortvid's instance; extra arguments go to dagster."""
    from shortvid_assets.runtime.instance import get_instance

    check_settings(resources=True)  # the code location would refuse them too, behind a UI error page
    get_instance()
    workspace = settings.PROJECT_DIR / "workspace.yaml"
    dagster = Path(sys.executable).with_name("dagster")
    args = [str(dagster), "dev", "-w", str(workspace), *dagster_args]
    click.echo(f"DAGSTER_HOME={settings.text('DAGSTER_HOME')}\n$ {' '.join(args)}")
    os.execv(args[0], args)
