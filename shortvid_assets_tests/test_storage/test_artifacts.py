"""Protects the one home of the artifact layout: where each stage's file lives, typed round trips,
missing inputs that say which stage to run, and stale timelines refused."""

from __future__ import annotations

import pytest

from shortvid_assets.domain.models import VideoPlan, WordTiming
from shortvid_assets.domain.scenes import SceneClip
from shortvid_assets.domain.timeline import timeline_for
from shortvid_assets.storage.artifacts import Artifacts, MissingArtifact, StaleTimelineError
from shortvid_assets_tests.fakes.fake_openai import plan_dict

DAY, THEME = "2026-11-24", "minicup"


def tiny_plan() -> VideoPlan:
    return VideoPlan.model_validate(plan_dict())


@pytest.fixture
def store(tmp_path) -> Artifacts:
    return Artifacts(tmp_path / "data", tmp_path / "output")


def test_the_layout_is_asset_date_theme(store, tmp_path):
    assert store.plan(DAY, THEME) == tmp_path / "data" / "video_script" / DAY / f"{THEME}.json"
    assert store.report(DAY) == tmp_path / "data" / "trend_report" / f"{DAY}.json"
    assert store.collected("tiktok", DAY) == tmp_path / "data" / "tiktok_trends" / f"{DAY}.parquet"
    assert store.scene_clip(DAY, THEME, 3) == tmp_path / "data" / "scene_clips" / DAY / THEME / "scene-03.mp4"
    assert store.review_file("approved", DAY, THEME, "mp4") == tmp_path / "output" / "approved" / f"{DAY}_{THEME}.mp4"


@pytest.mark.parametrize(
    ("read", "stage"),
    [
        (lambda s: s.read_plan(DAY, THEME), "video_script"),
        (lambda s: s.read_report(DAY), "trend_report"),
        (lambda s: s.read_words(DAY, THEME), "voiceover"),
        (lambda s: s.read_collected("youtube", DAY), "youtube_trends"),
    ],
)
def test_a_missing_input_names_the_stage_to_materialize(store, read, stage):
    with pytest.raises(MissingArtifact, match=f"materialize {stage}"):
        read(store)


def test_plan_words_and_clips_round_trip_and_leave_no_temporary_file(store):
    plan = tiny_plan()
    store.write_plan(plan, DAY, THEME)
    words = [WordTiming(word="hello", start_s=0.0, end_s=0.4)]
    store.write_words(words, DAY, THEME)
    clips = [SceneClip(path=str(store.scene_clip(DAY, THEME, n)), provider="procedural") for n in (1, 2)]
    store.write_clips_manifest(clips, DAY, THEME)
    assert store.read_plan(DAY, THEME) == plan
    assert store.read_words(DAY, THEME) == words
    assert store.read_clips_manifest(DAY, THEME, 2) == clips
    with pytest.raises(ValueError, match="re-materialize scene_clips"):
        store.read_clips_manifest(DAY, THEME, 3)
    leftovers = [p for p in store.data_dir.rglob("*") if ".part" in p.name]
    assert leftovers == []


def test_a_timeline_for_another_plan_is_refused_and_a_fitting_voice_removes_it(store):
    plan = tiny_plan()
    durations = [scene.duration_s for scene in plan.scenes]
    assert store.scene_durations(DAY, THEME, plan) == durations
    store.write_timeline(timeline_for(durations, sum(durations) * 1.5, 1.15), DAY, THEME)
    assert sum(store.scene_durations(DAY, THEME, plan)) > sum(durations)
    store.write_timeline(timeline_for([d + 1 for d in durations], sum(durations) * 2, 1.15), DAY, THEME)
    with pytest.raises(StaleTimelineError, match="re-materialize voiceover"):
        store.scene_durations(DAY, THEME, plan)
    store.write_timeline(None, DAY, THEME)
    assert not store.timeline(DAY, THEME).exists()


def test_find_video_looks_in_every_review_folder(store):
    assert store.find_video(DAY, THEME) is None
    approved = store.review_file("approved", DAY, THEME, "mp4")
    approved.parent.mkdir(parents=True)
    approved.write_bytes(b"mp4")
    assert store.find_video(DAY, THEME) == approved
