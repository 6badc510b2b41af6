"""Protects the executor choice: a run's steps run in the run's process (a video partition's chain, and
the day's trends, whose two collections may overlap but wait on HTTP), steps that may overlap get a
process each only where one of them renders, each SHORTVID_EXECUTOR value picks its executor, and Celery
workers acknowledge a step only once it has ended.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.api import create_execution_plan

from shortvid_assets import settings
from shortvid_assets.cli.ops import write_celery_config
from shortvid_assets.definitions import build_definitions
from shortvid_assets.orchestration import executors
from shortvid_assets.orchestration.jobs import TRENDS_JOB, VIDEO_JOB
from shortvid_assets.partitions import daily_partitions, date_theme_key, date_theme_partitions

from .conftest import make_site

DAY = "2026-11-24"


def plan(job_name: str, selection: list[str] | None = None):
    job = build_definitions().resolve_job_def(job_name)
    if selection:
        job = job.get_subset(asset_selection={dg.AssetKey(a) for a in selection})
    return create_execution_plan(job)


@pytest.mark.parametrize(
    ("job_name", "selection", "sequential"),
    [
        (
            VIDEO_JOB,
            None,
            True,
        ),  # video_script -> voiceover -> scene_clips -> composed_video -> review_status
        (VIDEO_JOB, ["composed_video", "review_status"], True),  # re-execution from the render
        (TRENDS_JOB, None, False),  # youtube_trends and tiktok_trends may run at once
        (TRENDS_JOB, ["trends", "trend_report"], True),
        (TRENDS_JOB, ["youtube_trends", "tiktok_trends"], False),
    ],
)
def test_steps_always_sequential(job_name, selection, sequential):
    assert executors.steps_always_sequential(plan(job_name, selection)) is sequential


@pytest.mark.parametrize(("job_name", "selection"), [(VIDEO_JOB, None), (TRENDS_JOB, None)])
def test_no_shortvid_run_needs_a_process_per_step(job_name, selection):
    assert executors.steps_need_processes(plan(job_name, selection)) is False


class _Step:
    def __init__(self, key: str, pool: str | None, after: tuple[str, ...] = ()) -> None:
        self.key, self.pool, self._after = key, pool, after

    def get_execution_dependency_keys(self) -> set[str]:
        return set(self._after)


class _Plan:
    def __init__(self, *steps: _Step) -> None:
        self._steps = steps

    def get_steps_to_execute_in_topo_order(self) -> list[_Step]:
        return list(self._steps)


@pytest.mark.parametrize(
    ("steps", "needed"),
    [
        ((_Step("a", "render"), _Step("b", "render")), True),  # two renders at once
        ((_Step("a", "render"), _Step("b", "youtube_api")), True),  # a render beside a collection
        ((_Step("a", "youtube_api"), _Step("b", "apify")), False),  # two collections
        ((_Step("a", "render"), _Step("b", "render", after=("a",))), False),  # one after the other
        ((_Step("a", None), _Step("b", None), _Step("c", "render", after=("a", "b"))), False),
    ],
)
def test_overlapping_renders_need_a_process_each(steps, needed):
    assert executors.steps_need_processes(_Plan(*steps)) is needed


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "auto"),
        ("auto", "auto"),
        ("multiprocess", "multiprocess"),
        ("in_process", "in_process"),
        ("celery", "celery"),
    ],
)
def test_each_executor_value_picks_its_executor(monkeypatch, value, name):
    if value == "celery" and importlib.util.find_spec("dagster_celery") is None:
        pytest.skip("dagster-celery is not installed")
    if value is None:
        monkeypatch.delenv(executors.EXECUTOR_ENV, raising=False)
    else:
        monkeypatch.setenv(executors.EXECUTOR_ENV, value)
    assert executors.job_executor().name == name


def test_spawn_keeps_dagsters_stock_executor(monkeypatch):
    monkeypatch.setenv(executors.EXECUTOR_ENV, "spawn")
    assert executors.job_executor() is None


def test_unknown_executor_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv(executors.EXECUTOR_ENV, "threads")
    with pytest.raises(
        settings.SettingError, match="SHORTVID_EXECUTOR='threads' is not one of auto, multiprocess"
    ):
        executors.job_executor()


def test_celery_workers_acknowledge_a_step_after_it_ends(tmp_path, monkeypatch):
    monkeypatch.setenv(executors.VISIBILITY_ENV, "60")
    path = write_celery_config(
        tmp_path, "redis://broker:6379/0", "redis://broker:6379/1", executors.celery_worker_settings()
    )

    spec = importlib.util.spec_from_file_location("dagster_celery_config", path)
    config = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(config)
    assert config.broker_url == "redis://broker:6379/0"
    assert config.result_backend == "redis://broker:6379/1"
    assert config.task_acks_late is True and config.task_reject_on_worker_lost is True
    assert config.worker_prefetch_multiplier == 1
    assert config.broker_transport_options["visibility_timeout"] == 60
    assert config.broker_transport_options["unacked_restore_interval"] == 10


def test_visibility_timeout_must_be_a_number_of_seconds(monkeypatch):
    monkeypatch.setenv(executors.VISIBILITY_ENV, "soon")
    with pytest.raises(settings.SettingError, match=executors.VISIBILITY_ENV):
        executors.celery_worker_settings()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_auto_runs_the_video_chain_and_the_trends_steps_in_their_run_process(tmp_path, ops_server_url):
    """`dagster job execute` loads the code location with the site's settings, as a launched run does."""
    with make_site(tmp_path / "site", ops_server_url) as site:
        env = site.process_env()
        env.pop(executors.EXECUTOR_ENV, None)
        dagster = str(Path(sys.executable).with_name("dagster"))
        for job, partitions, key, executor in (
            (TRENDS_JOB, daily_partitions, DAY, "auto"),
            (VIDEO_JOB, date_theme_partitions, str(date_theme_key(DAY, "minicup")), "auto"),
            # the same day's trends again, one process per step forked from the preloaded server
            (TRENDS_JOB, daily_partitions, DAY, "multiprocess"),
        ):
            tags = json.dumps({**partitions.get_tags_for_partition_key(key), "test/executor": executor})
            launched = subprocess.run(
                [dagster, "job", "execute", "-m", "shortvid_assets.definitions", "-j", job, "--tags", tags],
                env={**env, executors.EXECUTOR_ENV: executor},
                capture_output=True,
                text=True,
                timeout=420,
            )
            assert launched.returncode == 0, launched.stdout[-3000:] + launched.stderr[-3000:]

        with site.instance() as instance:
            pids = {}
            for run in instance.get_runs():
                starts = [
                    r.dagster_event
                    for r in instance.all_logs(run.run_id)
                    if r.dagster_event and r.dagster_event.event_type_value == "STEP_START"
                ]
                pids[run.job_name, run.tags["test/executor"]] = {e.step_key: e.pid for e in starts}
                assert run.status == dg.DagsterRunStatus.SUCCESS
        video = pids[VIDEO_JOB, "auto"]
        assert set(video) == {"video_script", "voiceover", "scene_clips", "composed_video", "review_status"}
        assert len(set(video.values())) == 1, f"the video chain ran in several processes: {video}"
        trends = pids[TRENDS_JOB, "auto"]
        assert len(trends) == 4 and len(set(trends.values())) == 1, (
            f"trends steps in several processes: {trends}"
        )
        forked = pids[TRENDS_JOB, "multiprocess"]
        assert len(set(forked.values())) == len(forked) == 4, f"trends steps shared a process: {forked}"
