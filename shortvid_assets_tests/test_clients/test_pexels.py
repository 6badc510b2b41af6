"""Protects the Pexels stock-video provider against a fake API in the real wire format: search by the
scene prompt with the key in a header, the right rendition downloaded, clips cut to the scene, credit
recorded, errors explained without leaking the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from shortvid_assets.clients.pexels import (
    PexelsClient,
    PexelsError,
    PexelsVideo,
    choose_file,
    orientation_for,
    search_query,
)
from shortvid_assets.domain.ffmpeg import ffmpeg_exe, run_ffmpeg
from shortvid_assets.domain.probe import probe_media
from shortvid_assets.resources.visuals import PexelsVisuals, visuals_from_env
from shortvid_assets_tests.fakes.pexels import SEARCH, FakePexels
from shortvid_assets_tests.fakes.server import Response

KEY = "pexels-test-key-123456"


@pytest.fixture(scope="module")
def stock_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 3 s 180x320 H.264 clip with sound, standing in for a stock video."""
    out = tmp_path_factory.mktemp("stock") / "stock.mp4"
    run_ffmpeg([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=180x320:r=25:d=3",
                "-f", "lavfi", "-i", "sine=d=3", "-c:v", "libx264", "-preset", "ultrafast", "-shortest", str(out)])  # fmt: skip
    return out


@pytest.fixture
def fake(stock_mp4: Path):
    with FakePexels(KEY, stock_mp4) as server:
        server.add_video(101, duration=12, author="Ana Videographer")
        server.add_video(102, duration=2, author="Too Short")
        server.add_video(103, duration=8, author="Ben Camera")
        yield server


def test_search_query_keeps_keywords_of_the_prompt() -> None:
    assert (
        search_query("A close up shot of golden coffee pouring into a cup, 4k")
        == "golden coffee pouring into cup"
    )
    assert search_query("!!! 123") == "abstract background"


@pytest.mark.parametrize(
    ("w", "h", "expected"), [(1080, 1920, "portrait"), (1920, 1080, "landscape"), (1080, 1080, "square")]
)
def test_orientation_follows_the_output_shape(w: int, h: int, expected: str) -> None:
    assert orientation_for(w, h) == expected


def test_choose_file_takes_the_smallest_mp4_covering_the_output(fake: FakePexels) -> None:
    video = PexelsVideo.model_validate(fake.videos[0] | {"video_files": [
        {**f, "link": f["link"].replace("{base}", "http://x")} for f in fake.videos[0]["video_files"]]})  # fmt: skip
    assert choose_file(video, 720, 1280).height == 1280
    assert choose_file(video, 216, 384).height == 640
    assert choose_file(video, 2160, 3840).height == 1920, "nothing covers 4K: the largest MP4"


def test_scene_clip_searches_downloads_fits_and_credits(fake: FakePexels, tmp_path: Path) -> None:
    provider = PexelsVisuals(api_key=KEY, base_url=fake.url)
    clip = provider.scene_clip(
        tmp_path / "scene-01.mp4",
        duration_s=2.5,
        width=216,
        height=384,
        seed="x-1",
        prompt="Golden coffee pour",
    )
    (search,) = fake.calls("GET", SEARCH)
    assert search.headers["authorization"] == KEY and KEY not in search.path + str(search.query)
    assert search.query["query"] == "golden coffee pour" and search.query["orientation"] == "portrait"
    downloads = fake.calls("GET", r"/video-files/\d+\.mp4")
    assert len(downloads) == 1 and "authorization" not in downloads[0].headers, "the key stays with the API"
    info = probe_media(Path(clip.path))
    assert (info.width, info.height, info.video_codec, info.has_audio) == (216, 384, "h264", False)
    assert info.duration_s == pytest.approx(2.5, abs=0.1)
    assert info.fps == pytest.approx(30)
    assert clip.provider == "pexels" and clip.source_url.startswith("https://www.pexels.com/video/")
    assert "on Pexels" in clip.attribution and clip.attribution.split(" by ")[1].split(" on ")[0] in (
        "Ana Videographer",
        "Ben Camera",
    )
    assert "Too Short" not in clip.attribution, "a video shorter than the scene is never used"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene-01.mp4"], "the download is not left behind"


