"""Protects scale-out with two Celery workers behind the real daemon and run queue: a backfill's steps run
in both workers, and when one worker is killed (`kill -9` of its whole process group, as a lost machine)
mid-render the backfill still completes, every partition materialized exactly once, no partial file at a
final path and the render pool's limit held.

One `dagster-daemon run` and two `shortvid worker --concurrency 1` serve the module, on a Redis database
of their own; every wait is bounded and every process this module starts is killed at the end.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import psutil
import pytest

from shortvid_assets import settings
from shortvid_assets.domain.probe import probe_media
from shortvid_assets.partitions import date_theme_key
from shortvid_assets.runtime.instance import apply_pool_limits
from shortvid_assets.runtime.runner import launch_backfill, plan_backfill

from .conftest import THEMES, THEMES_YAML, make_site, stop_process_group, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
D1, D2 = "2026-07-01", "2026-07-02"
REDIS = ("127.0.0.1", 6379, 12)  # a database of its own on the machine's Redis
BROKER = f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS[2]}"
# A dead worker's step goes to the other worker after this; far longer than any step of these tiny videos.
VISIBILITY_TIMEOUT_S = 45
RENDER_STEPS = {"scene_clips", "composed_video"}
VIDEO_ASSETS = ("video_script", "voiceover", "scene_clips", "composed_video")
# One longer video, so that its render is still going when the watcher polls.
WORKER_THEMES_YAML = THEMES_YAML.replace("target_duration_s: 6", "target_duration_s: 15", 1)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, ops_server_url):
    """A site, its daemon and two Celery workers on SHORTVID_EXECUTOR=celery."""
    redis = pytest.importorskip("redis", reason="dagster-celery (with redis) is not installed")
    pytest.importorskip("dagster_celery", reason="dagster-celery is not installed")
    client = redis.Redis(host=REDIS[0], port=REDIS[1], db=REDIS[2], socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis broker reachable at {REDIS[0]}:{REDIS[1]}: start one to test Celery workers")
    client.flushdb()
    root = tmp_path_factory.mktemp("workers")
    with make_site(root / "site", ops_server_url, WORKER_THEMES_YAML) as site:
        env = site.process_env(
            SHORTVID_EXECUTOR="celery",
            SHORTVID_CELERY_BROKER=BROKER,
            SHORTVID_CELERY_VISIBILITY_TIMEOUT_S=str(VISIBILITY_TIMEOUT_S),
            SHORTVID_BACKFILL_LOOP_S="2",
        )
        processes: dict[str, subprocess.Popen] = {}
        try:
            for n in range(2):
                name = f"w{n}-{uuid.uuid4().hex[:6]}"
                processes[name] = _start(
                    [
                        sys.executable,
                        "-m",
                        "shortvid_assets.cli.ops",
                        "worker",
                        "-c",
                        "1",
                        "-n",
                        f"{name}@%h",
                    ],
                    env,
                    root / f"{name}.log",
                )
            for name, worker in processes.items():
                log = root / f"{name}.log"
                wait_until(
                    lambda w=worker, log=log: (
                        w.poll() is not None or " ready." in log.read_text(errors="replace")
                    ),
                    timeout_s=180,
                    what=f"Celery worker {name} to be ready (log: {log})",
                )
                assert worker.poll() is None, log.read_text()[-3000:]
            started = time.time()
            daemon = _start(
                [sys.executable, "-m", "shortvid_assets.cli", "daemon"],
                env,
                root / "daemon.log",
            )
            processes["daemon"] = daemon
            with site.instance() as instance:
                apply_pool_limits(instance, {})
                wait_until(
                    lambda: (
                        daemon.poll() is not None
                        or all(
                            (beat := instance.get_daemon_heartbeats().get(name)) and beat.timestamp > started
                            for name in ("BACKFILL", "QUEUED_RUN_COORDINATOR")
                        )
                    ),
                    timeout_s=180,
                    what=f"the daemon's heartbeats (log: {root / 'daemon.log'})",
                )
            assert daemon.poll() is None, (root / "daemon.log").read_text()[-3000:]
            yield site, {n: p for n, p in processes.items() if n != "daemon"}
        finally:
            for name, process in processes.items():
                descendants = _descendants(process.pid)
                stop_process_group(process)
                for child in descendants:  # run workers the code server started in a session of their own
                    with contextlib.suppress(psutil.NoSuchProcess):
                        child.kill()
                log = root / f"{name}.log"
                print(f"--- {name}\n" + log.read_text(errors="replace")[-3000:])
            client.flushdb()
            client.close()


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=settings.PROJECT_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def submit(site, day: str) -> str:
    """A backfill of `day`'s trends and both themes' videos, as `shortvid backfill` submits it."""
    with site.instance() as instance:
        plan = plan_backfill(instance, [day], list(THEMES))
        return launch_backfill(instance, plan, title=f"workers test {day}")


def wait_for_backfill(site, backfill_id: str, timeout_s: float) -> str:
    with site.instance() as instance:

        def ended() -> str | None:
            status = instance.get_backfill(backfill_id).status.value
            return (
                status if status in {"COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"} else None
            )

        return wait_until(ended, timeout_s, f"backfill {backfill_id} to end", poll_s=2.0)


def backfill_runs(instance: dg.DagsterInstance, backfill_id: str) -> list[dg.DagsterRun]:
    return list(instance.get_runs(filters=dg.RunsFilter.for_backfill(backfill_id)))


def workers_that_ran_steps(instance: dg.DagsterInstance, runs: list[dg.DagsterRun]) -> set[str]:
    """Hostnames (`name@host`) of the Celery workers that reported executing a step of these runs."""
    names = set()
    for run in runs:
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if (
                event
                and event.event_type_value == "ENGINE_EVENT"
                and "in celery worker" in (event.message or "")
            ):
                names.add(event.engine_event_data.metadata["Celery worker"].value)
    return names


def render_windows(
    instance: dg.DagsterInstance, runs: list[dg.DagsterRun], killed_at: float | None = None
) -> list[tuple[float, float, str]]:
    """(start, end, step) of every attempt of a render-pool step; an attempt that never ended ends at `killed_at`."""
    windows = []
    for run in runs:
        started: dict[str, float] = {}
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if not event or event.step_key not in RENDER_STEPS:
                continue
            if event.event_type_value in {"STEP_START", "STEP_RESTARTED"}:
                if event.step_key in started:  # an attempt whose worker died: it ran until the kill
                    windows.append((started[event.step_key], killed_at, f"{run.run_id[:8]}:{event.step_key}"))
                started[event.step_key] = record.timestamp
            elif event.event_type_value in {"STEP_SUCCESS", "STEP_FAILURE", "STEP_UP_FOR_RETRY"}:
                windows.append(
                    (started.pop(event.step_key), record.timestamp, f"{run.run_id[:8]}:{event.step_key}")
                )
    return sorted(windows)


def assert_one_render_at_a_time(windows: list[tuple[float, float, str]]) -> None:
    for (_, end, first), (start, _, second) in itertools.pairwise(windows):
        assert start >= end, f"render pool limit 1 exceeded: {first} and {second} ran at once"


def materializations(instance: dg.DagsterInstance, asset: str, partition: str) -> int:
    return len(
        instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=10
        ).records
    )


def assert_videos_complete(site, day: str) -> None:
    """Each theme's video at its final path is whole (it probes as a full H.264/AAC file), once in review."""
    for theme in THEMES:
        final = site.paths.artifacts.composed(day, theme, "mp4")
        info = probe_media(final)
        assert (info.width, info.height, info.video_codec, info.audio_codec) == (216, 384, "h264", "aac")
        assert info.duration_s > 4
        assert (
            site.paths.artifacts.review_file("review", day, theme, "mp4").read_bytes() == final.read_bytes()
        )


