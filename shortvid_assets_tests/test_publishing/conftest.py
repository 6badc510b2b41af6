"""Fixtures for publishing tests: a fake Google speaking the real wire formats, the real YouTube client
against it, a private workspace with the day's plan, and an approved render (random bytes, several chunks).

These tests use one PostgreSQL server: `SHORTVID_TEST_DATABASE_URL`'s when set, else the embedded one.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from shortvid_assets.assets import trends as trend_assets
from shortvid_assets.assets.content import video_script
from shortvid_assets.definitions import build_resources
from shortvid_assets.domain.files import file_sha256
from shortvid_assets.partitions import date_theme_key, theme_partitions
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.publishing import YouTubePublisherResource
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.resources.video_format import VideoFormat
from shortvid_assets.storage import postgres, review_decisions
from shortvid_assets_tests.conftest import TEST_DATABASE_URL_ENV
from shortvid_assets_tests.fakes.youtube_publish import CHUNK_UNIT, FakeGooglePublishing
from shortvid_assets_tests.tiny import MINICUP, SMALL, themes_yaml

DAY = "2026-11-24"
NEXT_DAY = "2026-11-25"
THEME = "minicup"
CLIENT_ID = "1234-fake.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-client-secret-0123"
REFRESH_TOKEN = "1//fake-refresh-token-abcdef"
VIDEO_BYTES = 3 * CHUNK_UNIT + CHUNK_UNIT // 2  # four chunks of 256 KiB, the last one half


@pytest.fixture(scope="session")
def publish_server_url(request: pytest.FixtureRequest) -> str:
    url = os.environ.get(TEST_DATABASE_URL_ENV, "").strip()
    if url:
        return url
    return postgres.embedded_server_url(request.getfixturevalue("embedded_pg_dir"))


@pytest.fixture
def db_url(publish_server_url: str) -> Iterator[str]:
    name = f"svpub_{uuid.uuid4().hex[:16]}"
    url = postgres.create_database(publish_server_url, name)
    try:
        yield url
    finally:
        postgres.drop_database(publish_server_url, name)


@pytest.fixture
def fake() -> Iterator[FakeGooglePublishing]:
    with FakeGooglePublishing(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN
    ) as server:
        yield server


def youtube_publisher(fake: FakeGooglePublishing, **policy) -> YouTubePublisherResource:
    """The real YouTube publisher, pointed at the fake, sending 256 KiB chunks."""
    return youtube_publisher_at(fake.url, **policy)


def youtube_publisher_at(fake_url: str, **policy) -> YouTubePublisherResource:
    """The real YouTube publisher for a fake Google at `fake_url` (also from another process)."""
    return YouTubePublisherResource(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH_TOKEN,
        token_url=f"{fake_url}/token",
        api_base_url=f"{fake_url}/youtube/v3",
        upload_base_url=f"{fake_url}/upload/youtube/v3",
        analytics_base_url=f"{fake_url}/v2",
        chunk_size=CHUNK_UNIT,
        timeout_s=10.0,
        **policy,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> ShortvidPaths:
    themes = tmp_path / "themes.yaml"
    themes.write_text(themes_yaml(MINICUP))
    return ShortvidPaths(
        data_dir=str(tmp_path / "data"), output_dir=str(tmp_path / "output"), themes_file=str(themes)
    )


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(theme_partitions.name, [THEME])
        yield instance


@dataclass
class Site:
    """A workspace, its database and instance, and the resources publishing runs with."""

    paths: ShortvidPaths
    db_url: str
    instance: dg.DagsterInstance
    fake: FakeGooglePublishing

    def resources(self, **overrides) -> dict[str, object]:
        return {
            **build_resources(),
            "paths": self.paths,
            "video_format": VideoFormat(**SMALL),
            "review_db": ReviewDatabase(url=self.db_url),
            "publisher": youtube_publisher(self.fake),
            **overrides,
        }

    def connect(self):
        conn = postgres.connect(self.db_url)
        review_decisions.ensure_schema(conn)
        return conn

    def decide(self, decision: str, sha256: str | None, day: str = DAY) -> review_decisions.ReviewDecision:
        conn = self.connect()
        try:
            return review_decisions.record_decision(
                conn, partition_date=day, theme=THEME, decision=decision, reviewer="maya",
                video_path=str(self.paths.artifacts.review_file("approved", day, THEME, "mp4")),
                video_sha256=sha256,
            )  # fmt: skip
        finally:
            conn.close()


def materialize_plan(site: Site, day: str) -> None:
    """The day's trends and its plan for the theme (no render: publishing reads the plan and the file)."""
    trends = dg.materialize(
        dg.load_assets_from_modules([trend_assets]),
        partition_key=day,
        instance=site.instance,
        resources=site.resources(),
    )
    assert trends.success
    plan = dg.materialize(
        [video_script],
        partition_key=str(date_theme_key(day, THEME)),
        instance=site.instance,
        resources=site.resources(),
    )
    assert plan.success


def write_render(paths: ShortvidPaths, day: str = DAY, seed: int = 7) -> Path:
    """An approved render's file (random bytes of several chunks) and its thumbnail, where review files it."""
    video = paths.artifacts.review_file("approved", day, THEME, "mp4")
    video.parent.mkdir(parents=True, exist_ok=True)
    video.write_bytes(random.Random(seed).randbytes(VIDEO_BYTES))
    video.with_suffix(".jpg").write_bytes(b"\xff\xd8\xff\xe0fake-jpeg")
    return video


@pytest.fixture
def site(workspace, db_url, instance, fake) -> Site:
    made = Site(workspace, db_url, instance, fake)
    materialize_plan(made, DAY)
    return made


@pytest.fixture
def approved(site: Site) -> str:
    """The render's SHA-256, approved by a reviewer."""
    sha = file_sha256(write_render(site.paths))
    site.decide("approved", sha)
    return sha


@pytest.fixture
def approved_factory(workspace, db_url, instance):
    """Makes a site around a given fake Google, with the day's plan and an approved render."""

    def make(google: FakeGooglePublishing) -> Site:
        made = Site(workspace, db_url, instance, google)
        materialize_plan(made, DAY)
        made.decide("approved", file_sha256(write_render(workspace)))
        return made

    return make