def test_a_longer_scene_than_the_stock_clip_holds_its_last_frame(fake: FakePexels, tmp_path: Path) -> None:
    fake.videos[:] = fake.videos[:1]
    fake.videos[0]["duration"] = 4  # the listing says 4 s; the file itself is 3 s
    clip = PexelsVisuals(api_key=KEY, base_url=fake.url).scene_clip(
        tmp_path / "s.mp4", duration_s=4.0, width=216, height=384, seed="s", prompt="coffee"
    )
    assert probe_media(Path(clip.path)).duration_s == pytest.approx(4.0, abs=0.1)


def test_rate_limit_is_retried_and_remaining_quota_is_read(fake: FakePexels, tmp_path: Path) -> None:
    fake.fail("GET", SEARCH, Response(429, {"error": "Rate limit exceeded"}, headers={"Retry-After": "0"}))
    client = PexelsClient(KEY, base_url=fake.url, backoff_s=0)
    videos = client.search("coffee", orientation="portrait", min_duration_s=3)
    assert [v.id for v in videos] == [101, 103]
    assert len(fake.calls("GET", SEARCH)) == 2
    assert client.remaining_requests == 200 - 2


def test_wrong_key_fails_with_the_status_and_never_the_key(fake: FakePexels, tmp_path: Path) -> None:
    client = PexelsClient("wrong-key-987654", base_url=fake.url, max_retries=0)
    with pytest.raises(PexelsError, match="401") as info:
        client.stock_clip("coffee", tmp_path / "x.mp4", width=216, height=384, min_duration_s=2)
    assert "wrong-key-987654" not in str(info.value)
    assert not (tmp_path / "x.mp4").exists()


def test_no_usable_result_says_what_to_do(fake: FakePexels, tmp_path: Path) -> None:
    with pytest.raises(PexelsError, match="SHORTVID_VISUALS=procedural"):
        PexelsClient(KEY, base_url=fake.url).stock_clip(
            "coffee", tmp_path / "x.mp4", width=216, height=384, min_duration_s=60
        )


def test_malformed_results_are_skipped_and_a_broken_body_is_an_error(fake: FakePexels) -> None:
    fake.videos.insert(0, {"id": "not-a-number", "user": None})
    assert [v.id for v in PexelsClient(KEY, base_url=fake.url).search("c", orientation="portrait")] == [
        101,
        102,
        103,
    ]
    fake.fail("GET", SEARCH, Response(200, {"photos": []}))
    with pytest.raises(PexelsError, match="without a `videos` list"):
        PexelsClient(KEY, base_url=fake.url).search("c", orientation="portrait")


def test_failed_download_leaves_no_file(fake: FakePexels, tmp_path: Path) -> None:
    fake.fail("GET", r"/video-files/\d+\.mp4", Response(500, raw=b"oops"))
    with pytest.raises(PexelsError, match="HTTP 500"):
        PexelsClient(KEY, base_url=fake.url).stock_clip(
            "coffee", tmp_path / "x.mp4", width=216, height=384, min_duration_s=2
        )
    assert list(tmp_path.iterdir()) == []


def test_env_selects_pexels_with_the_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHORTVID_VISUALS", "pexels")
    monkeypatch.setenv("PEXELS_API_KEY", KEY)
    provider = visuals_from_env()
    assert isinstance(provider, PexelsVisuals)
    monkeypatch.setenv("SHORTVID_VISUALS", "stock-please")
    with pytest.raises(ValueError, match="procedural, pexels, openai"):
        visuals_from_env()
