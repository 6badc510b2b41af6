"""`shortvid daemon`: Dagster's daemon, with the backfill loop it cannot configure made a setting.

Dagster's backfill daemon looks at every backfill once per `DEFAULT_DAEMON_INTERVAL_SECONDS` (30 s,
not in dagster.yaml). A shortvid backfill has two levels, a day's trends and then its videos, so each
day's videos waited up to 30 s after its trends were in, with the run queue idle at the end of a
backfill (Scale issue: benchmarks/backfill.py). Each look is a few queries on the instance storage.
"""

from __future__ import annotations

from pathlib import Path

from shortvid_assets import settings

BACKFILL_LOOP_ENV = "SHORTVID_BACKFILL_LOOP_S"
DEFAULT_BACKFILL_LOOP_S = 5.0


def backfill_loop_s() -> float:
    """Seconds between two looks of the backfill daemon: `SHORTVID_BACKFILL_LOOP_S` (default 5, 1 to 60)."""
    return float(settings.number(BACKFILL_LOOP_ENV, DEFAULT_BACKFILL_LOOP_S, minimum=1, maximum=60))


def set_backfill_loop(seconds: float) -> None:
    """Make the backfill daemon of this process look at backfills every `seconds`."""
    from dagster._daemon import controller

    if not hasattr(controller, "DEFAULT_DAEMON_INTERVAL_SECONDS"):  # a Dagster that moved it
        raise RuntimeError(
            "this Dagster version has no backfill loop setting to change: "
            f"unset {BACKFILL_LOOP_ENV} or run `dagster-daemon run -w workspace.yaml`"
        )
    controller.DEFAULT_DAEMON_INTERVAL_SECONDS = seconds  # read by the backfill loop at each pass


def run_daemon(workspace: Path, backfill_loop_s: float, extra_args: tuple[str, ...] = ()) -> None:
    """`dagster-daemon run -w workspace` in this process, its backfill loop every `backfill_loop_s`."""
    from dagster._daemon.cli import cli

    set_backfill_loop(backfill_loop_s)
    cli.main(args=["run", "-w", str(workspace), *extra_args], prog_name="shortvid daemon", obj={})
