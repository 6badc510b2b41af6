"""`shortvid`: run the graph, review videos, manage themes, start the Dagster UI (ORCH-4, ORCH-5).

One module per command group; each imports only `cli.common` and the layers below the CLI.
"""

from __future__ import annotations

import logging

import click

from shortvid_assets.cli.log import log
from shortvid_assets.cli.ops import backfill, worker
from shortvid_assets.cli.publish import publish
from shortvid_assets.cli.review import review
from shortvid_assets.cli.run import demo, dev, run
from shortvid_assets.cli.themes import themes


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug details.")
def main(verbose: bool) -> None:
    """shortvid: trending short videos in, reviewed vertical videos out."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(message)s")


for command in (run, demo, dev, themes, review, log, backfill, worker, publish):
    main.add_command(command)

if __name__ == "__main__":
    main()
