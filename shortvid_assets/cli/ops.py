"""`shortvid backfill` and `shortvid worker`: operations on the shared instance (ORCH-4, ORCH-5)."""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import click

from shortvid_assets import settings
from shortvid_assets.cli.common import UserError, check_settings, check_theme, partition_date, themes
from shortvid_assets.domain.text_fields import check_plain_text

MAX_BACKFILL_DAYS = 366
MAX_WAIT_S = 7 * 24 * 3600
TERMINAL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
CODE_LOCATION_MODULE = "shortvid_assets.definitions"  # workspace.yaml's module_name


def _days(start: str, end: str) -> list[str]:
    first, last = date.fromisoformat(partition_date(start)), date.fromisoformat(partition_date(end))
    if last < first:
        raise UserError(f"--to {end} is before --from {start}")
    count = (last - first).days + 1
    if count > MAX_BACKFILL_DAYS:
        raise UserError(f"{count} days asked for: backfill at most {MAX_BACKFILL_DAYS} days at a time")
    return [(first + timedelta(days=n)).isoformat() for n in range(count)]


def _wait_seconds(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and 0 <= value <= MAX_WAIT_S):
        raise click.BadParameter(f"{value} is not a number of seconds from 0 to {MAX_WAIT_S}")
    return value


def _plain(option: str, value: str) -> str:
    try:
        return check_plain_text(value)
    except ValueError as exc:
        raise UserError(f"{option} {value[:64]!r} {exc}") from None


def _daemon_running(instance, within_s: float = 120.0) -> bool:
    beats = instance.get_daemon_heartbeats()
    backfill = beats.get("BACKFILL")
    return backfill is not None and time.time() - backfill.timestamp < within_s


def wait_for_backfill(instance, backfill_id: str, timeout_s: float, poll_s: float = 5.0) -> str:
    """Poll the backfill until it ends or `timeout_s` passes; its last status name."""
    import dagster as dg

    deadline = time.monotonic() + timeout_s
    reported = None
    while True:
        backfill = instance.get_backfill(backfill_id)
        runs = instance.get_runs(filters=dg.RunsFilter.for_backfill(backfill_id))
        by_status: dict[str, int] = {}
        for run in runs:
            by_status[run.status.value] = by_status.get(run.status.value, 0) + 1
        line = f"{backfill.status.value}: runs " + (
            ", ".join(f"{n} {s.lower()}" for s, n in sorted(by_status.items())) or "none yet"
        )
        if line != reported:
            click.echo(line)
            reported = line
        if backfill.status.value in TERMINAL or time.monotonic() > deadline:
            return backfill.status.value
        time.sleep(poll_s)


@click.command()
@click.option("--from", "start", required=True, help="First date (YYYY-MM-DD).")
@click.option("--to", "end", required=True, help="Last date (YYYY-MM-DD), included.")
@click.option("--theme", "theme_slugs", multiple=True, help="Theme slug; repeat for several; default all.")
@click.option(
    "--job",
    "scope",
    type=click.Choice(["all", "trends", "video"]),
    default="all",
    show_default=True,
    help="The trends job, the video job, or both (trends first, then the videos).",
)
@click.option("--missing", is_flag=True, help="Only partitions that are not materialized yet.")
@click.option(
    "--wait",
    "wait_s",
    type=float,
    default=None,
    callback=lambda _ctx, _param, value: _wait_seconds(value),
    help="Wait up to this many seconds (at most a week) for it to end.",
)
def backfill(
    start: str, end: str, theme_slugs: tuple[str, ...], scope: str, missing: bool, wait_s: float | None
) -> None:
    """Backfill a date range as a Dagster asset backfill; the daemon runs it through the run queue."""
    from shortvid_assets.partitions import add_theme_partitions
    from shortvid_assets.runtime.instance import get_instance
    from shortvid_assets.runtime.runner import launch_daily_backfills, plan_backfill

    days = _days(start, end)
    check_settings(resources=True)
    known = themes()
    slugs = [check_theme(s, known) for s in theme_slugs] or sorted(known)
    instance = get_instance()
    add_theme_partitions(instance, known)
    plan = plan_backfill(instance, days, slugs, scope=scope, missing_only=missing)
    if plan.empty:
        click.echo("nothing to backfill: every partition asked for is materialized")
        return
    title = f"shortvid {scope} {days[0]}..{days[-1]}" + (" missing" if missing else "")
    try:
        backfill_ids = launch_daily_backfills(instance, plan, title=title)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    for asset, keys in plan.partitions.items():
        click.echo(f"  {asset:16} {len(keys)} partitions")
    for backfill_id, day in zip(backfill_ids, plan.days(), strict=True):
        click.echo(f"backfill {backfill_id}: {plan.for_day(day).count()} asset partitions of {day}")
        click.echo(f"  UI: http://127.0.0.1:3000/runs/b/{backfill_id}")
    click.echo(f"{len(backfill_ids)} backfills, one per day: {plan.count()} asset partitions ({title})")
    if not _daemon_running(instance):
        click.echo(
            "  no Dagster daemon is running on this instance: start `shortvid dev` (or "
            f"`dagster-daemon run` with DAGSTER_HOME={settings.text('DAGSTER_HOME')}); the backfill waits"
        )
    if wait_s is not None:
        deadline = time.monotonic() + wait_s
        for backfill_id in backfill_ids:
            status = wait_for_backfill(instance, backfill_id, max(0.0, deadline - time.monotonic()))
            if status not in {"COMPLETED", "COMPLETED_SUCCESS"}:
                raise click.ClickException(
                    f"backfill {backfill_id} is {status}: see its runs in the UI, fix the cause, then run the "
                    "same command with --missing to make only what is still missing"
                )


