"""Protects the whole graph on the offline defaults: files, metadata, checkpoints and resume."""

import json
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from shortvid_assets.definitions import build_definitions, reconstructable_job
from shortvid_assets.domain.models import VideoPlan
from shortvid_assets.domain.probe import audio_mean_volume_db, probe_media
from shortvid_assets.orchestration.jobs import TRENDS_JOB, VIDEO_JOB
from shortvid_assets.partitions import daily_partitions, date_theme_key, date_theme_partitions
from shortvid_assets.resources.video_format import VideoFormat
from shortvid_assets.runtime.runner import run_day
from shortvid_assets.storage import generation_log, postgres

from .conftest import DAY, SMALL, THEME

PARTITION = str(date_theme_key(DAY, THEME))
STAGES = [
    "youtube_trends",
    "tiktok_trends",
    "trends",
    "trend_report",
    "video_script",
    "voiceover",
    "scene_clips",
    "composed_video",
    "review_status",
]


def materializations(instance: dg.DagsterInstance, asset: str) -> list[dg.EventLogRecord]:
    return list(instance.fetch_materializations(dg.AssetKey(asset), limit=100).records)


def latest_metadata(instance: dg.DagsterInstance, asset: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(asset))
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def test_whole_graph_makes_a_video_awaiting_review(instance, graph_resources, workspace):
    runs = run_day(instance, DAY, [THEME], defs=build_definitions(graph_resources))

    assert [r.success for r in runs] == [True, True]
    for stage in STAGES:
        assert len(materializations(instance, stage)) == 1, stage
    trends = pd.read_parquet(workspace.artifacts.daily("trends", DAY, "parquet"))
    assert len(trends) == 100 and not trends.duplicated(["platform", "external_id"]).any()
    assert latest_metadata(instance, "trends")["duplicates_removed"] == 6

    plan = VideoPlan.model_validate_json(workspace.artifacts.per_theme("video_script", DAY, THEME, "json").read_text())
    video = workspace.artifacts.per_theme("composed_video", DAY, THEME, "mp4")
    info = probe_media(video)
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (216, 384, "h264", "aac")
    assert info.pix_fmt == "yuv420p"
    assert abs(info.duration_s - plan.duration_s) <= 1.0
    assert audio_mean_volume_db(video) > -35  # speech, not silence
    assert len(list(workspace.artifacts.scene_dir(DAY, THEME).glob("scene-*.mp4"))) == len(plan.scenes)
    words = json.loads(workspace.artifacts.per_theme("voiceover", DAY, THEME, "words.json").read_text())
    assert len(words) == len(plan.voiceover_script.split())

    review_copy = workspace.artifacts.review_file("review", DAY, THEME, "mp4")
    assert review_copy.read_bytes() == video.read_bytes()
    assert workspace.artifacts.review_file("review", DAY, THEME, "jpg").stat().st_size > 1000
    status = latest_metadata(instance, "review_status")
    assert status["status"] == "pending"
    composed = latest_metadata(instance, "composed_video")
    assert composed["resolution"] == "216x384" and composed["codecs"] == "h264/aac"


def test_second_run_reuses_every_checkpoint(instance, graph_resources):
    run_day(instance, DAY, [THEME], defs=build_definitions(graph_resources))
    again = run_day(instance, DAY, [THEME], defs=build_definitions(graph_resources))

    assert again[0].ran == [] and again[0].success
    assert again[1].ran == ["review_status"]  # cheap, and reflects the latest decision
    assert len(materializations(instance, "composed_video")) == 1


def test_failed_composition_resumes_without_redoing_earlier_stages(instance, graph_resources, workspace):
    broken = {**graph_resources, "video_format": VideoFormat(**SMALL, font_path="/nonexistent/Font.ttf")}
    first = run_day(instance, DAY, [THEME], defs=build_definitions(broken))

    assert first[0].success and not first[1].success
    assert not workspace.artifacts.per_theme("composed_video", DAY, THEME, "mp4").exists()
    assert not workspace.artifacts.review_file("review", DAY, THEME, "mp4").exists()
    failure = next(
        e for e in instance.all_logs(first[1].run_id) if e.dagster_event and e.dagster_event.is_step_failure
    )
    assert "Font.ttf does not exist" in failure.dagster_event.step_failure_data.error.to_string()

    resumed = run_day(instance, DAY, [THEME], defs=build_definitions(graph_resources))

    assert resumed[0].ran == []
    assert resumed[1].ran == ["composed_video", "review_status"]
    assert resumed[1].success
    for stage in ("trends", "trend_report", "video_script", "voiceover", "scene_clips", "composed_video"):
        assert len(materializations(instance, stage)) == 1, stage
    assert workspace.artifacts.review_file("review", DAY, THEME, "mp4").exists()


