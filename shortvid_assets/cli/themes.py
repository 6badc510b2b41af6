"""`shortvid themes`: the themes config (RUN-4)."""

from __future__ import annotations

import click

from shortvid_assets.cli.common import shown
from shortvid_assets.cli.common import themes as load_config


@click.group()
def themes() -> None:
    """The themes config (RUN-4)."""


@themes.command("list")
def themes_list() -> None:
    """List the configured themes."""
    for slug, theme in sorted(load_config().items()):
        click.echo(f"{slug:20} {shown(theme.product_name)} — {theme.target_duration_s:.0f}s, {theme.style}")


@themes.command("sync")
def themes_sync() -> None:
    """Add a partition for every theme in the config that has none yet."""
    from shortvid_assets.partitions import add_theme_partitions
    from shortvid_assets.runtime.instance import get_instance

    new = add_theme_partitions(get_instance(), load_config())
    click.echo(
        f"added theme partitions: {', '.join(new)}" if new else "every theme already has its partition"
    )
