"""Protects the offline scene clips: deterministic seeded looks, real moving H.264 clips, atomic writes."""

from __future__ import annotations

import colorsys
import os
import stat
from pathlib import Path

import pytest
from PIL import ImageChops, ImageStat

from shortvid_assets.domain.probe import extract_frame, probe_media
from shortvid_assets.domain.procedural import (
    ProceduralClipError,
    gradient_look,
    procedural_clip_command,
    render_procedural_clip,
)

W, H = 216, 384


def _hue(color: str) -> float:
    value = int(color, 16)
    r, g, b = (value >> 16) & 255, (value >> 8) & 255, value & 255
    return colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)[0] * 360


def test_gradient_look_is_deterministic_and_seed_dependent() -> None:
    assert gradient_look("plan-1/scene-1", "a prompt") == gradient_look("plan-1/scene-1", "a prompt")
    looks = {gradient_look(f"seed-{i}", "a prompt").colors for i in range(12)}
    assert len(looks) == 12
    assert gradient_look("s", "one prompt") != gradient_look("s", "another prompt")


@pytest.mark.parametrize(
    ("prompt", "low", "high"), [("calm ocean waves", 180, 230), ("lush green forest", 105, 155)]
)
def test_prompt_mood_steers_the_base_hue(prompt: str, low: float, high: float) -> None:
    for seed in ("a", "b", "c", "d"):
        assert low <= _hue(gradient_look(seed, prompt).colors[0]) <= high


def test_clip_command_is_an_h264_gradient_without_audio() -> None:
    args = procedural_clip_command(Path("out.mp4"), duration_s=2.5, width=W, height=H, fps=30, seed="x")
    source = args[args.index("-i") + 1]
    assert source.startswith("gradients=s=216x384:r=30:d=2.500:")
    for flag, value in (("-c:v", "libx264"), ("-pix_fmt", "yuv420p"), ("-movflags", "+faststart")):
        assert args[args.index(flag) + 1] == value
    assert "-an" in args


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"duration_s": 0}, "duration"), ({"width": 215}, "even"), ({"fps": 0}, "fps")],
)
def test_clip_command_rejects_bad_parameters(kwargs: dict, message: str) -> None:
    params = {"duration_s": 2.0, "width": W, "height": H, "fps": 30, "seed": "s"} | kwargs
    with pytest.raises(ValueError, match=message):
        procedural_clip_command(Path("o.mp4"), **params)


def test_rendered_clip_is_a_moving_h264_clip_of_the_requested_shape(tmp_path: Path) -> None:
    out = render_procedural_clip(
        tmp_path / "scene-01.mp4",
        duration_s=2.0,
        width=W,
        height=H,
        fps=30,
        seed="s1",
        prompt="sunset",
        preset="ultrafast",
    )
    assert out == tmp_path / "scene-01.mp4"
    info = probe_media(out)
    assert (info.video_codec, info.pix_fmt, info.width, info.height) == ("h264", "yuv420p", W, H)
    assert info.fps == pytest.approx(30)
    assert info.duration_s == pytest.approx(2.0, abs=0.05)
    assert info.audio_codec is None
    first, last = extract_frame(out, 0.0), extract_frame(out, 1.9)
    moved = ImageStat.Stat(ImageChops.difference(first, last)).mean
    assert max(moved) > 3, f"the gradient should move over the clip, mean difference {moved}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene-01.mp4"], "no temporary files are left"


def test_different_seeds_give_visibly_different_colors(tmp_path: Path) -> None:
    means = []
    for seed in ("alpha", "omega"):
        clip = render_procedural_clip(
            tmp_path / f"{seed}.mp4", duration_s=0.5, width=W, height=H, seed=seed, preset="ultrafast"
        )
        means.append(ImageStat.Stat(extract_frame(clip, 0.0)).mean)
    distance = sum((a - b) ** 2 for a, b in zip(*means, strict=True)) ** 0.5
    assert distance > 30, f"mean colours {means} are too close"


def test_failed_render_raises_and_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Unknown encoder libx264' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("SHORTVID_FFMPEG", str(fake))
    out_dir = tmp_path / "clips"
    with pytest.raises(ProceduralClipError, match="Unknown encoder libx264"):
        render_procedural_clip(out_dir / "scene.mp4", duration_s=1.0, width=W, height=H, seed="s")
    assert os.listdir(out_dir) == []


def test_large_clips_draw_the_gradient_small_and_scale_it_up() -> None:
    args = procedural_clip_command(Path("o.mp4"), duration_s=1.0, width=1080, height=1920, seed="x")
    assert args[args.index("-i") + 1].startswith("gradients=s=270x480:")
    assert args[args.index("-vf") + 1].startswith("scale=1080:1920:")
