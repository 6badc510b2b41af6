"""`shortvid`: run the graph, review videos, manage themes, start the Dagster UI (ORCH-4, ORCH-5).

One module per command group; each imports only `cli.common` and the layers below the CLI.
Bad input anywhere (a setting, the themes file, a date, an option) ends the command with exit code
2 and one line saying what was wrong and what to do; nothing else is printed before it.
"""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Any

import click
from click.exceptions import NoArgsIsHelpError

from shortvid_assets.cli.common import REFUSALS, UNAVAILABLE, Unavailable, UserError, check_settings, one_line
from shortvid_assets.cli.log import log
from shortvid_assets.cli.ops import backfill, daemon, worker
from shortvid_assets.cli.publish import publish
from shortvid_assets.cli.review import review
from shortvid_assets.cli.run import demo, dev, run
from shortvid_assets.cli.themes import themes


class ShortvidGroup(click.Group):
    """The main group: every refusal is one line on stderr, never a traceback or a usage screen."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except REFUSALS as exc:
            raise UserError(str(exc)) from None
        except UNAVAILABLE as exc:
            raise Unavailable(str(exc)) from None

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("standalone_mode", None)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except NoArgsIsHelpError as exc:
            exc.show()  # `shortvid` alone, or a group without its command: the help is the answer
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else "shortvid"
            click.echo(f"Error: {one_line(exc.format_message())} (see `{command} --help`)", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"Error: {one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=ShortvidGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log details (and library warnings) to stderr.")
def main(verbose: bool) -> None:
    """shortvid: trending short videos in, reviewed vertical videos out."""
    # Library chatter (the embedded server's start-up lines, Dagster's beta warnings) stays out of a
    # command's output unless asked for; warnings and errors of shortvid's own still show.
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    if not verbose:
        warnings.simplefilter("ignore")
    check_settings()


for command in (run, demo, dev, daemon, themes, review, log, backfill, worker, publish):
    main.add_command(command)

if __name__ == "__main__":
    main()
