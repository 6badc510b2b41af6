"""Protects the quick start: `shortvid demo` on a fresh state folder and the embedded Postgres.

Runs the real console script in a subprocess, at the real size (1080x1920), then checks each
sample theme's MP4 the way a reviewer would see it: streams, length, speech, captions, thumbnail.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from shortvid_assets import settings
from shortvid_assets.domain.captions import render_caption_track
from shortvid_assets.domain.models import VideoPlan, WordTiming
from shortvid_assets.domain.probe import audio_mean_volume_db, extract_frame, faststart, probe_media
from shortvid_assets.domain.themes import load_themes
from shortvid_assets.storage import postgres
from shortvid_assets_tests.test_assets.conftest import THEMES_YAML

DAY = "2026-11-24"
SHORTVID = str(Path(sys.executable).with_name("shortvid"))


@pytest.fixture(scope="module")
def demo_home():
    """A fresh state folder (short path: the embedded server's unix socket lives in it)."""
    home = Path(tempfile.mkdtemp(prefix="svdemo-", dir="/tmp"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHORTVID_", "DAGSTER_"))}
    env.update(SHORTVID_HOME=str(home), SHORTVID_OUTPUT_DIR=str(home / "output"))
    try:
        yield home, env
    finally:
        postgres.stop_embedded_server(home / "pg")
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def demo_run(demo_home):
    home, env = demo_home
    done = subprocess.run(
        [SHORTVID, "demo", "--date", DAY], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return home, done.stdout


def caption_pixels_visible(frame: np.ndarray, png: Path, x: int, y: int) -> float:
    """Share of a caption PNG's solid text pixels (white or highlighted) that show up bright in the frame."""
    from PIL import Image

    overlay = np.asarray(Image.open(png).convert("RGBA")).astype(float)
    weights = [0.299, 0.587, 0.114]
    text = (overlay[..., 3] > 250) & (overlay[..., :3] @ weights > 180)
    region = frame[y : y + overlay.shape[0], x : x + overlay.shape[1]].astype(float)
    return float(((region[text] @ weights) > 160).mean())


@pytest.mark.slow
def test_demo_makes_a_reviewable_video_per_sample_theme(demo_run, tmp_path):
    home, stdout = demo_run
    themes = load_themes(settings.PROJECT_DIR / "themes.yaml")
    assert "Videos awaiting review:" in stdout and "shortvid dev" in stdout
    for slug in themes:
        video = home / "output" / "review" / f"{DAY}_{slug}.mp4"
        assert str(video) in stdout
        plan = VideoPlan.model_validate_json(
            (home / "data" / "video_script" / DAY / f"{slug}.json").read_text()
        )
        info = probe_media(video)
        assert (info.width, info.height, info.video_codec, info.audio_codec) == (1080, 1920, "h264", "aac")
        assert abs(info.duration_s - plan.target_duration_s) <= 1.0
        assert faststart(video)
        assert audio_mean_volume_db(video) > -35
        thumbnail = video.with_suffix(".jpg")
        assert thumbnail.stat().st_size > 10_000

        words_file = home / "data" / "voiceover" / DAY / f"{slug}.words.json"
        words = [WordTiming.model_validate(w) for w in json.loads(words_file.read_text())]
        track = render_caption_track(words, plan.text_overlays, tmp_path / slug, width=1080, height=1920)
        shown_on_frame = [  # (image, where it is placed, when it shows)
            (state.path, stream.x, stream.y, state)
            for stream in track.streams
            for state in stream.states
            if state.end_s > state.start_s
        ]
        spoken = [shown_on_frame[len(shown_on_frame) // 3], shown_on_frame[2 * len(shown_on_frame) // 3]]
        hook = [(o.path, o.x, o.y, o) for o in track.overlays[:1]]
        for png, x, y, when in [*spoken, *hook]:
            frame = np.asarray(extract_frame(video, (when.start_s + when.end_s) / 2).convert("RGB"))
            assert caption_pixels_visible(frame, png, x, y) > 0.8, (slug, when)


@pytest.mark.slow
def test_demo_again_resumes_from_its_checkpoints(demo_run, demo_home):
    _, env = demo_home
    again = subprocess.run(
        [SHORTVID, "run", "--date", DAY], env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "daily_trends_job 2026-11-24: ran nothing (all materialized)" in again.stdout
    themes = load_themes(settings.PROJECT_DIR / "themes.yaml")
    assert again.stdout.count("ran review_status") == len(themes) == 3


@pytest.mark.slow
def test_demo_instance_lives_in_the_embedded_postgres(demo_run):
    home, _ = demo_run
    config = (home / "dagster_home" / "dagster.yaml").read_text()
    assert "ShortvidPostgresStorage" in config
    conn = postgres.connect(postgres.embedded_server_url(home / "pg"))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM runs")
            assert cur.fetchone()[0] >= 3  # one trends run and a video run per theme
    finally:
        conn.close()


def test_missing_ffmpeg_fails_with_a_clear_message_and_no_video(tmp_path, review_db_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHORTVID_", "DAGSTER_"))}
    themes = tmp_path / "themes.yaml"
    themes.write_text(THEMES_YAML)
    env.update(
        SHORTVID_HOME=str(tmp_path / "home"),
        SHORTVID_OUTPUT_DIR=str(tmp_path / "output"),
        SHORTVID_THEMES_FILE=str(themes),
        SHORTVID_DATABASE_URL=review_db_url,
        SHORTVID_FFMPEG=str(tmp_path / "no-ffmpeg"),
        SHORTVID_VIDEO_WIDTH="216",
        SHORTVID_VIDEO_HEIGHT="384",
    )
    done = subprocess.run(
        [SHORTVID, "run", "--date", DAY], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode != 0
    assert "no-ffmpeg" in done.stderr and "FAILED" in done.stdout
    assert not list((tmp_path / "output").rglob("*.mp4"))
    assert not list((tmp_path / "home").rglob("*.mp4"))