@pytest.mark.slow
def test_dagster_reexecution_from_failure_reruns_only_the_failed_stage(
    tmp_path, workspace, review_db_url, monkeypatch
):
    """The UI's "Re-execute from failure", through Dagster's own API, on the multiprocess executor."""
    env = {
        "SHORTVID_DATA_DIR": workspace.data_dir,
        "SHORTVID_OUTPUT_DIR": workspace.output_dir,
        "SHORTVID_THEMES_FILE": workspace.themes_file,
        "SHORTVID_DATABASE_URL": review_db_url,
        "SHORTVID_VIDEO_WIDTH": "216",
        "SHORTVID_VIDEO_HEIGHT": "384",
        "SHORTVID_VIDEO_PRESET": "ultrafast",
        "SHORTVID_FONT": str(tmp_path / "missing.ttf"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("theme", [THEME])
        trends_run = dg.execute_job(
            reconstructable_job(TRENDS_JOB), instance, tags=daily_partitions.get_tags_for_partition_key(DAY)
        )
        assert trends_run.success
        video_tags = date_theme_partitions.get_tags_for_partition_key(PARTITION)
        failed = dg.execute_job(reconstructable_job(VIDEO_JOB), instance, tags=video_tags)
        assert not failed.success

        monkeypatch.delenv("SHORTVID_FONT")  # the fix: back to the bundled font
        resumed = dg.execute_job(
            reconstructable_job(VIDEO_JOB),
            instance,
            tags=video_tags,  # the Python API, unlike the UI, does not copy the parent's partition tags
            reexecution_options=dg.ReexecutionOptions.from_failure(failed.run_id, instance),
        )

        assert resumed.success
        executed = {e.step_key for e in resumed.all_events if e.event_type_value == "STEP_START"}
        assert executed == {"composed_video", "review_status"}
        for stage in ("trends", "trend_report", "video_script", "voiceover", "scene_clips", "composed_video"):
            assert len(materializations(instance, stage)) == 1, stage
        assert Path(workspace.output_dir, "review", f"{DAY}_{THEME}.mp4").exists()


def test_composed_video_reports_the_cost_of_its_lineage(instance, graph_resources, review_db_url):
    defs = build_definitions(graph_resources)
    run_day(instance, DAY, [THEME], defs=defs)
    conn = postgres.connect(review_db_url)
    try:
        for asset, cost in (("video_script", 0.0042), ("voiceover", 0.0100)):
            generation_log.record_generation(
                conn,
                date=DAY,
                theme=THEME,
                asset=asset,
                implementation="openai",
                status="succeeded",
                cost_usd=cost,
            )
        generation_log.record_generation(  # a failed attempt is spent, but not part of this video's lineage
            conn,
            date=DAY,
            theme=THEME,
            asset="voiceover",
            implementation="openai",
            status="failed",
            cost_usd=1.0,
        )
    finally:
        conn.close()

    defs.resolve_job_def(VIDEO_JOB).execute_in_process(
        instance=instance, partition_key=PARTITION, asset_selection=[dg.AssetKey("composed_video")]
    )

    metadata = latest_metadata(instance, "composed_video")
    assert metadata["cost_usd"] == pytest.approx(0.0142)
    assert metadata["cost_breakdown"] == {"script_and_voice_usd": 0.0142, "visuals_usd": 0.0}
    stages = metadata["render_stage_seconds"]
    assert set(stages) == {"captions", "soundtrack", "video"} and all(v > 0 for v in stages.values())
    assert stages["video"] < metadata["render_seconds"], "the stages are parts of the render"
