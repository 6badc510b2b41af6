"""Protects the publishing gate and exactly-once upload: only the render a reviewer approved (same SHA-256)
is uploaded, once, with honest metadata (private by default, made-for-kids declared, synthetic media
disclosed, publishAt scheduling, the thumbnail set); a rejection that arrives before the upload starts, a
re-render, publishing switched off or the daily cap stop it with one clear line; quota and upload-limit
errors stop at once with the API's message and are not retried; a crash after the upload finished finds the
video again instead of uploading a second one; quota units reach the metadata, the row and the cost ledger.

The real YouTube client runs against a local fake Google that speaks the real wire formats.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import time_machine

from shortvid_assets.assets.publishing import approval_problem, published_video
from shortvid_assets.clients.youtube_publish import YouTubePublisher
from shortvid_assets.domain.files import file_sha256
from shortvid_assets.partitions import date_theme_key
from shortvid_assets.resources.publishing import (
    DisabledPublisher,
    LocalFolderPublisher,
    YouTubePublisherResource,
    next_publish_time,
)
from shortvid_assets.storage import generation_log, publications
from shortvid_assets_tests.fakes.youtube_publish import upload_limit_exceeded

from .conftest import (
    CLIENT_SECRET,
    DAY,
    REFRESH_TOKEN,
    THEME,
    VIDEO_BYTES,
    Site,
    write_render,
    youtube_publisher,
)

PARTITION = str(date_theme_key(DAY, THEME))


def publish(site: Site, **overrides) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [published_video],
        partition_key=PARTITION,
        instance=site.instance,
        resources=site.resources(**overrides),
        raise_on_error=False,
    )


def metadata_of(result: dg.ExecuteInProcessResult) -> dict:
    event = result.asset_materializations_for_node("published_video")[0]
    return {k: v.value for k, v in event.metadata.items()}


def failure_of(result: dg.ExecuteInProcessResult) -> str:
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return failures[0].step_failure_data.user_failure_data.description


def publication(site: Site) -> publications.Publication | None:
    conn = site.connect()
    try:
        return publications.publication_for(conn, DAY, THEME, "youtube")
    finally:
        conn.close()


def ledger(site: Site) -> list[generation_log.GenerationRecord]:
    conn = site.connect()
    try:
        generation_log.ensure_schema(conn)
        return [
            g
            for g in generation_log.list_generations(conn, date=DAY, theme=THEME)
            if g.asset == "published_video"
        ]
    finally:
        conn.close()


def test_the_approved_render_is_uploaded_once_with_honest_metadata(site, approved):
    result = publish(site)
    assert result.success, failure_of(result)
    meta = metadata_of(result)
    [video] = site.fake.videos.values()
    assert video.content == Path(site.paths.artifacts.review_file("approved", DAY, THEME, "mp4")).read_bytes()
    status, snippet = video.resource["status"], video.resource["snippet"]
    assert status["privacyStatus"] == "private" and status["selfDeclaredMadeForKids"] is False
    assert status["containsSyntheticMedia"] is True  # the voice is synthetic speech
    assert f"shortvid:{approved[:16]}" in snippet["description"] and "publishAt" not in status
    video_id = video.resource["id"]
    assert site.fake.thumbnails[video_id].startswith(b"\xff\xd8")
    assert meta["status"] == "published" and meta["action"] == "uploaded" and meta["video_id"] == video_id
    assert meta["url"] == f"https://www.youtube.com/shorts/{video_id}" and meta["video_sha256"] == approved
    assert meta["quota_units"] == {"videos.insert": 1, "default": 50}  # the insert and thumbnails.set
    assert not any("upload_id" in str(value) for value in meta.values())  # the session URI is a credential
    logged = " ".join(str(e.message) for e in result.all_events) + str(meta)
    for secret in (REFRESH_TOKEN, CLIENT_SECRET, *site.fake.issued_tokens):
        assert secret not in logged
    row = publication(site)
    assert (row.status, row.remote_id, row.video_sha256, row.session_uri) == (
        "published",
        video_id,
        approved,
        None,
    )
    assert row.features["hook_pattern"] and row.features["language"] == "en"
    [entry] = ledger(site)
    assert entry.status == "succeeded" and entry.calls[0]["units"] == {"videos.insert": 1, "default": 50}

    again = publish(site)
    assert again.success and metadata_of(again)["action"] == "already published"
    assert len(site.fake.videos) == 1 and site.fake.quota_used["videos.insert"] == 1


def test_a_rejection_before_the_upload_starts_stops_it(site, approved):
    site.decide("rejected", approved)
    result = publish(site)
    assert "not published" in failure_of(result) and "rejected" in failure_of(result)
    assert site.fake.videos == {} and site.fake.sessions == {}
    assert publication(site) is None


def test_a_rerendered_video_is_never_uploaded_under_an_older_approval(site, approved):
    write_render(site.paths, seed=8)  # re-rendered after the approval: other bytes
    message = failure_of(publish(site))
    assert "re-rendered" in message and approved[:12] in message
    assert site.fake.sessions == {}


def test_a_render_already_published_is_not_replaced_by_a_later_one(site, approved):
    assert publish(site).success
    newer = file_sha256(write_render(site.paths, seed=9))
    site.decide("approved", newer)
    message = failure_of(publish(site))
    assert "already published" in message and newer[:12] in message
    assert len(site.fake.videos) == 1


@pytest.mark.parametrize(
    ("decision", "sha", "expected"),
    [
        (None, None, "no review decision"),
        ("rejected", "a" * 64, "is rejected"),
        ("approved", None, "names no render"),
        ("approved", "b" * 64, "re-rendered"),
        ("approved", "a" * 64, None),
    ],
)
def test_approval_problem_says_why_a_render_may_not_be_uploaded(decision, sha, expected):
    from shortvid_assets.storage.review_decisions import ReviewDecision

    row = None
    if decision:
        row = ReviewDecision(id=3, partition_date=DAY, theme=THEME, video_path="v.mp4", video_sha256=sha,
                             decision=decision, reviewer="maya", note=None,
                             decided_at=datetime(2026, 11, 25, tzinfo=UTC), created_xid=1)  # fmt: skip
    problem = approval_problem(row, "a" * 64)
    assert (problem is None) if expected is None else (expected in problem)


def test_publishing_off_refuses_in_one_line(site, approved):
    message = failure_of(publish(site, publisher=DisabledPublisher()))
    assert "SHORTVID_PUBLISH=off" in message and "\n" not in message
    assert site.fake.requests == []


def test_quota_and_upload_limit_errors_stop_at_once_with_the_apis_message(site, approved):
    site.fake.quota_limits["videos.insert"] = 0
    message = failure_of(publish(site))
    assert "quota" in message.lower()
    assert len(site.fake.calls("POST", "/upload/youtube/v3/videos")) == 1  # not retried
    assert publication(site).status == "failed"

    site.fake.quota_limits["videos.insert"] = 100
    site.fake.fail("POST", "/upload/youtube/v3/videos", upload_limit_exceeded())
    message = failure_of(publish(site))
    assert "exceeded the number of videos they may upload" in message
    assert len(site.fake.calls("POST", "/upload/youtube/v3/videos")) == 2
    assert [e.status for e in ledger(site)] == ["failed", "failed"]

    assert publish(site).success  # the limit lifted: the next attempt uploads
    assert len(site.fake.videos) == 1 and publication(site).attempts == 3


def test_the_daily_upload_cap_stops_further_uploads(site, approved):
    message = failure_of(publish(site, publisher=youtube_publisher(site.fake, daily_upload_cap=0)))
    assert "daily upload cap" in message and "SHORTVID_PUBLISH_DAILY_CAP" in message
    assert site.fake.sessions == {}


def test_publish_at_schedules_a_private_video(site, approved):
    with time_machine.travel(datetime(2026, 12, 3, 16, 45, tzinfo=UTC), tick=True):
        result = publish(site, publisher=youtube_publisher(site.fake, publish_at="17:00"))
    assert result.success, failure_of(result)
    [video] = site.fake.videos.values()
    assert video.resource["status"]["publishAt"] == "2026-12-04T17:00:00.000Z"  # 15 minutes is too close
    assert metadata_of(result)["publish_at"].startswith("2026-12-04T17:00")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-12-03T10:00", "2026-12-03T17:00"),
        ("2026-12-03T16:45", "2026-12-04T17:00"),
        ("2026-12-03T17:30", "2026-12-04T17:00"),
    ],
)
def test_next_publish_time_is_the_next_slot_at_least_half_an_hour_ahead(now, expected):
    start = datetime.fromisoformat(now).replace(tzinfo=UTC)
    assert next_publish_time("17:00", start) == datetime.fromisoformat(expected).replace(tzinfo=UTC)
    with pytest.raises(ValueError, match="HH:MM"):
        next_publish_time("5pm", start)


class CrashAfterUpload(Exception):
    """The process dies after the platform stored the whole video, before the row heard of it."""


class DiesAfterUpload:
    """The real client, except that the process "dies" right after an upload completes."""

    def __init__(self, client: YouTubePublisher) -> None:
        self._client = client

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    def upload(self, session, path, **kwargs):
        self._client.upload(session, path, **kwargs)
        raise CrashAfterUpload


class DyingPublisher(YouTubePublisherResource):
    @contextlib.contextmanager
    def platform(self):
        with super().platform() as client:
            yield DiesAfterUpload(client)


def test_a_crash_after_the_upload_finished_finds_the_video_instead_of_uploading_again(site, approved):
    dying = DyingPublisher(**youtube_publisher(site.fake).model_dump())
    assert not publish(site, publisher=dying).success
    assert publication(site).status == "uploading" and len(site.fake.videos) == 1
    site.fake.sessions.clear()  # the session expired meanwhile: only the marker finds the video

    result = publish(site)
    assert result.success, failure_of(result)
    assert metadata_of(result)["action"] == "found by marker"
    assert len(site.fake.videos) == 1 and site.fake.quota_used["videos.insert"] == 1
    assert publication(site).remote_id == next(iter(site.fake.videos))


def test_the_local_folder_publisher_runs_the_same_protocol_offline(site, approved, tmp_path):
    local = LocalFolderPublisher(folder=str(tmp_path / "published"))
    result = publish(site, publisher=local)
    assert result.success, failure_of(result)
    meta = metadata_of(result)
    published = tmp_path / "published" / "videos" / f"{meta['video_id']}.mp4"
    assert published.stat().st_size == VIDEO_BYTES and meta["platform"] == "local"
    assert publish(site, publisher=local).success
    assert len(list((tmp_path / "published" / "videos").glob("*.mp4"))) == 1
