"""Protects publishing to YouTube: resumable uploads that survive dropped connections, 5xx, expired tokens
and crashes without ever uploading twice or restarting from byte 0; quota and upload-limit errors that are
never retried; own videos found again by their marker; statistics batched 50 ids a call; Analytics that
says "not available" without its scope; and no access token in a log line or an exception.

The real client runs over HTTP against a local fake Google that checks the protocol (a chunk must start
where the server's bytes end, non-final chunks are multiples of 256 KiB) and stores what arrives.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shortvid_assets.clients.google_api import QuotaExceededError, UploadLimitExceededError
from shortvid_assets.clients.google_oauth import GoogleOAuthCredentials
from shortvid_assets.clients.http import ApiError
from shortvid_assets.clients.publishing import PublishingPlatform, UploadSession
from shortvid_assets.clients.youtube_publish import (
    CHUNK_UNIT,
    UploadSessionExpiredError,
    YouTubePublisher,
    confirmed_bytes,
    video_resource,
)
from shortvid_assets.domain.publishing import UploadMetadata
from shortvid_assets_tests.fakes.server import Response
from shortvid_assets_tests.fakes.youtube import google_error
from shortvid_assets_tests.fakes.youtube_publish import (
    SCOPE_READONLY,
    SCOPE_UPLOAD,
    ChunkFault,
    FakeGooglePublishing,
    quota_exceeded,
    server_error,
    upload_limit_exceeded,
)

CLIENT_ID = "1234-fake.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-client-secret-0123"
REFRESH_TOKEN = "1//fake-refresh-token-abcdef"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
MARKER = "shortvid:0123456789abcdef"
SIZE = 3 * CHUNK_UNIT + CHUNK_UNIT // 2  # four chunks of 256 KiB, the last one half


class Sleeper:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Crash(Exception):
    """The process dies mid-upload."""


@pytest.fixture
def fake():
    with FakeGooglePublishing(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN
    ) as server:
        yield server


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "approved.mp4"
    path.write_bytes(random.Random(7).randbytes(SIZE))
    return path


def make_publisher(
    fake: FakeGooglePublishing, sleeper: Sleeper | None = None, **kwargs: Any
) -> YouTubePublisher:
    creds = GoogleOAuthCredentials(CLIENT_ID, CLIENT_SECRET, kwargs.pop("refresh_token", REFRESH_TOKEN),
                                   token_url=fake.token_url, clock=lambda: NOW, sleep=Sleeper())  # fmt: skip
    options: dict[str, Any] = {"chunk_size": CHUNK_UNIT, "timeout_s": 5.0, "max_retries": 3} | kwargs
    return YouTubePublisher(
        creds,
        api_base_url=fake.api_base_url,
        upload_base_url=fake.upload_base_url,
        analytics_base_url=fake.analytics_base_url,
        clock=lambda: NOW,
        sleep=sleeper or Sleeper(),
        **options,
    )


def metadata(**overrides: Any) -> UploadMetadata:
    values: dict[str, Any] = {
        "title": "Three desk tricks #shorts",
        "description": f"Tidy desk, tidy mind.\n\n#desk #tips\n\n{MARKER}",
        "tags": [MARKER, "desk", "tips"],
        "contains_synthetic_media": True,
        "marker": MARKER,
        "privacy_status": "private",
        "publish_at": datetime(2026, 12, 4, 17, 0, tzinfo=UTC),
    }
    return UploadMetadata(**(values | overrides))


def ranges(fake: FakeGooglePublishing) -> list[str]:
    return [r.headers["content-range"] for r in fake.calls("PUT", "/upload/youtube/v3/videos")]


# --- the happy path ------------------------------------------------------------------------------------


def test_chunked_upload_assembles_the_exact_bytes(fake, video):
    progress: list[tuple[int, int]] = []
    with make_publisher(fake) as publisher:
        assert isinstance(publisher, PublishingPlatform)
        session = publisher.start(metadata(), size=SIZE)
        assert fake.chunk_puts() == []  # the session exists before any byte is sent
        result = publisher.upload(
            session, video, on_progress=lambda done, total: progress.append((done, total))
        )

    assert fake.videos[result.video_id].content == video.read_bytes()
    assert (result.platform, result.url) == ("youtube", f"https://www.youtube.com/shorts/{result.video_id}")
    assert result.privacy_status == "private" and result.upload_status == "uploaded"
    assert ranges(fake) == [
        f"bytes 0-{CHUNK_UNIT - 1}/{SIZE}",
        f"bytes {CHUNK_UNIT}-{2 * CHUNK_UNIT - 1}/{SIZE}",
        f"bytes {2 * CHUNK_UNIT}-{3 * CHUNK_UNIT - 1}/{SIZE}",
        f"bytes {3 * CHUNK_UNIT}-{SIZE - 1}/{SIZE}",
    ]
    assert [done for done, _ in progress] == [CHUNK_UNIT, 2 * CHUNK_UNIT, 3 * CHUNK_UNIT, SIZE]
    assert result.bytes_sent == SIZE and result.cost.requests == 4 and result.cost.quota_units == {}
    assert session.cost.quota_units == {"videos.insert": 1} and fake.quota_used["videos.insert"] == 1


def test_session_start_follows_the_resumable_protocol(fake, video):
    with make_publisher(fake) as publisher:
        session = publisher.start(metadata(), size=SIZE)
    start = fake.calls("POST", "/upload/youtube/v3/videos")[0]
    assert start.query == {"uploadType": "resumable", "part": "snippet,status"}
    assert start.headers["x-upload-content-length"] == str(SIZE)
    assert start.headers["x-upload-content-type"] == "video/mp4"
    assert start.headers["authorization"].startswith("Bearer ya29.")
    assert start.json() == {
        "snippet": {
            "title": "Three desk tricks #shorts",
            "description": f"Tidy desk, tidy mind.\n\n#desk #tips\n\n{MARKER}",
            "tags": [MARKER, "desk", "tips"],
            "categoryId": "22",
            "defaultLanguage": "en",
        },
        "status": {
            "privacyStatus": "private",
            "selfDeclaredMadeForKids": False,
            "containsSyntheticMedia": True,
            "publishAt": "2026-12-04T17:00:00.000Z",
        },
    }
    assert session.session_uri.startswith(fake.upload_base_url) and "upload_id=" in session.session_uri
    assert (session.total_bytes, session.marker, session.started_at) == (SIZE, MARKER, NOW)


def test_publish_hands_over_the_session_before_the_first_byte(fake, video):
    seen: list[tuple[UploadSession, int]] = []
    with make_publisher(fake) as publisher:
        result = publisher.publish(
            metadata(), video, on_session=lambda s: seen.append((s, len(fake.chunk_puts())))
        )
    assert len(seen) == 1 and seen[0][1] == 0
    assert fake.videos[result.video_id].content == video.read_bytes()


# --- faults during the upload ------------------------------------------------------------------------------


def test_dropped_connection_mid_chunk_resumes_from_the_servers_range(fake, video):
    fake.chunk_faults = [ChunkFault("ok"), ChunkFault("drop", store_bytes=1000)]
    sleeper = Sleeper()
    with make_publisher(fake, sleeper) as publisher:
        result = publisher.upload(publisher.start(metadata(), size=SIZE), video)

    assert fake.videos[result.video_id].content == video.read_bytes()
    held = CHUNK_UNIT + 1000
    assert ranges(fake)[:4] == [
        f"bytes 0-{CHUNK_UNIT - 1}/{SIZE}",
        f"bytes {CHUNK_UNIT}-{2 * CHUNK_UNIT - 1}/{SIZE}",  # dropped after 1000 bytes were stored
        f"bytes */{SIZE}",  # how far did you get?
        f"bytes {held}-{held + CHUNK_UNIT - 1}/{SIZE}",  # from the server's Range, not from 0
    ]
    # Only what the server did not keep was sent again.
    assert result.bytes_sent == SIZE + (CHUNK_UNIT - 1000)
    assert len(fake.status_queries()) == 1 and sleeper.waits == [1.0]
    assert len(fake.videos) == 1


def test_5xx_on_a_chunk_queries_the_status_and_resumes(fake, video):
    fake.chunk_faults = [ChunkFault("ok"), ChunkFault("ok"), ChunkFault("status", response=server_error(503))]
    with make_publisher(fake) as publisher:
        result = publisher.upload(publisher.start(metadata(), size=SIZE), video)
    assert fake.videos[result.video_id].content == video.read_bytes()
    assert ranges(fake)[3:5] == [f"bytes */{SIZE}", f"bytes {2 * CHUNK_UNIT}-{3 * CHUNK_UNIT - 1}/{SIZE}"]
    assert len(fake.status_queries()) == 1


def test_expired_token_mid_upload_is_refreshed_once_and_the_chunk_sent_again(fake, video):
    fake.chunk_faults = [ChunkFault("ok"), ChunkFault("unauthorized")]
    with make_publisher(fake) as publisher:
        result = publisher.upload(publisher.start(metadata(), size=SIZE), video)
    assert fake.videos[result.video_id].content == video.read_bytes()
    assert len(fake.token_calls()) == 2
    puts = fake.chunk_puts()
    assert puts[1].headers["authorization"] != puts[2].headers["authorization"]
    assert puts[1].headers["content-range"] == puts[2].headers["content-range"]
    assert fake.status_queries() == []


def test_a_token_rejected_twice_fails(fake, video):
    fake.chunk_faults = [ChunkFault("unauthorized"), ChunkFault("unauthorized")]
    with make_publisher(fake) as publisher, pytest.raises(ApiError, match="publish auth") as caught:
        publisher.upload(publisher.start(metadata(), size=SIZE), video)
    assert caught.value.status_code == 401 and len(fake.token_calls()) == 2


def test_gives_up_after_max_retries_without_progress_and_keeps_the_session(fake, video):
    fake.chunk_faults = [ChunkFault("status", response=server_error(500))] * 3
    with make_publisher(fake, max_retries=2) as publisher, pytest.raises(ApiError, match="resume") as caught:
        publisher.upload(publisher.start(metadata(), size=SIZE), video)
    assert caught.value.attempts == 3 and fake.videos == {}


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (quota_exceeded(), QuotaExceededError),
        (upload_limit_exceeded(400), UploadLimitExceededError),
        (upload_limit_exceeded(403), UploadLimitExceededError),
    ],
)
def test_quota_and_upload_limit_are_not_retried(fake, video, fault, error):
    fake.fail("POST", "/upload/youtube/v3/videos", fault)
    sleeper = Sleeper()
    with make_publisher(fake, sleeper) as publisher, pytest.raises(error) as caught:
        publisher.start(metadata(), size=SIZE)
    assert len(fake.calls("POST", "/upload/youtube/v3/videos")) == 1 and sleeper.waits == []
    assert caught.value.api_message and "<a" not in caught.value.api_message
    assert caught.value.api_message in str(caught.value)


def test_rate_limit_is_retried(fake, video):
    rate_limited = Response(
        403, google_error(403, "Rate limit exceeded.", "rateLimitExceeded", "youtube.quota")
    )
    fake.fail("POST", "/upload/youtube/v3/videos", rate_limited)
    with make_publisher(fake) as publisher:
        session = publisher.start(metadata(), size=SIZE)
    assert len(fake.calls("POST", "/upload/youtube/v3/videos")) == 2
    assert session.cost.quota_units == {"videos.insert": 2}  # every attempt is billed


# --- crash and resume ------------------------------------------------------------------------------------


def test_a_persisted_session_is_resumed_by_a_fresh_client_with_exactly_one_video(fake, video):
    def crash_after_two_chunks(done: int, total: int) -> None:
        if done >= 2 * CHUNK_UNIT:
            raise Crash

    with make_publisher(fake) as first:
        stored = first.start(metadata(), size=SIZE).model_dump_json()  # the publications row
        with pytest.raises(Crash):
            first.upload(UploadSession.model_validate_json(stored), video, on_progress=crash_after_two_chunks)
    assert fake.videos == {} and len(fake.chunk_puts()) == 2

    with make_publisher(fake) as second:  # a new process: new credentials, new token
        result = second.resume(UploadSession.model_validate_json(stored), video)
        assert ranges(fake)[2:4] == [f"bytes */{SIZE}", f"bytes {2 * CHUNK_UNIT}-{3 * CHUNK_UNIT - 1}/{SIZE}"]
        assert result.bytes_sent == SIZE - 2 * CHUNK_UNIT
        # Resuming a session that completed (the crash came after the last chunk) returns the same video.
        again = second.resume(UploadSession.model_validate_json(stored), video)
    assert again.video_id == result.video_id and again.bytes_sent == 0
    assert list(fake.videos) == [result.video_id]
    assert fake.videos[result.video_id].content == video.read_bytes()
    assert fake.quota_used["videos.insert"] == 1


def test_an_expired_session_says_to_look_for_the_video_first(fake, video):
    with make_publisher(fake) as publisher:
        session = publisher.start(metadata(), size=SIZE)
        fake.sessions.clear()
        with pytest.raises(UploadSessionExpiredError, match="find_by_marker"):
            publisher.resume(session, video)


def test_a_changed_file_is_refused(fake, video):
    with make_publisher(fake) as publisher:
        session = publisher.start(metadata(), size=SIZE + 1)
        with pytest.raises(ValueError, match="changed"):
            publisher.upload(session, video)
    assert fake.chunk_puts() == []


# --- finding own videos, thumbnails, statistics ------------------------------------------------------------


def test_find_by_marker_scans_the_uploads_playlist_page_by_page(fake):
    fake.add_video("marked01", title="Old one", description=f"text\n\n{MARKER}", privacy="private")
    for index in range(120):
        fake.add_video(f"other{index:03d}", description=f"shortvid:{index:016x}")
    with make_publisher(fake) as publisher:
        found = publisher.find_by_marker(MARKER)
        missing = publisher.find_by_marker("shortvid:ffffffffffffffff")
    assert found.video is not None and found.video.video_id == "marked01"
    assert found.video.privacy_status == "private" and found.scanned == 121
    assert found.cost.requests == 4 and found.cost.quota_units == {"default": 4}  # channels + 3 pages
    assert missing.video is None and missing.scanned == 121
    assert len(fake.calls("GET", "/youtube/v3/channels")) == 1  # the uploads playlist id is cached


def test_find_by_marker_finds_a_video_just_uploaded(fake, video):
    with make_publisher(fake) as publisher:
        uploaded = publisher.upload(publisher.start(metadata(), size=SIZE), video)
        found = publisher.find_by_marker(MARKER)
    assert found.video is not None and found.video.video_id == uploaded.video_id and found.scanned == 1


def test_set_thumbnail_sends_the_image_bytes(fake, tmp_path):
    fake.add_video("vid1")
    image = tmp_path / "thumb.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(200)))
    with make_publisher(fake) as publisher:
        result = publisher.set_thumbnail("vid1", image)
    call = fake.calls("POST", "/upload/youtube/v3/thumbnails/set")[0]
    assert call.query == {"videoId": "vid1"} and call.headers["content-type"] == "image/png"
    assert fake.thumbnails["vid1"] == image.read_bytes()
    assert result.urls["high"] == "https://i.ytimg.com/vi/vid1/high.jpg"
    assert result.cost.quota_units == {"default": 50}


def test_statistics_are_batched_50_ids_a_call_with_hidden_counts_as_none(fake):
    ids = [f"v{index:03d}" for index in range(118)]
    for index, video_id in enumerate(ids):
        fake.add_video(video_id, views=index * 10, likes=None if index == 5 else index, comments=index % 3)
    with make_publisher(fake) as publisher:
        batch = publisher.statistics([*ids, "gone1", "gone2", "v000"])  # 120 distinct ids
    calls = fake.calls("GET", "/youtube/v3/videos")
    assert [len(c.query["id"].split(",")) for c in calls] == [50, 50, 20]
    assert all(c.query["part"] == "statistics" for c in calls)
    by_id = {s.video_id: s for s in batch.statistics}
    assert len(by_id) == 118 and batch.missing_ids == ["gone1", "gone2"]
    assert (by_id["v005"].views, by_id["v005"].likes, by_id["v005"].comments) == (50, None, 2)
    assert by_id["v007"].likes == 7
    assert batch.cost.requests == 3 and batch.cost.quota_units == {"default": 3}


# --- YouTube Analytics -------------------------------------------------------------------------------------


def test_analytics_rows_by_video(fake):
    fake.add_video("a1", analytics={"views": 900, "averageViewDuration": 21, "averageViewPercentage": 74.5,
                                    "engagedViews": 610})  # fmt: skip
    fake.add_video("a2")  # no data yet: no row
    with make_publisher(fake) as publisher:
        report = publisher.analytics(["a1", "a2"], start_date=date(2026, 11, 1), end_date=date(2026, 12, 2))
    assert report.available and [r.model_dump() for r in report.rows] == [
        {"video_id": "a1", "views": 900, "average_view_duration_s": 21.0, "average_view_percentage": 74.5,
         "engaged_views": 610}
    ]  # fmt: skip
    query = fake.calls("GET", "/v2/reports")[0].query
    assert query["ids"] == "channel==MINE" and query["dimensions"] == "video"
    assert query["filters"] == "video==a1,a2"
    assert query["metrics"] == "views,averageViewDuration,averageViewPercentage,engagedViews"
    assert (query["startDate"], query["endDate"]) == ("2026-11-01", "2026-12-02")


def test_analytics_without_engaged_views_asks_again_without_it(fake):
    fake.reject_engaged_views = True
    fake.add_video("a1", analytics={"views": 5, "averageViewDuration": 3, "averageViewPercentage": 50.0})
    with make_publisher(fake) as publisher:
        report = publisher.analytics(["a1"], start_date=date(2026, 12, 1), end_date=date(2026, 12, 2))
    assert report.rows[0].engaged_views is None and report.rows[0].average_view_percentage == 50.0
    assert len(fake.calls("GET", "/v2/reports")) == 2


def test_analytics_without_the_scope_is_not_available_and_asks_nothing(fake):
    fake.refresh_tokens["1//no-analytics"] = (SCOPE_UPLOAD, SCOPE_READONLY)
    with make_publisher(fake, refresh_token="1//no-analytics") as publisher:
        report = publisher.analytics(["a1"], start_date=date(2026, 12, 1), end_date=date(2026, 12, 2))
    assert not report.available and "yt-analytics.readonly" in (report.reason or "")
    assert fake.calls("GET", "/v2/reports") == []


def test_analytics_403_insufficient_scope_is_not_available_not_an_error(fake):
    fake.refresh_tokens["1//no-analytics"] = (SCOPE_UPLOAD, SCOPE_READONLY)
    fake.report_scope = False  # the token answer does not say which scopes were granted
    with make_publisher(fake, refresh_token="1//no-analytics") as publisher:
        report = publisher.analytics(["a1"], start_date=date(2026, 12, 1), end_date=date(2026, 12, 2))
    assert not report.available and "insufficient" in (report.reason or "").lower()
    assert len(fake.calls("GET", "/v2/reports")) == 1 and report.cost.requests == 1


# --- secrets ----------------------------------------------------------------------------------------------


def test_tokens_never_show_in_logs_or_exceptions(fake, video, caplog):
    caplog.set_level(logging.DEBUG)
    fake.chunk_faults = [ChunkFault("unauthorized"), ChunkFault("status", response=server_error(502))]
    errors: list[str] = []
    with make_publisher(fake) as publisher:
        publisher.upload(publisher.start(metadata(), size=SIZE), video)
        fake.fail("GET", "/youtube/v3/videos", quota_exceeded())
        with pytest.raises(QuotaExceededError) as caught:
            publisher.statistics(["x"])
        errors.append(str(caught.value))
        fake.revoke_access_tokens()
        fake.refresh_tokens.clear()  # the refresh token was revoked
        with pytest.raises(Exception) as caught_auth:
            publisher.statistics(["x"])
        errors.append(str(caught_auth.value))
        errors.append(repr(publisher))
    text = caplog.text + "\n".join(errors)
    assert len(fake.issued_tokens) == 2
    for secret in (*fake.issued_tokens, REFRESH_TOKEN, CLIENT_SECRET):
        assert secret not in text


# --- pure helpers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"), [(None, 0), ("", 0), ("bytes=0-0", 1), ("bytes=0-262143", CHUNK_UNIT)]
)
def test_confirmed_bytes(header, expected):
    assert confirmed_bytes(header) == expected


def test_confirmed_bytes_refuses_an_unreadable_range():
    with pytest.raises(ValueError):
        confirmed_bytes("bytes=5-10")


def test_video_resource_leaves_out_publish_at_when_not_scheduled():
    resource = video_resource(metadata(publish_at=None, privacy_status="public"))
    assert "publishAt" not in resource["status"] and resource["status"]["privacyStatus"] == "public"


def test_chunk_size_must_be_a_multiple_of_256_kib(fake):
    with pytest.raises(ValueError, match="256 KiB"):
        make_publisher(fake, chunk_size=100_000)
