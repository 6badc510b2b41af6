"""Protects scale-out: with SHORTVID_EXECUTOR=celery the video job's steps run in a `shortvid worker`
process fed through the machine's Redis, not in the process that launched the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import psutil
import pytest

from shortvid_assets.definitions import build_definitions
from shortvid_assets.domain.probe import probe_media
from shortvid_assets.partitions import date_theme_key, date_theme_partitions
from shortvid_assets.runtime.runner import run_partition

from .conftest import make_site, stop_process_group, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
DAY, THEME = "2026-11-24", "minicup"
REDIS = ("127.0.0.1", 6379, 13)  # a database of its own on the machine's Redis
BROKER = f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS[2]}"


@pytest.fixture
def redis_db():
    redis = pytest.importorskip("redis", reason="dagster-celery (with redis) is not installed")
    client = redis.Redis(host=REDIS[0], port=REDIS[1], db=REDIS[2], socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(
            f"no Redis broker reachable at {REDIS[0]}:{REDIS[1]}: start one to test the Celery executor"
        )
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def test_video_job_steps_run_in_the_celery_worker(tmp_path, ops_server_url, redis_db):
    pytest.importorskip("dagster_celery", reason="dagster-celery is not installed")
    with make_site(tmp_path / "site", ops_server_url) as site:
        env = site.process_env(SHORTVID_EXECUTOR="celery", SHORTVID_CELERY_BROKER=BROKER)
        with site.instance() as instance:
            defs = build_definitions(site.resources())
            assert run_partition(instance, "daily_trends_job", DAY, defs=defs).success

        log = tmp_path / "worker.log"
        name = f"svtest-{uuid.uuid4().hex[:8]}@%h"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "shortvid_assets.cli", "worker", "--concurrency", "1", "-n", name],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_until(
                lambda: worker.poll() is not None or " ready." in log.read_text(errors="replace"),
                timeout_s=120,
                what=f"the Celery worker to be ready (log: {log})",
            )
            assert worker.poll() is None, log.read_text()[-3000:]
            worker_pids = {worker.pid} | {p.pid for p in psutil.Process(worker.pid).children(recursive=True)}

            partition = str(date_theme_key(DAY, THEME))
            tags = json.dumps(date_theme_partitions.get_tags_for_partition_key(partition))
            dagster = str(Path(sys.executable).with_name("dagster"))
            launched = subprocess.run(
                [
                    dagster,
                    "job",
                    "execute",
                    "-m",
                    "shortvid_assets.definitions",
                    "-j",
                    "daily_video_job",
                    *("--tags", tags),
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=420,
            )
            assert launched.returncode == 0, launched.stdout[-3000:] + launched.stderr[-3000:]
        finally:
            stop_process_group(worker)

        with site.instance() as instance:
            (run,) = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": partition}))
            assert run.status == dg.DagsterRunStatus.SUCCESS
            starts = [
                r.dagster_event
                for r in instance.all_logs(run.run_id)
                if r.dagster_event and r.dagster_event.event_type_value == "STEP_START"
            ]
            assert {e.step_key for e in starts} == {
                "video_script",
                "voiceover",
                "scene_clips",
                "composed_video",
                "review_status",
            }
            assert {e.pid for e in starts} <= worker_pids, "a step ran outside the Celery worker"
        assert "Task execute_plan" in log.read_text(errors="replace")
        info = probe_media(site.paths.artifacts.per_theme("composed_video", DAY, THEME, "mp4"))
        assert (info.width, info.height) == (216, 384)