def test_a_backfill_runs_its_steps_in_both_workers(cluster):
    site, _ = cluster
    backfill_id = submit(site, D1)

    assert wait_for_backfill(site, backfill_id, 480) == "COMPLETED_SUCCESS"
    with site.instance() as instance:
        runs = backfill_runs(instance, backfill_id)
        assert sorted(r.tags["dagster/partition"] for r in runs) == [D1, *(f"{D1}|{t}" for t in THEMES)]
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        # The trends run hands its two collections to the broker at once; each worker takes one task at a
        # time, so both workers run steps.
        assert len(workers_that_ran_steps(instance, runs)) == 2
        assert_one_render_at_a_time(render_windows(instance, runs))
    assert_videos_complete(site, D1)


def test_a_worker_killed_mid_render_loses_nothing(cluster):
    site, workers = cluster
    live = {name: w for name, w in workers.items() if w.poll() is None}
    assert len(live) == 2, "both workers must be up for this test"
    backfill_id = submit(site, D2)
    folder = site.paths.artifacts.composed(D2, THEMES[0]).parent

    def rendering_worker() -> tuple[str, subprocess.Popen] | None:
        """The worker whose ffmpeg is writing a composed video under its temporary name, once it has bytes."""
        if not folder.exists() or not any(p.stat().st_size > 0 for p in folder.glob(".*.part.mp4")):
            return None
        for name, worker in live.items():
            for child in _descendants(worker.pid):
                with contextlib.suppress(psutil.NoSuchProcess):
                    if any(str(folder) in arg and arg.endswith(".part.mp4") for arg in child.cmdline()):
                        return name, worker
        return None

    name, victim = wait_until(rendering_worker, 420, "a worker to be rendering a composed video", poll_s=0.05)
    os.killpg(victim.pid, signal.SIGKILL)  # the worker, its pool process and its ffmpeg: a lost machine
    killed_at = time.time()
    victim.wait(10)

    assert wait_for_backfill(site, backfill_id, 600) == "COMPLETED_SUCCESS"
    with site.instance() as instance:
        runs = backfill_runs(instance, backfill_id)
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        for theme in THEMES:
            partition = str(date_theme_key(D2, theme))
            for asset in VIDEO_ASSETS:
                assert materializations(instance, asset, partition) == 1, (asset, partition)
        windows = render_windows(instance, runs, killed_at)
        assert_one_render_at_a_time(windows)
        assert len(windows) == 2 * len(THEMES) + 1  # every render step once, plus the killed attempt
        assert instance.event_log_storage.get_concurrency_info("render").claimed_slots == []
    assert_videos_complete(site, D2)
    survivors = {n: w for n, w in live.items() if n != name}
    assert all(w.poll() is None for w in survivors.values())