def write_celery_config(
    folder: Path, broker: str, backend: str, extra: dict[str, object] | None = None
) -> Path:
    """The `dagster_celery_config` module dagster-celery's app reads: broker, backend, and `extra` settings."""
    path = folder / "dagster_celery_config.py"
    values = {
        "broker_url": broker,
        "result_backend": backend,
        "worker_prefetch_multiplier": 1,
        **(extra or {}),
    }
    path.write_text("".join(f"{name} = {value!r}\n" for name, value in values.items()))
    return path


@click.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--broker", default=None, help="Celery broker URL; default SHORTVID_CELERY_BROKER or local Redis."
)
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Steps this worker runs at once.",
)
@click.option(
    "--name",
    "-n",
    default="shortvid@%h",
    show_default=True,
    callback=lambda _ctx, _param, value: _plain("--name", value),
    help="Celery worker name.",
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(broker: str | None, concurrency: int, name: str, celery_args: tuple[str, ...]) -> None:
    """Start a Celery worker that runs steps of jobs on SHORTVID_EXECUTOR=celery; extra args go to celery."""
    from shortvid_assets.orchestration import executors
    from shortvid_assets.runtime.instance import prepare_environment

    if broker:
        os.environ[executors.BROKER_ENV] = broker
    os.environ[executors.EXECUTOR_ENV] = "celery"
    check_settings(resources=True)  # every step this worker runs builds these resources
    prepare_environment()
    folder = Path(tempfile.mkdtemp(prefix="shortvid-celery-"))
    write_celery_config(
        folder, executors.celery_broker(), executors.celery_backend(), executors.celery_worker_settings()
    )
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH")) if p)
    celery = Path(sys.executable).with_name("celery")
    args = [
        str(celery),
        "-A",
        "dagster_celery.app",
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        str(concurrency),
        "--prefetch-multiplier",
        "1",
        "-Q",
        "dagster",
        "-n",
        name,
        *celery_args,
    ]
    click.echo(f"Celery worker on {executors.celery_broker()} (DAGSTER_HOME={settings.text('DAGSTER_HOME')})")
    os.execv(args[0], args)


if __name__ == "__main__":  # `python -m shortvid_assets.cli.ops worker ...`, as the tests start it
    click.Group(commands={"backfill": backfill, "worker": worker})()


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def daemon(dagster_args: tuple[str, ...]) -> None:
    """Run the Dagster daemon on shortvid's instance, backfills looked at every SHORTVID_BACKFILL_LOOP_S.

    Extra arguments go to `dagster-daemon run` (e.g. --log-level debug).
    """
    from shortvid_assets.runtime import daemon as daemon_runtime
    from shortvid_assets.runtime.instance import get_instance
    from shortvid_assets.runtime.run_launcher import run_launch

    loop_s = daemon_runtime.backfill_loop_s()
    launch = run_launch()  # read by the launcher at each run: refused here, not in every run
    check_settings(resources=True)  # the code location would refuse them too, in every run
    instance = get_instance()
    if launch == "fork" and hasattr(instance.run_launcher, "warm"):
        instance.run_launcher.warm(CODE_LOCATION_MODULE)  # the first run need not wait for its server
    click.echo(
        f"DAGSTER_HOME={settings.text('DAGSTER_HOME')}; backfills looked at every {loop_s:g} s; "
        f"runs started by {launch}"
    )
    daemon_runtime.run_daemon(settings.PROJECT_DIR / "workspace.yaml", loop_s, dagster_args)
