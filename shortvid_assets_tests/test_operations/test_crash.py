"""Protects recovery from a crash (ORCH-2): kill -9 of the run process mid-render leaves no file at the
final path, and re-execution from failure renders a valid video there, redoing only what was lost.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from shortvid_assets.domain.models import VideoPlan
from shortvid_assets.domain.probe import probe_media
from shortvid_assets.orchestration.jobs import TRENDS_JOB, VIDEO_JOB
from shortvid_assets.partitions import date_theme_key, date_theme_partitions

from .broken_stages import reconstructable
from .conftest import THEMES_YAML, make_site, stop_process_group, wait_until
from .run_job import IN_PROCESS

DAY = "2026-11-24"
THEME = "minicup"
# A longer video than the other tests' so the render is still going when the watcher polls.
LONG_THEMES_YAML = THEMES_YAML.replace("target_duration_s: 6", "target_duration_s: 15", 1)


def partial_renders(folder: Path) -> list[Path]:
    return [p for p in folder.glob(f".{THEME}.*.part.mp4") if p.stat().st_size > 0]


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_kill_9_mid_render_then_reexecution_gives_a_valid_video(tmp_path, ops_server_url):
    with make_site(tmp_path / "site", ops_server_url, LONG_THEMES_YAML) as site:
        partition = str(date_theme_key(DAY, THEME))
        args = [site.paths.data_dir, site.paths.output_dir, site.paths.themes_file, site.review_url]
        command = [sys.executable, "-m", "shortvid_assets_tests.test_operations.run_job"]
        with site.instance() as instance:
            trends = subprocess.run([*command, TRENDS_JOB, DAY, *args], env=site.process_env(), timeout=300)
            assert trends.returncode == 0

        final = site.paths.artifacts.per_theme("composed_video", DAY, THEME, "mp4")
        process = subprocess.Popen(
            [*command, VIDEO_JOB, partition, *args], env=site.process_env(), start_new_session=True
        )
        try:
            partials = wait_until(
                lambda: process.poll() is None and final.parent.exists() and partial_renders(final.parent),
                timeout_s=240,
                what="ffmpeg to start writing the composed video",
                poll_s=0.02,
            )
            os.killpg(process.pid, signal.SIGKILL)  # the run process and its ffmpeg, like a lost machine
            process.wait(10)
        finally:
            stop_process_group(process, grace_s=0)

        assert process.returncode == -signal.SIGKILL
        assert not final.exists(), "a killed render left a file at the final path"
        assert not site.paths.artifacts.review_file("review", DAY, THEME, "mp4").exists()
        assert partials[0].exists()  # what the killed ffmpeg had written stays under its temporary name

        with site.instance() as instance:
            killed = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": partition}))[0]
            assert killed.status == dg.DagsterRunStatus.STARTED  # nobody was left to record the end
            render = instance.event_log_storage.get_concurrency_info("render")
            assert [slot.run_id for slot in render.claimed_slots] == [killed.run_id]  # held by the dead
            # What the daemon does for a run whose process is gone: run monitoring (or "Terminate" in the
            # UI) fails it, then it frees the slots the run still holds (free_slots_after_run_end_seconds).
            instance.report_run_failed(killed, "the run process was killed")
            instance.event_log_storage.free_concurrency_slots_for_run(killed.run_id)
            assert instance.event_log_storage.get_concurrency_info("render").claimed_slots == []

            resumed = dg.execute_job(
                reconstructable(VIDEO_JOB, "", site.paths, site.review_url),
                instance,
                run_config=IN_PROCESS,
                tags=date_theme_partitions.get_tags_for_partition_key(partition),
                reexecution_options=dg.ReexecutionOptions.from_failure(killed.run_id, instance),
            )

            assert resumed.success
            started = {e.step_key for e in resumed.all_events if e.event_type_value == "STEP_START"}
            assert started == {"composed_video", "review_status"}
            for asset in ("video_script", "voiceover", "scene_clips", "composed_video"):
                assert len(instance.fetch_materializations(dg.AssetKey(asset), limit=10).records) == 1

        info = probe_media(final)
        assert (info.width, info.height, info.video_codec, info.audio_codec) == (216, 384, "h264", "aac")
        plan = VideoPlan.model_validate_json(
            site.paths.artifacts.per_theme("video_script", DAY, THEME, "json").read_text()
        )
        assert abs(info.duration_s - plan.duration_s) <= 1.0
        assert site.paths.artifacts.review_file("review", DAY, THEME, "mp4").read_bytes() == final.read_bytes()
