"""Protects the real daemon on a Postgres instance: backfills launched by `shortvid backfill` run through
the run queue within the render pool's limit, a missing-only backfill runs only what is missing, a
schedule tick makes its run, and the review sensor applies a decision written to Postgres.

One `dagster-daemon run` serves the module; every wait is bounded and the daemon is always killed.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import time
import warnings
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import psutil
import pytest
from click.testing import CliRunner

from shortvid_assets import settings
from shortvid_assets.cli.ops import backfill
from shortvid_assets.definitions import build_definitions
from shortvid_assets.orchestration.schedules import TRENDS_SCHEDULE, last_complete_day
from shortvid_assets.partitions import date_theme_key
from shortvid_assets.runtime import run_launcher
from shortvid_assets.runtime.runner import run_day
from shortvid_assets.storage import postgres, review_decisions

from .conftest import make_site, stop_process_group, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
D1, D2 = "2026-06-01", "2026-06-02"
DAEMONS = {"BACKFILL", "SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR"}
RENDER_STEPS = {"scene_clips", "composed_video"}


@pytest.fixture(scope="module")
def daemon_site(tmp_path_factory, ops_server_url):
    """A site with a running `shortvid daemon` (backfills looked at every 2 s); the trends schedule ticks every minute."""
    with make_site(tmp_path_factory.mktemp("daemon") / "site", ops_server_url) as site:
        log = site.root / "daemon.log"
        env = site.process_env(
            SHORTVID_SCHEDULES=TRENDS_SCHEDULE,
            SHORTVID_TRENDS_CRON="* * * * *",
            SHORTVID_EXECUTOR="in_process",  # steps in the run's process: pools still hold across runs
            SHORTVID_BACKFILL_LOOP_S="2",
        )
        started = time.time()
        with log.open("wb") as out:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "shortvid_assets.cli", "daemon"],
                cwd=settings.PROJECT_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            with site.instance() as instance:
                wait_until(
                    lambda: (
                        daemon.poll() is not None
                        or all(
                            (beat := instance.get_daemon_heartbeats().get(name)) and beat.timestamp > started
                            for name in DAEMONS
                        )
                    ),
                    timeout_s=180,
                    what=f"the daemon's heartbeats (log: {log})",
                )
            assert daemon.poll() is None, log.read_text()[-3000:]
            assert "backfills looked at every 2 s" in log.read_text()
            yield site
        finally:
            descendants = _descendants(daemon.pid)
            stop_process_group(daemon)
            for process in descendants:  # run workers the launcher may have started in their own session
                if process.is_running():
                    process.kill()
            print(log.read_text()[-4000:])


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def run_backfill(*args: str) -> tuple[str, str]:
    result = CliRunner().invoke(backfill, [*args, "--wait", "420"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return re.search(r"^backfill (\S+):", result.output, re.M).group(1), result.output


def backfill_runs(instance: dg.DagsterInstance, backfill_id: str) -> list[dg.DagsterRun]:
    return list(instance.get_runs(filters=dg.RunsFilter.for_backfill(backfill_id)))


def step_windows(
    instance: dg.DagsterInstance, run_id: str, steps: set[str]
) -> list[tuple[float, float, str]]:
    """(start, end, step) of each attempt of each step in `steps` from the run's event log (a retried
    step gives its pool slot back between attempts)."""
    starts, windows = {}, []
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if not event or event.step_key not in steps:
            continue
        if event.event_type_value in {"STEP_START", "STEP_RESTARTED"}:
            starts[event.step_key] = record.timestamp
        elif event.event_type_value in {"STEP_SUCCESS", "STEP_FAILURE", "STEP_UP_FOR_RETRY"}:
            windows.append((starts.pop(event.step_key), record.timestamp, f"{run_id[:8]}:{event.step_key}"))
    return windows


def materialization_count(instance, asset: str, partition: str) -> int:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=10
    ).records
    return len(records)


def ensure_video(site, day: str, theme: str) -> None:
    """The day's trends and the theme's video, made in this process unless already materialized."""
    with site.instance() as instance:
        runs = run_day(instance, day, [theme], defs=build_definitions(site.resources()))
    assert all(r.success for r in runs)


def test_backfill_runs_through_the_queue_and_never_exceeds_the_render_pool(daemon_site):
    backfill_id, output = run_backfill("--from", D1, "--to", D1)

    assert "composed_video   2 partitions" in output
    with daemon_site.instance() as instance:
        runs = backfill_runs(instance, backfill_id)
        assert sorted(r.tags["dagster/partition"] for r in runs) == [D1, f"{D1}|minicup", f"{D1}|tinytea"]
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        video_runs = [r for r in runs if "|" in r.tags["dagster/partition"]]
        records = [instance.get_run_record_by_id(r.run_id) for r in video_runs]
        if max(r.start_time for r in records) >= min(r.end_time for r in records):
            # On an idle machine one tiny run can finish before the daemon launches the other; the
            # render steps below are then trivially apart, so say so instead of failing the run.
            warnings.warn(
                "the two video runs did not overlap: the render pool was not contended", stacklevel=1
            )
        windows = sorted(w for r in video_runs for w in step_windows(instance, r.run_id, RENDER_STEPS))
        assert len(windows) >= 4
        for (_, end, first), (start, _, second) in itertools.pairwise(windows):
            assert start >= end, f"render pool limit 1 exceeded: {first} and {second} overlapped"
        assert instance.event_log_storage.get_concurrency_info("render").slot_count == 1


def test_missing_only_backfill_runs_only_the_missing_partitions(daemon_site):
    ensure_video(daemon_site, D1, "minicup")  # already there when the test above ran
    with daemon_site.instance() as instance:
        before = {
            a: materialization_count(instance, a, f"{D1}|minicup") for a in ("video_script", "composed_video")
        }

    backfill_id, output = run_backfill("--from", D1, "--to", D2, "--theme", "minicup", "--missing")

    assert "trend_report     1 partitions" in output and "composed_video   1 partitions" in output
    with daemon_site.instance() as instance:
        runs = backfill_runs(instance, backfill_id)
        assert sorted(r.tags["dagster/partition"] for r in runs) == [D2, f"{D2}|minicup"]
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        for asset, count in before.items():
            assert materialization_count(instance, asset, f"{D1}|minicup") == count, asset
        assert materialization_count(instance, "trend_report", D1) == 1
        assert materialization_count(instance, "composed_video", f"{D2}|minicup") == 1
        assert materialization_count(instance, "composed_video", f"{D2}|tinytea") == 0


def test_schedule_tick_runs_and_review_sensor_applies_a_decision(daemon_site):
    ensure_video(daemon_site, D1, "tinytea")
    conn = postgres.connect(daemon_site.review_url)
    try:
        review_decisions.ensure_schema(conn)
        decision = review_decisions.record_decision(
            conn,
            partition_date=date.fromisoformat(D1),
            theme="tinytea",
            decision="approved",
            reviewer="ops-test",
            note="daemon smoke test",
            video_path=str(daemon_site.paths.artifacts.review_file("review", D1, "tinytea", "mp4")),
        )
    finally:
        conn.close()

    with daemon_site.instance() as instance:

        def finished(tags: dict[str, str]) -> list[dg.DagsterRun]:
            runs = instance.get_runs(filters=dg.RunsFilter(tags=tags))
            return [r for r in runs if r.is_finished]

        scheduled = wait_until(
            lambda: finished({"dagster/schedule_name": TRENDS_SCHEDULE}), 240, "a run of the trends schedule"
        )
        assert scheduled[0].status == dg.DagsterRunStatus.SUCCESS
        created = instance.get_run_record_by_id(scheduled[0].run_id).create_timestamp
        ticks = {last_complete_day(created), last_complete_day(created - timedelta(minutes=2))}
        assert scheduled[0].tags["dagster/partition"] in ticks

        reviewed = wait_until(
            lambda: finished({"shortvid/decision_id": str(decision.id)}), 180, "the review sensor's run"
        )
        assert reviewed[0].status == dg.DagsterRunStatus.SUCCESS
        assert reviewed[0].tags["dagster/partition"] == str(date_theme_key(D1, "tinytea"))
        event = instance.get_latest_materialization_event(dg.AssetKey("review_status"))
        assert event.asset_materialization.metadata["status"].value == "approved"
    assert daemon_site.paths.artifacts.review_file("approved", D1, "tinytea", "mp4").exists()
    assert not daemon_site.paths.artifacts.review_file("review", D1, "tinytea", "mp4").exists()


def test_a_forked_run_is_terminated_from_another_process(daemon_site):
    """Runs fork from the daemon's preloaded server, and the UI's Terminate (here: this process, not the
    daemon) interrupts one waiting for the render slot: the run ends canceled and makes no video."""
    day, theme = "2026-06-03", "minicup"
    with daemon_site.instance() as instance:
        storage = instance.event_log_storage
        try:
            result = CliRunner().invoke(
                backfill, ["--from", day, "--to", day, "--theme", theme], catch_exceptions=False
            )
            assert result.exit_code == 0, result.output
            backfill_id = re.search(r"^backfill (\S+):", result.output, re.M).group(1)
            # The video's render now waits for a slot that does not come (set after `shortvid backfill`,
            # which restores the default limits; the video's run starts only after the day's trends).
            storage.set_concurrency_slots("render", 0)

            def waiting_for_the_render():
                for run in backfill_runs(instance, backfill_id):
                    if (
                        run.tags["dagster/partition"] != f"{day}|{theme}"
                        or run.status != dg.DagsterRunStatus.STARTED
                    ):
                        continue
                    succeeded = {
                        r.dagster_event.step_key
                        for r in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
                    }
                    if "voiceover" in succeeded:
                        return run
                return None

            run = wait_until(waiting_for_the_render, 300, "the video run to wait for the render slot")
            pid = int(run.tags[run_launcher.PID_TAG])
            started = [
                r.message
                for r in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
                if (r.message or "").startswith("Started process for run")
            ]
            assert started == [f"Started process for run (pid: {pid})."]
            server = psutil.Process(pid).parent()
            assert "multiprocessing.forkserver" in " ".join(server.cmdline())
            assert server.parent().cmdline()[-2:] == ["shortvid_assets.cli", "daemon"]  # the daemon's server
            # the server imported what every run needs once: the storage, the code location, pandas
            libraries = {m.path for m in server.memory_maps()}
            assert any("/pandas/" in path for path in libraries), "pandas was not preloaded"

            assert instance.run_launcher.terminate(run.run_id)
            # Dagster acts on the interrupt when the step starts (as for a code server's run): free the
            # slot, and the render that would now start is cancelled instead.
            storage.set_concurrency_slots("render", 1)

            ended = wait_until(
                lambda: (r := instance.get_run_by_id(run.run_id)).is_finished and r, 120, "the run to end"
            )
            assert ended.status == dg.DagsterRunStatus.CANCELED
            wait_until(
                lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie",
                60,
                "the run's process to exit",
            )
            assert materialization_count(instance, "composed_video", f"{day}|{theme}") == 0
            videos = [
                path
                for folder in (daemon_site.paths.data_dir, daemon_site.paths.output_dir)
                for path in Path(folder).rglob("*.mp4")
                if day in str(path) and theme in str(path)
            ]
            assert not videos, f"a canceled run left videos: {videos}"
        finally:
            storage.set_concurrency_slots("render", 1)
