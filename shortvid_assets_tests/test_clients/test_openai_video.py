"""Protects the AI video provider: the real openai SDK's videos API (create, poll, download) against a
fake server, the job length and size chosen for the scene, the clip cut to the scene, cost recorded,
failed jobs and bad keys explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from shortvid_assets.clients.openai_video import (
    OpenAIVideoClient,
    VideoGenerationError,
    cost_of_video,
    job_seconds,
    job_size,
)
from shortvid_assets.domain.ffmpeg import ffmpeg_exe, run_ffmpeg
from shortvid_assets.domain.probe import probe_media
from shortvid_assets.resources.visuals import OpenAIVideoVisuals, ProceduralVisuals, visuals_from_env
from shortvid_assets_tests.fakes.openai_video import FAKE_KEY, VIDEOS, FakeOpenAIVideos, _form


@pytest.fixture(scope="module")
def generated_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 4 s 144x256 clip standing in for a generated 720x1280 video."""
    out = tmp_path_factory.mktemp("gen") / "gen.mp4"
    run_ffmpeg([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=144x256:r=30:d=4",
                "-c:v", "libx264", "-preset", "ultrafast", str(out)])  # fmt: skip
    return out


@pytest.fixture
def fake(generated_mp4: Path):
    with FakeOpenAIVideos(generated_mp4) as server:
        yield server


@pytest.mark.parametrize(("scene", "seconds"), [(2.0, 4), (4.0, 4), (4.5, 8), (12.0, 12)])
def test_job_length_is_the_shortest_allowed_covering_the_scene(scene: float, seconds: int) -> None:
    assert job_seconds(scene) == seconds


def test_job_size_and_cost() -> None:
    assert job_size(1080, 1920) == "720x1280" and job_size(1080, 1080) == "720x1280"
    assert job_size(1920, 1080) == "1280x720"
    assert cost_of_video("sora-2", 4) == pytest.approx(0.40)
    assert cost_of_video("sora-2-pro-2025-10-06", 4) == pytest.approx(1.20)
    with pytest.raises(VideoGenerationError, match="longer than the 12s"):
        job_seconds(13)


def test_scene_clip_creates_polls_downloads_and_fits(fake: FakeOpenAIVideos, tmp_path: Path) -> None:
    provider = OpenAIVideoVisuals(api_key=FAKE_KEY, base_url=fake.base_url, poll_interval_ms=10)
    clip = provider.scene_clip(
        tmp_path / "scene-01.mp4",
        duration_s=3.0,
        width=216,
        height=384,
        seed="s-1",
        prompt="Steam over coffee",
    )
    (create,) = fake.calls("POST", VIDEOS)
    assert create.headers["authorization"] == f"Bearer {FAKE_KEY}"
    form = _form(create)
    assert (form["prompt"], form["model"], form["seconds"], form["size"]) == (
        "Steam over coffee", "sora-2", "4", "720x1280",
    )  # fmt: skip
    assert len(fake.calls("GET", rf"{VIDEOS}/video_\w+")) >= 2, "polled until completed"
    assert len(fake.calls("GET", rf"{VIDEOS}/video_\w+/content")) == 1
    info = probe_media(Path(clip.path))
    assert (info.width, info.height) == (216, 384) and info.duration_s == pytest.approx(3.0, abs=0.1)
    assert clip.cost_usd == pytest.approx(0.40) and clip.provider == "openai:sora-2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene-01.mp4"]


def test_a_failed_job_raises_with_its_reason_and_writes_nothing(
    fake: FakeOpenAIVideos, tmp_path: Path
) -> None:
    client = OpenAIVideoClient(FAKE_KEY, base_url=fake.base_url, poll_interval_ms=10)
    with pytest.raises(VideoGenerationError, match="blocked by moderation"):
        client.generate("FAIL this prompt", tmp_path / "x.mp4", duration_s=3, width=216, height=384)
    assert not (tmp_path / "x.mp4").exists()
    assert len(fake.calls("GET", rf"{VIDEOS}/video_\w+/content")) == 0


def test_a_bad_key_is_explained_without_the_key(fake: FakeOpenAIVideos, tmp_path: Path) -> None:
    client = OpenAIVideoClient("sk-wrong-key-0000000000", base_url=fake.base_url, max_retries=0)
    with pytest.raises(VideoGenerationError) as info:
        client.generate("coffee", tmp_path / "x.mp4", duration_s=3, width=216, height=384)
    assert "401" in str(info.value) or "Incorrect API key" in str(info.value)
    assert "sk-wrong-key-0000000000" not in str(info.value)


def test_env_selects_the_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHORTVID_VISUALS", raising=False)
    assert isinstance(visuals_from_env(), ProceduralVisuals)
    monkeypatch.setenv("SHORTVID_VISUALS", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("SHORTVID_VIDEO_MODEL", "sora-2-pro")
    provider = visuals_from_env()
    assert isinstance(provider, OpenAIVideoVisuals) and provider.model == "sora-2-pro"
