"""Protects the media stage: every composed_video check passes on a good render and fails on a bad one,
the whole graph records all six checks and the scene-clip manifest, procedural scenes are drawn inside
the render graph, and a render killed mid-way (kill -9 of ffmpeg) leaves nothing at the final paths."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import dagster as dg
import psutil
import pytest

from shortvid_assets.assets.media import (
    CHECK_AUDIO,
    CHECK_BLACK,
    CHECK_CAPTIONS,
    CHECK_DRAWABLE,
    CHECK_DURATION,
    CHECK_FORMAT,
    CHECK_LOUDNESS,
    quality_checks,
)
from shortvid_assets.definitions import build_definitions
from shortvid_assets.domain.captions import CaptionImage, render_caption_track
from shortvid_assets.domain.ffmpeg import ffmpeg_exe, run_ffmpeg
from shortvid_assets.domain.models import TextOverlay, WordTiming
from shortvid_assets.domain.probe import probe_media
from shortvid_assets.domain.procedural import gradient_source
from shortvid_assets.domain.render import GeneratedClip, RenderError, RenderSpec, render_video
from shortvid_assets.domain.scenes import SceneClip
from shortvid_assets.resources.video_format import VideoFormat
from shortvid_assets.resources.visuals import ProceduralVisuals
from shortvid_assets.runtime.runner import run_day
from shortvid_assets.storage.artifacts import CLIPS_MANIFEST

from .conftest import DAY, SMALL, THEME

W, H = 216, 384
FORMAT = VideoFormat(**SMALL)
ALL_CHECKS = {
    CHECK_FORMAT,
    CHECK_DURATION,
    CHECK_AUDIO,
    CHECK_LOUDNESS,
    CHECK_BLACK,
    CHECK_CAPTIONS,
    CHECK_DRAWABLE,
}


def _ff(*args: str) -> None:
    run_ffmpeg([ffmpeg_exe(), "-v", "error", "-y", *args])


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A 2.5 s render the way composed_video makes one: in-graph gradients, word captions, voice at -14 LUFS."""
    folder = tmp_path_factory.mktemp("good")
    voice = folder / "voice.wav"
    _ff("-f", "lavfi", "-i", "aevalsrc=0.4*sin(2*PI*220*t)*(0.5+0.5*sin(2*PI*3*t)):s=22050:d=2.3", str(voice))
    words = [
        WordTiming(word=w, start_s=0.2 + 0.45 * i, end_s=0.6 + 0.45 * i)
        for i, w in enumerate(["one", "two", "three", "four"])
    ]
    track = render_caption_track(
        words, [TextOverlay(text="Hook", start_s=0, end_s=1.2, position="top", style="hook")], folder / "caps",
        width=W, height=H,
    )  # fmt: skip
    spec = RenderSpec(
        clips=[GeneratedClip(gradient_source(duration_s=1.25, width=W, height=H, fps=30, seed=f"g{i}")) for i in range(2)],
        clip_durations=[1.25, 1.25], transitions=["dissolve"], captions=track.overlays,
        caption_streams=track.streams, voice=voice, width=W, height=H, preset="ultrafast", crf=30,
    )  # fmt: skip
    result = render_video(spec, folder / "good.mp4", folder / "good.jpg")
    return {"video": result.video, "captions": track.boxes, "planned": 2.5, "dir": folder}


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Renders wrong in every checked way: MPEG-4 Part 2, wrong size and fps, black, silent; and one in
    yuv444p with no audio at all."""
    folder = tmp_path_factory.mktemp("bad")
    wrong = folder / "wrong.mp4"
    # 1.6 s of black then colour, 200x360 at 25 fps, mpeg4, silent audio, 3.5 s long.
    _ff("-f", "lavfi", "-i", "color=c=black:s=200x360:r=25:d=1.6", "-f", "lavfi", "-i", "color=c=red:s=200x360:r=25:d=1.9",
        "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]",
        "-map", "[v]", "-map", "2:a", "-t", "3.5", "-c:v", "mpeg4", "-c:a", "aac", str(wrong))  # fmt: skip
    mute = folder / "mute.mp4"
    _ff("-f", "lavfi", "-i", f"color=c=blue:s={W}x{H}:r=30:d=2.5", "-c:v", "libx264", "-preset", "ultrafast",
        "-pix_fmt", "yuv444p", str(mute))  # fmt: skip
    return {"wrong": wrong, "mute": mute}


def test_every_check_passes_on_a_good_render(good: dict) -> None:
    checks = quality_checks(
        good["video"],
        probe_media(good["video"]),
        video_format=FORMAT,
        planned_s=good["planned"],
        captions=good["captions"],
    )
    assert set(checks) == ALL_CHECKS
    failed = {name: c.description for name, c in checks.items() if not c.passed}
    assert failed == {}
    assert checks[CHECK_LOUDNESS].metadata["loudness_lufs"] == pytest.approx(-14, abs=1)


def test_every_check_fails_on_a_bad_render(bad: dict) -> None:
    outside = CaptionImage(Path("low.png"), x=10, y=H - 40, w=150, h=30, start_s=0, end_s=1)
    checks = quality_checks(
        bad["wrong"],
        probe_media(bad["wrong"]),
        video_format=FORMAT,
        planned_s=2.5,
        captions=[outside],
        caption_text="Hello தமிழ்",  # Tamil: no caption font draws it
    )
    assert {name for name, c in checks.items() if not c.passed} == ALL_CHECKS
    assert "TAMIL LETTER TA" in checks[CHECK_DRAWABLE].description
    assert "mpeg4" in checks[CHECK_FORMAT].description
    assert "200x360" in checks[CHECK_FORMAT].description and "25.0" in checks[CHECK_FORMAT].description
    assert "against a plan of 2.50s (+1.0" in checks[CHECK_DURATION].description
    assert "black from 0.00s to 1.60s" in checks[CHECK_BLACK].description
    assert "low.png" in checks[CHECK_CAPTIONS].description


def test_missing_audio_fails_the_audio_and_loudness_checks(bad: dict) -> None:
    checks = quality_checks(
        bad["mute"], probe_media(bad["mute"]), video_format=FORMAT, planned_s=2.5, captions=[]
    )
    assert not checks[CHECK_AUDIO].passed and "no audio stream" in checks[CHECK_AUDIO].description
    assert not checks[CHECK_LOUDNESS].passed
    assert not checks[CHECK_FORMAT].passed
    assert (
        "yuv444p" in checks[CHECK_FORMAT].description
        and "audio_codec is None" in checks[CHECK_FORMAT].description
    )
    assert checks[CHECK_DURATION].passed and checks[CHECK_BLACK].passed and checks[CHECK_CAPTIONS].passed


def test_duration_tolerance_is_half_a_second(good: dict) -> None:
    info = probe_media(good["video"])
    at = {p: quality_checks(good["video"], info, video_format=FORMAT, planned_s=p, captions=[])[CHECK_DURATION].passed
          for p in (2.05, 2.95, 3.1, 1.9)}  # fmt: skip
    assert at == {2.05: True, 2.95: True, 3.1: False, 1.9: False}


def test_killed_ffmpeg_leaves_nothing_at_the_final_paths(good: dict, tmp_path: Path) -> None:
    folder = good["dir"]
    spec = RenderSpec(
        clips=[GeneratedClip(gradient_source(duration_s=120, width=640, height=1136, fps=30, seed="long"))],
        clip_durations=[120.0], transitions=[], captions=[], voice=folder / "voice.wav", width=640, height=1136,
        preset="medium", loudness_lufs=None,
    )  # fmt: skip
    out = tmp_path / "final"
    errors: list[BaseException] = []
    me = psutil.Process()

    def render() -> None:
        try:
            render_video(spec, out / "v.mp4", out / "t.jpg", timeout_s=120)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=render)
    worker.start()
    deadline = time.monotonic() + 30
    victim = None
    while victim is None and time.monotonic() < deadline:
        children = [c for c in me.children(recursive=True) if "ffmpeg" in c.name().lower()]
        if children and any(p.name.startswith(".v.") for p in out.glob(".*")):
            victim = children[0]
        time.sleep(0.05)
    assert victim is not None, "ffmpeg started and began writing its temporary file"
    time.sleep(0.5)  # let it write some of the video
    os.kill(victim.pid, signal.SIGKILL)
    worker.join(timeout=30)
    assert len(errors) == 1 and isinstance(errors[0], RenderError)
    assert "-9" in str(errors[0])
    assert sorted(p.name for p in out.iterdir()) == [], "neither the final files nor temporary ones remain"


def test_graph_records_all_checks_and_draws_procedural_scenes_in_graph(
    instance, graph_resources, workspace
) -> None:
    runs = run_day(instance, DAY, [THEME], defs=build_definitions(graph_resources))
    assert all(r.success for r in runs)
    manifest = json.loads((workspace.artifacts.scene_dir(DAY, THEME) / CLIPS_MANIFEST).read_text())
    assert manifest and all(c["provider"] == "procedural" and c["in_graph_seed"] for c in manifest)
    event = instance.get_latest_materialization_event(dg.AssetKey("composed_video"))
    metadata = {k: v.value for k, v in event.asset_materialization.metadata.items()}
    assert metadata["scenes_drawn_in_graph"] == len(manifest)
    key = dg.AssetKey("composed_video")
    recorded = {}
    for name in ALL_CHECKS:
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(key, name)]
        )
        execution = record[dg.AssetCheckKey(key, name)]
        recorded[name] = execution.event.dagster_event.event_specific_data.passed
    assert recorded == dict.fromkeys(ALL_CHECKS, True)


def test_scene_manifest_gives_the_stored_clip_or_its_in_graph_recipe(tmp_path: Path) -> None:
    stored = SceneClip(
        path=str(tmp_path / "scene-01.mp4"), provider="pexels", attribution="Video by A on Pexels"
    )
    assert stored.composition_input(duration_s=3, width=W, height=H, fps=30) == tmp_path / "scene-01.mp4"
    drawn = SceneClip(
        path="scene-01.mp4", provider="procedural", in_graph_seed="cup-1", in_graph_prompt="ocean"
    )
    recipe = drawn.composition_input(duration_s=3.5, width=W, height=H, fps=30)
    assert isinstance(recipe, GeneratedClip)
    assert recipe.source == gradient_source(
        duration_s=3.5, width=W, height=H, fps=30, seed="cup-1", prompt="ocean"
    )
    assert (
        ProceduralVisuals(in_graph=False)
        .scene_clip(tmp_path / "s.mp4", duration_s=2, width=W, height=H, seed="x", prompt="p")
        .in_graph_seed
        is None
    )
