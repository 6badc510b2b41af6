"""Fixtures for the review page: a workspace with one video awaiting review, its script, and an app."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.review.app import ReviewAppSettings, create_app
from shortvid_assets.review.app.auth import Reviewers, Signer
from shortvid_assets_tests.tiny import MINICUP, themes_yaml

DAY = "2026-11-24"
THEME = "minicup"
# Tokens of at least 128 bits, as the page requires (32 hex digits, like `secrets.token_hex(16)`).
MAYA, OMAR = "3f9c0d6b1e8a47f2b5c9e0a1d4f7b2c8", "81ab5e2f9c3d4a7b8e1f0c6d2a9b5e3f"
TOKENS = f"maya:{MAYA},omar:{OMAR}"
SECRET = "test-secret-0123456789abcdef"
THEMES_YAML = themes_yaml(MINICUP)
PLAN = {
    "title": "MiniCup <b>in 6 seconds</b>",
    "description": "A tiny mug.",
    "master_visual_prompt": "warm kitchen light",
    "target_duration_s": 6.0,
    "scenes": [
        {"number": 1, "duration_s": 2.0, "visual_prompt": "a mug on a desk"},
        {"number": 2, "duration_s": 2.0, "visual_prompt": "a pocket", "transition": "fade"},
        {"number": 3, "duration_s": 2.0, "visual_prompt": "a smile"},
    ],
    "voiceover_script": "Coffee that fits in your pocket.",
    "hook_text": "Ever lost your mug?",
    "hook_type": "question",
    "cta_text": "Get yours",
    "text_overlays": [{"text": "Tiny!", "start_s": 0.5, "end_s": 2.0}],
    "hashtags": ["coffee", "tiny", "mug", "desk", "pocket"],
    "style": "montage",
    "trend_pattern": "montage with question hook",
}
VIDEO_BYTES = bytes(range(256)) * 64  # not a real MP4: the page serves bytes, it never decodes them


@dataclass
class Workspace:
    paths: ShortvidPaths
    root: Path
    db_url: str

    def video(self, folder: str = "review", day: str = DAY, theme: str = THEME) -> Path:
        return self.paths.artifacts.review_file(folder, day, theme, "mp4")


def add_video(paths: ShortvidPaths, day: str = DAY, theme: str = THEME, data: bytes = VIDEO_BYTES) -> Path:
    video = paths.artifacts.review_file("review", day, theme, "mp4")
    video.parent.mkdir(parents=True, exist_ok=True)
    video.write_bytes(data)
    paths.artifacts.review_file("review", day, theme, "jpg").write_bytes(b"\xff\xd8\xff thumbnail")
    return video


@pytest.fixture
def space(tmp_path: Path, review_db_url: str) -> Workspace:
    themes = tmp_path / "themes.yaml"
    themes.write_text(THEMES_YAML)
    paths = ShortvidPaths(
        data_dir=str(tmp_path / "data"), output_dir=str(tmp_path / "output"), themes_file=str(themes)
    )
    add_video(paths)
    script = paths.artifacts.per_theme("video_script", DAY, THEME, "json")
    script.parent.mkdir(parents=True)
    import json

    script.write_text(json.dumps(PLAN))
    return Workspace(paths=paths, root=tmp_path, db_url=review_db_url)


def make_client(
    space: Workspace,
    tokens: str = TOKENS,
    *,
    address: str = "testclient",
    db_url: str | None = None,
    **limits,
) -> TestClient:
    """A client of a new app; `address` is the client address the app sees, `limits` its failure limits."""
    settings = ReviewAppSettings(
        artifacts=space.paths.artifacts,
        themes_file=Path(space.paths.themes_file),
        database_url=db_url or space.db_url,
        reviewers=Reviewers.parse(tokens),
        signer=Signer.from_value(SECRET),
        **limits,
    )
    return client_of(create_app(settings), address)


def client_of(app, address: str = "testclient") -> TestClient:
    """Another client (its own cookies, its own address) of the same app."""
    return TestClient(app, base_url="http://127.0.0.1:8765", follow_redirects=False, client=(address, 50000))


@pytest.fixture
def client(space: Workspace) -> TestClient:
    return make_client(space)


def sign_in(client: TestClient, token: str = MAYA) -> None:
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    response = client.post("/login", data={"token": token, "csrf_token": csrf})
    assert response.status_code == 303, response.text


def csrf_of(client: TestClient, url: str = f"/videos/{DAY}/{THEME}") -> tuple[str, str]:
    """The CSRF token and video hash in the decision form of a video page."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    sha = re.search(r'name="video_sha256" value="([^"]*)"', page.text)[1]
    return csrf, sha
