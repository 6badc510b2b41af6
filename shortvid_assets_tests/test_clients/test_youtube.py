"""Protects the live YouTube Shorts collector (TREND-2, TREND-3) against the real wire format and bad input.

The real client runs over HTTP against a local fake YouTube Data API: pagination, quota metering and
error bodies as Google sends them. Each bad-input case asserts its outcome: the item skipped with its
reason counted, a hidden count kept as unknown (None, never 0) and counted, a live broadcast kept as live, the request retried then answered, the run failed with the API's own message, or the run
stopped at the quota. The API key must never show in an exception, a log line or a URL.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shortvid_assets.clients import CollectionFailed, YouTubeShortsClient
from shortvid_assets_tests.fakes.server import Response
from shortvid_assets_tests.fakes.youtube import FakeYouTube, google_error, make_video, quota_exceeded

API_KEY = "AIzaSyFAKE-youtube-key-0123456789abcdef"
NOW = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
WINDOW = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))
IN_WINDOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Sleeper:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def fake():
    with FakeYouTube(API_KEY) as server:
        yield server


def make_client(fake: FakeYouTube, sleeper: Sleeper | None = None, **kwargs: Any) -> YouTubeShortsClient:
    options: dict[str, Any] = {"timeout_s": 2.0, "max_retries": 3, "backoff_s": 1.0} | kwargs
    return YouTubeShortsClient(
        options.pop("api_key", API_KEY),
        base_url=fake.base_url,
        clock=lambda: NOW,
        sleep=sleeper or Sleeper(),
        **options,
    )


def collect(fake: FakeYouTube, sleeper: Sleeper | None = None, **kwargs: Any):
    return make_client(fake, sleeper, **kwargs).collect(*WINDOW)


# --- the happy path ----------------------------------------------------------------------------------------


def test_collects_top_shorts_with_every_trend_field(fake):
    fake.add(
        make_video(
            "abcDEF12345",
            title="3 tricks you missed #LifeHack",
            description="Watch to the end #shorts #DIY",
            tags=["life hacks", "#Tips"],
            views=5_987_654,
            likes=4321,
            comments=99,
            duration_s=42,
            published_at=IN_WINDOW,
            channel_title="Hack Lab",
        )
    )
    fake.add_many(5, start=IN_WINDOW, prefix="other")
    result = collect(fake)

    assert [t.external_id for t in result.trends][:1] == ["abcDEF12345"]  # most viewed first
    trend = result.trends[0]
    assert trend.platform == "youtube"
    # The Data API never exposes shares: unknown, not 0.
    assert (trend.views, trend.likes, trend.comments, trend.shares) == (5_987_654, 4321, 99, None)
    assert trend.duration_s == 42.0
    assert trend.creator_name == "Hack Lab" and trend.creator_id == "UCfakechannel000000000001"
    assert trend.hashtags == ["lifehacks", "tips", "lifehack", "shorts", "diy"]
    assert trend.video_url == "https://www.youtube.com/shorts/abcDEF12345"
    assert trend.thumbnail_url == "https://i.ytimg.com/vi/abcDEF12345/hqdefault.jpg"
    assert trend.posted_at == IN_WINDOW and trend.collected_at == NOW
    assert trend.sound_name is None
    assert len(result.trends) == 6 and result.skipped == {}
    assert (result.requests, result.failed_requests, result.quota_units) == (2, 0, 101)
    assert result.stop_reason == "no_more_results" and result.source == "youtube_data_api_v3"


def test_search_parameters_and_key_header_follow_the_api(fake):
    fake.add_many(3, start=IN_WINDOW)
    collect(fake, region_code="GB", relevance_language="de")
    search = fake.calls("GET", "/youtube/v3/search")[0]
    assert search.query == {
        "part": "snippet",
        "type": "video",
        "videoDuration": "short",
        "order": "viewCount",
        "publishedAfter": "2026-03-01T00:00:00Z",
        "publishedBefore": "2026-03-02T00:00:00Z",
        "maxResults": "50",
        "regionCode": "GB",
        "relevanceLanguage": "de",
    }
    videos = fake.calls("GET", "/youtube/v3/videos")[0]
    assert videos.query["part"] == "snippet,statistics,contentDetails"
    assert videos.query["id"].split(",") == ["vid0000", "vid0001", "vid0002"]
    for request in fake.requests:
        assert request.headers["x-goog-api-key"] == API_KEY
        assert API_KEY not in request.path and API_KEY not in str(request.query)


def test_paginates_until_max_results_keeping_only_videos_under_max_duration(fake):
    # 60 long shorts rank above 80 real ones: the first page yields nothing usable.
    fake.add_many(60, start=IN_WINDOW, prefix="long", duration_s=90)
    for video in fake.videos:
        video.views += 10_000_000
    fake.add_many(80, start=IN_WINDOW, prefix="short", duration_s=20)
    result = collect(fake, max_results=50)
    assert len(result.trends) == 50
    assert all(t.external_id.startswith("short") for t in result.trends)
    assert result.skipped == {"too_long": 60}
    searches = fake.calls("GET", "/youtube/v3/search")
    assert len(searches) == 3 and searches[1].query["pageToken"] == "CAE50QAA"
    assert result.quota_units == 3 * 101 and fake.quota_used == 303
    assert result.stop_reason == "max_results"


def test_stops_at_max_search_pages(fake):
    fake.add_many(200, start=IN_WINDOW, duration_s=75)
    result = collect(fake, max_search_pages=2)
    assert result.trends == [] and result.skipped == {"too_long": 100}
    assert result.stop_reason == "max_search_pages" and len(fake.calls("GET", "/youtube/v3/search")) == 2


# --- bad items: skipped, counted, never raised -------------------------------------------------------------


def corrupt(path: str, value: Any):
    def apply(video: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        node = video
        for key in parents:
            node = node[key]
        if value is DELETE:
            node.pop(leaf)
        else:
            node[leaf] = value

    return apply


DELETE = object()

BAD_ITEMS = [
    ("negative views", corrupt("statistics.viewCount", "-5"), "negative_count"),
    ("negative likes", corrupt("statistics.likeCount", -1), "negative_count"),
    ("views not a number", corrupt("statistics.viewCount", "lots"), "invalid_count"),
    ("views a list", corrupt("statistics.viewCount", [1]), "invalid_count"),
    ("views a boolean", corrupt("statistics.viewCount", True), "invalid_count"),
    ("views absurd", corrupt("statistics.viewCount", "9" * 20), "absurd_count"),
    ("views missing", corrupt("statistics.viewCount", DELETE), "missing_views"),
    ("id missing", corrupt("id", DELETE), "missing_id"),
    ("id empty", corrupt("id", ""), "missing_id"),
    ("snippet missing", corrupt("snippet", DELETE), "missing_snippet"),
    ("snippet a string", corrupt("snippet", "oops"), "invalid_snippet"),
    ("statistics missing", corrupt("statistics", DELETE), "missing_statistics"),
    ("contentDetails missing", corrupt("contentDetails", DELETE), "missing_content_details"),
    ("duration missing", corrupt("contentDetails.duration", DELETE), "missing_duration"),
    ("duration zero, not a broadcast", corrupt("contentDetails.duration", "P0D"), "zero_duration"),
    ("upcoming broadcast", corrupt("snippet.liveBroadcastContent", "upcoming"), "upcoming_broadcast"),
    ("duration garbage", corrupt("contentDetails.duration", "about a minute"), "invalid_duration"),
    ("duration a number", corrupt("contentDetails.duration", 30), "invalid_duration"),
    ("duration huge", corrupt("contentDetails.duration", "P40D"), "absurd_duration"),
    ("duration too long", corrupt("contentDetails.duration", "PT1M"), "too_long"),
    ("posted in the future", corrupt("snippet.publishedAt", "2026-03-05T00:00:00Z"), "posted_in_future"),
    ("posted date garbage", corrupt("snippet.publishedAt", "yesterday"), "invalid_posted_at"),
    ("posted date missing", corrupt("snippet.publishedAt", DELETE), "missing_posted_at"),
    ("posted outside window", corrupt("snippet.publishedAt", "2026-02-20T00:00:00Z"), "outside_window"),
    (
        "posted before YouTube",
        corrupt("snippet.publishedAt", "1970-01-02T00:00:00Z"),
        "implausible_posted_at",
    ),
    ("channel id missing", corrupt("snippet.channelId", DELETE), "missing_creator_id"),
    ("title a number", corrupt("snippet.title", 12345), "invalid_title"),
    ("title missing", corrupt("snippet.title", DELETE), "missing_title"),
]


@pytest.mark.parametrize(("case", "damage", "reason"), BAD_ITEMS, ids=[case for case, _, _ in BAD_ITEMS])
def test_bad_item_is_skipped_with_its_reason(fake, case, damage, reason):
    fake.add_many(3, start=IN_WINDOW, prefix="good")
    bad = make_video("bad00000001", views=5_000_000, published_at=IN_WINDOW)
    damage(bad)
    fake.add(bad, published_at=IN_WINDOW, duration_s=30, views=5_000_000, video_id="bad00000001")
    result = collect(fake)
    assert sorted(t.external_id for t in result.trends) == ["good0000", "good0001", "good0002"]
    assert result.skipped == {reason: 1}, case
    assert result.stop_reason == "no_more_results"


@pytest.mark.parametrize(
    ("likes", "comments", "unknown"),
    [
        (None, 10, {"likes": 1}),
        (100, None, {"comments": 1}),
        (None, None, {"comments": 1, "likes": 1}),
        (0, 0, {}),  # a real zero stays a zero
    ],
    ids=["likes hidden", "comments disabled", "both", "real zeros"],
)
def test_hidden_likes_and_disabled_comments_are_kept_as_unknown_and_counted(fake, likes, comments, unknown):
    fake.add_many(2, start=IN_WINDOW)
    fake.add(make_video("hidden00001", likes=likes, comments=comments, published_at=IN_WINDOW))
    result = collect(fake)
    kept = {t.external_id: t for t in result.trends}
    assert (kept["hidden00001"].likes, kept["hidden00001"].comments) == (likes, comments)
    assert result.skipped == {}
    assert result.unknown_fields == unknown
    assert result.kept_with_unknown_fields == (1 if unknown else 0)


def test_a_live_broadcast_is_kept_as_live_without_a_duration(fake):
    fake.add_many(2, start=IN_WINDOW)
    fake.add(make_video("livestream1", live_broadcast="live", views=7_000, published_at=IN_WINDOW))
    result = collect(fake)
    assert result.skipped == {}
    live = {t.external_id: t for t in result.trends}["livestream1"]
    assert (live.content_kind, live.duration_s) == ("live", None)
    assert {t.content_kind for t in result.trends if t.external_id != "livestream1"} == {"video"}
    assert result.unknown_fields == {}  # a live broadcast's length is not missing: it has none yet


def test_posting_time_within_clock_skew_is_kept(fake):
    fake.add(make_video("skew0000001", published_at=NOW + timedelta(minutes=2)), published_at=IN_WINDOW)
    result = collect(fake)
    assert [t.external_id for t in result.trends] == ["skew0000001"]


def test_non_video_search_results_and_vanished_videos_are_counted(fake):
    fake.add_many(2, start=IN_WINDOW)
    fake.extra_search_items = [
        {"kind": "youtube#searchResult", "id": {"kind": "youtube#channel", "channelId": "UCxyz"}},
        {"kind": "youtube#searchResult", "id": {"kind": "youtube#video"}},
        "not an object",
    ]
    fake.unlisted_ids = {"vid0001"}
    result = collect(fake)
    assert [t.external_id for t in result.trends] == ["vid0000"]
    assert result.skipped == {"search_item_without_video_id": 3, "video_unavailable": 1}


def test_non_object_items_in_videos_list_are_skipped(fake):
    fake.add_many(1, start=IN_WINDOW)
    good = make_video("vid0000", published_at=IN_WINDOW)
    fake.fail(
        "GET",
        "/youtube/v3/videos",
        Response(200, {"kind": "youtube#videoListResponse", "items": [good, "x", 7, None]}),
    )
    result = collect(fake)
    assert [t.external_id for t in result.trends] == ["vid0000"]
    assert result.skipped == {"not_an_object": 3}


def test_a_video_repeated_across_pages_is_kept_once(fake):
    fake.add_many(60, start=IN_WINDOW)
    # The second page repeats the first page's top video.
    first = fake.videos[0]
    fake.fail(
        "GET",
        "/youtube/v3/search",
        Response(
            200,
            {"items": [FakeYouTube.search_item(v) for v in fake.videos[:50]], "nextPageToken": "CAE50QAA"},
        ),
        Response(
            200,
            {
                "items": [FakeYouTube.search_item(first)]
                + [FakeYouTube.search_item(v) for v in fake.videos[50:]]
            },
        ),
    )
    result = collect(fake, max_results=100)
    assert len(result.trends) == 60 and len({t.external_id for t in result.trends}) == 60
    # The repeat never reaches videos.list: it is dropped before, costing nothing.
    assert sum(len(r.query["id"].split(",")) for r in fake.calls("GET", "/youtube/v3/videos")) == 60


# --- transport trouble: retried, then answered or failed clearly -------------------------------------------


def test_429_with_retry_after_is_waited_then_retried(fake):
    fake.add_many(2, start=IN_WINDOW)
    fake.fail(
        "GET",
        "/youtube/v3/search",
        Response(
            429, google_error(429, "Too many requests", "rateLimitExceeded"), headers={"Retry-After": "2"}
        ),
    )
    sleeper = Sleeper()
    result = collect(fake, sleeper)
    assert len(result.trends) == 2
    assert sleeper.waits == [2.0]
    assert (result.requests, result.failed_requests) == (3, 1)
    assert result.quota_units == 201  # the failed attempt was billed too


def test_5xx_is_retried_with_exponential_backoff(fake):
    fake.add_many(2, start=IN_WINDOW)
    fake.fail(
        "GET",
        "/youtube/v3/videos",
        Response(500, google_error(500, "Backend Error", "backendError")),
        Response(503, raw=b"Service Unavailable"),
    )
    sleeper = Sleeper()
    result = collect(fake, sleeper, backoff_s=0.25)
    assert len(result.trends) == 2
    assert sleeper.waits == [0.25, 0.5]
    assert len(fake.calls("GET", "/youtube/v3/videos")) == 3


def test_403_rate_limit_exceeded_is_retried(fake):
    fake.add_many(1, start=IN_WINDOW)
    fake.fail(
        "GET",
        "/youtube/v3/search",
        Response(403, google_error(403, "Rate limit", "rateLimitExceeded", "youtube.quota")),
    )
    sleeper = Sleeper()
    result = collect(fake, sleeper)
    assert len(result.trends) == 1 and sleeper.waits == [1.0]


def test_slow_answer_times_out_and_is_retried(fake):
    fake.add_many(2, start=IN_WINDOW)
    fake.fail("GET", "/youtube/v3/search", Response(200, {"items": []}, delay_s=1.5))
    sleeper = Sleeper()
    result = collect(fake, sleeper, timeout_s=0.3)
    assert len(result.trends) == 2
    assert result.failed_requests == 1 and sleeper.waits == [1.0]


def test_truncated_json_is_retried(fake):
    fake.add_many(2, start=IN_WINDOW)
    fake.fail(
        "GET",
        "/youtube/v3/videos",
        Response(200, raw=b'{"kind": "youtube#videoListResponse", "items": [{"id"'),
    )
    result = collect(fake)
    assert len(result.trends) == 2 and result.failed_requests == 1


def test_dropped_connection_is_retried(fake):
    fake.add_many(2, start=IN_WINDOW)
    fake.fail("GET", "/youtube/v3/search", Response(drop=True))
    result = collect(fake)
    assert len(result.trends) == 2 and result.failed_requests == 1


def test_persistent_5xx_fails_the_run_with_the_api_message(fake):
    fake.add_many(2, start=IN_WINDOW)
    fake.fail(
        "GET",
        "/youtube/v3/search",
        *[Response(503, google_error(503, "The service is currently unavailable.", "backendError"))] * 9,
    )
    sleeper = Sleeper()
    with pytest.raises(CollectionFailed) as caught:
        collect(fake, sleeper, max_retries=2)
    message = str(caught.value)
    assert "every request failed" in message and "HTTP 503 (backendError)" in message
    assert "The service is currently unavailable." in message and "gave up after 3 attempts" in message
    assert len(fake.calls("GET", "/youtube/v3/search")) == 3 and sleeper.waits == [1.0, 2.0]


def test_invalid_key_fails_at_once_with_the_api_message_and_no_key(fake):
    fake.add_many(2, start=IN_WINDOW)
    wrong_key = "AIzaSyWRONG-key-999999999999999999999"
    with pytest.raises(CollectionFailed) as caught:
        collect(fake, api_key=wrong_key)
    assert "API key not valid. Please pass a valid API key." in str(caught.value)
    assert "HTTP 400" in str(caught.value)
    assert wrong_key not in str(caught.value) and wrong_key not in repr(caught.value.__cause__)
    assert len(fake.requests) == 1


def test_quota_exceeded_on_the_first_request_fails_without_retry(fake):
    fake.add_many(2, start=IN_WINDOW)
    fake.quota_limit = 0
    sleeper = Sleeper()
    with pytest.raises(CollectionFailed) as caught:
        collect(fake, sleeper)
    assert "quotaExceeded" in str(caught.value)
    assert "you have exceeded your quota." in str(caught.value) and "<a href" not in str(caught.value)
    assert len(fake.requests) == 1 and sleeper.waits == []


def test_quota_exceeded_mid_run_keeps_what_was_collected(fake):
    fake.add_many(120, start=IN_WINDOW, duration_s=20)
    for video in fake.videos[:50]:
        video.duration_s = 90
        video.resource["contentDetails"]["duration"] = "PT1M30S"
    fake.fail(
        "GET",
        "/youtube/v3/search",
        Response(
            200,
            {"items": [FakeYouTube.search_item(v) for v in fake.videos[:50]], "nextPageToken": "CAE50QAA"},
        ),
        Response(
            200,
            {"items": [FakeYouTube.search_item(v) for v in fake.videos[50:60]], "nextPageToken": "CAE100QAA"},
        ),
        quota_exceeded(),
    )
    result = collect(fake, max_results=50)
    assert len(result.trends) == 10
    assert result.stop_reason == "quota_exceeded"
    assert len(result.errors) == 1 and "quotaExceeded" in result.errors[0]
    assert len(fake.calls("GET", "/youtube/v3/search")) == 3


def test_quota_budget_stops_cleanly_before_it_is_exceeded(fake):
    fake.add_many(120, start=IN_WINDOW, duration_s=90)  # nothing qualifies: it would page on
    result = collect(fake, daily_quota_budget=250)
    assert result.quota_units == 202 and result.quota_units <= 250
    assert result.stop_reason == "quota_budget" and result.errors == []
    assert len(fake.calls("GET", "/youtube/v3/search")) == 2


def test_quota_budget_too_small_for_one_page_sends_nothing(fake):
    fake.add_many(3, start=IN_WINDOW)
    result = collect(fake, daily_quota_budget=100)
    assert result.trends == [] and result.requests == 0 and result.quota_units == 0
    assert result.stop_reason == "quota_budget"


def test_retries_never_spend_beyond_the_budget(fake):
    fake.add_many(3, start=IN_WINDOW)
    fake.fail("GET", "/youtube/v3/search", *[Response(500, {})] * 3)
    result = collect(fake, daily_quota_budget=250)
    # Two billed search attempts fit in 250 units; the third would not, so the run stops clean.
    assert len(fake.calls("GET", "/youtube/v3/search")) == 2
    assert result.quota_units == 200 and result.stop_reason == "quota_budget" and result.trends == []


@pytest.mark.parametrize(
    "body",
    [{"items": "not a list"}, ["an", "array"], {"items": None}],
    ids=["items-not-a-list", "array-body", "items-null"],
)
def test_search_response_of_the_wrong_shape_fails_the_run(fake, body):
    fake.fail("GET", "/youtube/v3/search", Response(200, body))
    with pytest.raises(CollectionFailed) as caught:
        collect(fake)
    assert "search.list" in str(caught.value)


def test_videos_response_of_the_wrong_shape_after_a_good_search_fails_with_no_trends(fake):
    fake.add_many(2, start=IN_WINDOW)
    fake.fail("GET", "/youtube/v3/videos", Response(200, [1, 2, 3]))
    with pytest.raises(CollectionFailed) as caught:
        collect(fake)
    assert "produced no trends" in str(caught.value) and "videos.list" in str(caught.value)


def test_an_empty_window_returns_no_trends_without_error(fake):
    result = collect(fake)
    assert result.trends == [] and result.errors == [] and result.stop_reason == "no_more_results"


def test_window_must_be_aware_and_ordered(fake):
    client = make_client(fake)
    with pytest.raises(ValueError, match="timezone-aware"):
        client.collect(datetime(2026, 3, 1), datetime(2026, 3, 2))
    with pytest.raises(ValueError, match="must be after"):
        client.collect(WINDOW[1], WINDOW[0])
    with pytest.raises(ValueError, match="api_key is empty"):
        YouTubeShortsClient("  ")
    assert fake.requests == []


def test_the_key_never_appears_in_logs_exceptions_or_repr(fake, caplog):
    caplog.set_level(logging.DEBUG)
    fake.add_many(2, start=IN_WINDOW)
    fake.fail(
        "GET",
        "/youtube/v3/search",
        Response(500, google_error(500, f"echo {API_KEY}", "backendError")),
        Response(200, {"items": []}, delay_s=1.0),
    )
    client = make_client(fake, timeout_s=0.3)
    result = client.collect(*WINDOW)
    assert len(result.trends) == 2
    fake.quota_limit = 0
    with pytest.raises(CollectionFailed) as caught:
        client.collect(*WINDOW)
    assert API_KEY not in str(caught.value) and API_KEY not in repr(client)
    assert API_KEY not in caplog.text and "***" in caplog.text
    assert all(API_KEY not in " ".join(r.errors) for r in [result])
