"""Protects the live TikTok collector over Apify (TREND-1, TREND-3) against the real wire format and bad input.

The real client runs over HTTP against a local fake Apify API: a run started, polled through its statuses,
and its dataset read page by page (pages may come back shorter than asked). Each bad-input case asserts
its outcome: the item skipped with its reason counted, the item kept with a missing field unknown (None,
never 0) and counted, the request retried then answered, the run failed with Apify's own message or status,
or the wait bounded. The token must never show in an exception, a log line or a URL.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shortvid_assets.clients import ApifyTikTokClient, CollectionFailed
from shortvid_assets_tests.fakes.apify import FakeApify, apify_error, make_tiktok_item
from shortvid_assets_tests.fakes.server import Response

TOKEN = "apify_api_FAKEtoken0123456789abcdefABCDEF"
NOW = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
WINDOW = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))
RUN = r"/v2/actor-runs/[^/]+"
ITEMS = r"/v2/datasets/[^/]+/items"
START = r"/v2/acts/[^/]+/runs"


class Sleeper:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def good_items(count: int, prefix: str = "73") -> list[dict[str, Any]]:
    return [make_tiktok_item(f"{prefix}{index:017d}", views=10_000_000 - index) for index in range(count)]


@pytest.fixture
def fake():
    with FakeApify(TOKEN, items=good_items(5)) as server:
        yield server


def make_client(fake: FakeApify, sleeper: Sleeper | None = None, **kwargs: Any) -> ApifyTikTokClient:
    options: dict[str, Any] = {
        "timeout_s": 2.0,
        "max_retries": 3,
        "backoff_s": 1.0,
        "poll_interval_s": 5,
        "max_wait_s": 600,
    } | kwargs
    return ApifyTikTokClient(
        options.pop("token", TOKEN),
        base_url=fake.base_url,
        clock=lambda: NOW,
        sleep=sleeper or Sleeper(),
        **options,
    )


def collect(fake: FakeApify, sleeper: Sleeper | None = None, **kwargs: Any):
    return make_client(fake, sleeper, **kwargs).collect(*WINDOW)


# --- the happy path ----------------------------------------------------------------------------------------


def test_runs_the_actor_polls_and_normalizes_every_trend_field(fake):
    fake.items = [
        make_tiktok_item(
            "7340000000000000001",
            text="POV: your cat runs the house\nmore below #catsoftiktok #POV",
            author="kittyboss",
            views=2_300_000,
            likes=410_000,
            comments=3_200,
            shares=15_000,
            duration_s=17.4,
            posted_at=datetime(2026, 3, 1, 8, 15, tzinfo=UTC),
            music="Monkeys Spinning Monkeys",
            hashtags=["catsoftiktok", "pov", "fyp"],
        )
    ]
    sleeper = Sleeper()
    result = collect(fake, sleeper)

    (trend,) = result.trends
    assert trend.platform == "tiktok" and trend.external_id == "7340000000000000001"
    assert trend.title == "POV: your cat runs the house"
    assert trend.description.endswith("#catsoftiktok #POV")
    assert trend.hashtags == ["catsoftiktok", "pov", "fyp"]
    assert (trend.views, trend.likes, trend.comments, trend.shares) == (2_300_000, 410_000, 3_200, 15_000)
    assert trend.duration_s == 17.4
    assert trend.creator_name == "Kittyboss" and trend.creator_id.startswith("68")
    assert trend.sound_name == "Monkeys Spinning Monkeys"
    assert trend.video_url == "https://www.tiktok.com/@kittyboss/video/7340000000000000001"
    assert trend.thumbnail_url == "https://p16-sign.tiktokcdn.com/obj/7340000000000000001.jpeg"
    assert trend.posted_at == datetime(2026, 3, 1, 8, 15, tzinfo=UTC) and trend.collected_at == NOW

    # start, two polls (RUNNING, SUCCEEDED), one dataset page
    assert [(r.method, r.path) for r in fake.requests] == [
        ("POST", "/v2/acts/clockworks~tiktok-scraper/runs"),
        ("GET", "/v2/actor-runs/run0000000000001"),
        ("GET", "/v2/actor-runs/run0000000000001"),
        ("GET", "/v2/datasets/ds0000000000000001/items"),
    ]
    assert sleeper.waits == [5, 5]
    assert fake.run_inputs == [{"hashtags": ["fyp"], "resultsPerPage": 50}]
    assert fake.calls("GET", ITEMS)[0].query == {
        "offset": "0",
        "limit": "100",
        "clean": "true",
        "format": "json",
    }
    for request in fake.requests:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in request.path and TOKEN not in str(request.query)
    assert (result.requests, result.failed_requests, result.quota_units) == (4, 0, 0)
    assert result.source == "apify:clockworks~tiktok-scraper" and result.stop_reason == "no_more_items"


def test_custom_actor_and_input_are_sent_as_given(fake):
    fake.actor_id = "someone~tiktok-trends"
    result = collect(fake, actor_id="someone/tiktok-trends", run_input={"searchQueries": ["skincare"]})
    assert len(result.trends) == 5
    assert fake.run_inputs == [{"searchQueries": ["skincare"]}]


def test_reads_dataset_pages_until_max_items(fake):
    fake.items = good_items(450)
    result = collect(fake, max_items=150, page_size=100)
    assert len(result.trends) == 150 and result.stop_reason == "max_items"
    assert [(r.query["offset"], r.query["limit"]) for r in fake.calls("GET", ITEMS)] == [
        ("0", "100"),
        ("100", "100"),
    ]


def test_a_total_header_that_reads_zero_does_not_stop_the_read(fake):
    fake.items = good_items(30)
    fake.total_header = 0
    result = collect(fake, page_size=10)
    assert len(result.trends) == 30
    assert len(fake.calls("GET", ITEMS)) == 4  # 3 full pages and an empty one


def test_the_total_header_saves_the_last_empty_request(fake):
    fake.items = good_items(20)
    result = collect(fake, page_size=10)
    assert len(result.trends) == 20 and len(fake.calls("GET", ITEMS)) == 2


@pytest.mark.parametrize("total_header", [None, 0], ids=["total header right", "total header reads 0"])
def test_apify_pages_by_headers_when_pages_come_back_short(fake, total_header):
    # The API caps a response below the limit asked for: a 23-item page of a 60-item dataset is not the end.
    fake.items = good_items(60)
    fake.page_cap = 23
    fake.total_header = total_header
    result = collect(fake, max_items=100, page_size=100)
    assert len(result.trends) == 60 and result.stop_reason == "no_more_items"
    offsets = [int(r.query["offset"]) for r in fake.calls("GET", ITEMS)]
    assert offsets[:3] == [0, 23, 46]
    # Only an empty page (or a non-zero total reached) ends the read.
    assert len(offsets) == (3 if total_header is None else 4)


def test_apify_short_pages_still_stop_at_max_items(fake):
    fake.items = good_items(60)
    fake.page_cap = 23
    result = collect(fake, max_items=30, page_size=100)
    assert len(result.trends) == 30 and result.stop_reason == "max_items"
    assert [r.query["offset"] for r in fake.calls("GET", ITEMS)] == ["0", "23"]


def test_a_dataset_full_of_junk_is_read_only_up_to_the_scan_limit(fake):
    fake.items = [{"error": "Hashtag not found"}] * 500
    result = collect(fake, max_items=5, page_size=20)
    assert result.trends == [] and result.stop_reason == "scan_limit"
    assert result.skipped == {"scraper_error_item": 50}
    assert len(fake.calls("GET", ITEMS)) == 3


# --- bad items: skipped, counted, never raised -------------------------------------------------------------

DELETE = object()


def with_field(path: str, value: Any):
    def apply(item: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        node = item
        for key in parents:
            node = node[key]
        if value is DELETE:
            node.pop(leaf)
        else:
            node[leaf] = value

    return apply


def both_times(value: Any):
    def apply(item: dict[str, Any]) -> None:
        item["createTimeISO"] = value
        item["createTime"] = value

    return apply


BAD_ITEMS = [
    ("negative plays", with_field("playCount", -10), "negative_count"),
    ("negative shares", with_field("shareCount", -1), "negative_count"),
    ("likes as words", with_field("diggCount", "lots"), "invalid_count"),
    ("comments as a dict", with_field("commentCount", {"n": 1}), "invalid_count"),
    ("fractional plays", with_field("playCount", 12.5), "invalid_count"),
    ("absurd plays", with_field("playCount", 10**15), "absurd_count"),
    ("plays missing", with_field("playCount", DELETE), "missing_views"),
    ("id missing", with_field("id", DELETE), "missing_id"),
    ("id blank", with_field("id", "  "), "missing_id"),
    ("id a list", with_field("id", [1]), "invalid_id"),
    ("duration zero", with_field("videoMeta.duration", 0), "zero_duration"),
    ("duration negative", with_field("videoMeta.duration", -3), "zero_duration"),
    ("duration huge", with_field("videoMeta.duration", 10**7), "absurd_duration"),
    ("duration words", with_field("videoMeta.duration", "long"), "invalid_duration"),
    ("posted in the future", both_times("2026-03-09T00:00:00.000Z"), "posted_in_future"),
    ("posted time garbage", both_times("last tuesday"), "invalid_posted_at"),
    ("posted time a bool", both_times(True), "invalid_posted_at"),
    ("posted time missing", both_times(None), "missing_posted_at"),
    ("posted before TikTok", both_times("1999-01-01T00:00:00Z"), "implausible_posted_at"),
    ("no author, no url", lambda item: (item.pop("authorMeta"), item.pop("webVideoUrl")), "missing_creator"),
    ("text a number", with_field("text", 42), "invalid_text"),
    (
        "scraper error row",
        lambda item: (item.clear(), item.update(error="Video is private")),
        "scraper_error_item",
    ),
]


@pytest.mark.parametrize(("case", "damage", "reason"), BAD_ITEMS, ids=[case for case, _, _ in BAD_ITEMS])
def test_bad_item_is_skipped_with_its_reason(fake, case, damage, reason):
    bad = make_tiktok_item("7399999999999999999", views=99_000_000)
    damage(bad)
    fake.items = [*good_items(3), bad]
    result = collect(fake)
    assert len(result.trends) == 3
    assert result.skipped == {reason: 1}, case


def photo_post(item: dict[str, Any]) -> None:
    item["isSlideshow"] = True
    item.pop("videoMeta")


def zero_length_photo_post(item: dict[str, Any]) -> None:
    item["isSlideshow"] = True
    item["videoMeta"]["duration"] = 0


# (case, damage, what the kept trend holds, fields counted as unknown)
INESSENTIAL_GAPS = [
    (
        "photo post without videoMeta",
        photo_post,
        {"content_kind": "photo", "duration_s": None},
        ["duration_s"],
    ),
    (
        "photo post of length 0",
        zero_length_photo_post,
        {"content_kind": "photo", "duration_s": None},
        ["duration_s"],
    ),
    (
        "videoMeta missing",
        with_field("videoMeta", DELETE),
        {"content_kind": "video", "duration_s": None},
        ["duration_s"],
    ),
    ("likes missing", with_field("diggCount", DELETE), {"likes": None, "comments": 120}, ["likes"]),
    (
        "comments missing",
        with_field("commentCount", DELETE),
        {"comments": None, "likes": 5_000},
        ["comments"],
    ),
    ("shares missing", with_field("shareCount", DELETE), {"shares": None}, ["shares"]),
    (
        "no counts but plays",
        lambda item: [item.pop(key) for key in ("diggCount", "commentCount", "shareCount")],
        {"likes": None, "comments": None, "shares": None},
        ["comments", "likes", "shares"],
    ),
]


@pytest.mark.parametrize(
    ("case", "damage", "expected", "unknown"), INESSENTIAL_GAPS, ids=[case for case, *_ in INESSENTIAL_GAPS]
)
def test_tiktok_item_missing_an_inessential_field_is_kept_with_it_unknown_and_counted(
    fake, case, damage, expected, unknown
):
    gap = make_tiktok_item("7388888888888888888", views=99_000_000)
    damage(gap)
    fake.items = [*good_items(3), gap]
    result = collect(fake)
    assert len(result.trends) == 4 and result.skipped == {}, case
    kept = next(t for t in result.trends if t.external_id == "7388888888888888888")
    assert {name: getattr(kept, name) for name in expected} == expected
    assert result.unknown_fields == dict.fromkeys(unknown, 1)
    assert result.kept_with_unknown_fields == 1


def test_unknown_fields_are_counted_only_for_the_trends_kept(fake):
    complete = good_items(3)
    without_likes = [make_tiktok_item(f"74{i:017d}") for i in range(3)]
    for item in without_likes:
        del item["diggCount"]
    fake.items = [*complete, *without_likes]
    result = collect(fake, max_items=4, page_size=100)
    assert len(result.trends) == 4
    assert result.unknown_fields == {"likes": 1} and result.kept_with_unknown_fields == 1


def test_non_object_rows_and_duplicates_are_counted(fake):
    fake.items = [*good_items(2), "junk", 17, None, good_items(1)[0]]
    result = collect(fake)
    assert len(result.trends) == 2
    assert result.skipped == {"not_an_object": 3, "duplicate": 1}


def test_posting_time_within_clock_skew_is_kept(fake):
    fake.items = [make_tiktok_item("7300000000000000042", posted_at=NOW + timedelta(minutes=3))]
    assert len(collect(fake).trends) == 1


def test_variant_shapes_are_accepted(fake):
    nested_stats = {
        "videoId": "7311111111111111111",
        "desc": "stats nested #Dance",
        "createTime": 1772323200,  # 2026-03-01T00:00:00Z as Unix seconds
        "authorMeta": {"name": "dancer"},
        "videoMeta": {"duration": "12"},
        "stats": {"playCount": 100, "diggCount": 10, "commentCount": 1, "shareCount": 0},
    }
    flattened = {
        "id": 7322222222222222222,
        "text": "flattened export",
        "createTimeISO": "2026-03-01T10:00:00Z",
        "authorMeta.name": "flat",
        "authorMeta.nickName": "Flat Person",
        "authorMeta.id": "6800000000000000001",
        "musicMeta.musicName": "beat",
        "videoMeta.duration": 9,
        "webVideoUrl": "https://www.tiktok.com/@flat/video/7322222222222222222",
        "playCount": "2000",
    }
    fake.items = [nested_stats, flattened]
    result = collect(fake)
    assert result.skipped == {}
    by_id = {t.external_id: t for t in result.trends}
    first, second = by_id["7311111111111111111"], by_id["7322222222222222222"]
    assert (first.views, first.likes, first.duration_s, first.hashtags) == (100, 10, 12.0, ["dance"])
    assert first.posted_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert (
        first.creator_id == "dancer"
        and first.video_url == "https://www.tiktok.com/@dancer/video/7311111111111111111"
    )
    assert (second.views, second.creator_name, second.creator_id, second.sound_name) == (
        2000,
        "Flat Person",
        "6800000000000000001",
        "beat",
    )


# --- the run: statuses, waits, failures --------------------------------------------------------------------


@pytest.mark.parametrize("status", ["FAILED", "ABORTED", "TIMED-OUT"])
def test_a_run_that_ends_badly_fails_with_its_status_and_message(status):
    with FakeApify(
        TOKEN, items=good_items(3), statuses=["RUNNING", status], status_message="Crawler hit a wall"
    ) as fake:
        with pytest.raises(CollectionFailed) as caught:
            collect(fake)
        assert f"ended {status}: Crawler hit a wall" in str(caught.value)
        assert fake.calls("GET", ITEMS) == []


def test_transitional_statuses_are_polled_through(fake):
    fake.statuses = ["READY", "RUNNING", "TIMING-OUT", "TIMED-OUT"]
    sleeper = Sleeper()
    with pytest.raises(CollectionFailed, match="ended TIMED-OUT"):
        collect(fake, sleeper, poll_interval_s=2)
    assert len(fake.calls("GET", RUN)) == 3 and sleeper.waits == [2, 2, 2]


def test_a_run_that_never_finishes_is_aborted_after_max_wait(fake):
    fake.statuses = ["RUNNING"]
    sleeper = Sleeper()
    with pytest.raises(CollectionFailed) as caught:
        collect(fake, sleeper, poll_interval_s=5, max_wait_s=20)
    assert "still RUNNING after 20 s" in str(caught.value) and "max_wait_s" in str(caught.value)
    assert sum(sleeper.waits) == 20 and len(fake.calls("GET", RUN)) == 4
    assert fake.aborted == ["run0000000000001"]


def test_max_wait_is_measured_on_the_clock_too(fake):
    fake.statuses = ["RUNNING"]
    times = iter([NOW, NOW + timedelta(seconds=30)] + [NOW + timedelta(seconds=700)] * 10)
    client = ApifyTikTokClient(
        TOKEN, base_url=fake.base_url, clock=lambda: next(times), sleep=Sleeper(), max_wait_s=600
    )
    with pytest.raises(CollectionFailed, match="after 700 s"):
        client.collect(*WINDOW)


def test_a_succeeded_run_without_a_dataset_fails_clearly():
    with (
        FakeApify(TOKEN, statuses=["SUCCEEDED"], dataset_id=None) as fake,
        pytest.raises(CollectionFailed) as caught,
    ):
        collect(fake)
    assert "defaultDatasetId" in str(caught.value)


def test_a_start_response_without_a_run_id_fails_clearly(fake):
    fake.fail("POST", START, Response(201, {"data": {"status": "READY"}}))
    with pytest.raises(CollectionFailed, match="no run id"):
        collect(fake)


def test_a_start_response_of_unknown_shape_fails_clearly(fake):
    fake.fail("POST", START, Response(201, [{"id": "x"}]))
    with pytest.raises(CollectionFailed, match="no 'data' object"):
        collect(fake)


# --- transport trouble: retried, then answered or failed clearly -------------------------------------------


def test_429_on_poll_waits_retry_after_then_continues(fake):
    fake.fail(
        "GET",
        RUN,
        Response(
            429,
            {"error": {"type": "rate-limit-exceeded", "message": "Too many requests"}},
            headers={"Retry-After": "2"},
        ),
    )
    sleeper = Sleeper()
    result = collect(fake, sleeper)
    assert len(result.trends) == 5
    assert sleeper.waits == [5, 2.0, 5]
    assert result.failed_requests == 1


def test_429_on_start_is_retried(fake):
    fake.fail("POST", START, Response(429, {"error": {"type": "rate-limit-exceeded", "message": "slow"}}))
    result = collect(fake)
    assert len(result.trends) == 5 and len(fake.calls("POST", START)) == 2 and len(fake.runs) == 1


def test_5xx_on_start_is_not_retried_so_no_second_paid_run_starts(fake):
    fake.fail(
        "POST",
        START,
        Response(500, {"error": {"type": "internal-error", "message": "Internal server error"}}),
    )
    with pytest.raises(CollectionFailed) as caught:
        collect(fake)
    assert "HTTP 500 (internal-error): Internal server error" in str(caught.value)
    assert len(fake.calls("POST", START)) == 1


def test_5xx_on_poll_is_retried_with_backoff(fake):
    fake.fail("GET", RUN, Response(502, raw=b"<html>Bad Gateway</html>"), Response(500, {}))
    sleeper = Sleeper()
    result = collect(fake, sleeper, backoff_s=0.5)
    assert len(result.trends) == 5 and sleeper.waits == [5, 0.5, 1.0, 5]


def test_slow_poll_times_out_and_is_retried(fake):
    fake.fail("GET", RUN, Response(200, {"data": {}}, delay_s=1.0))
    sleeper = Sleeper()
    result = collect(fake, sleeper, timeout_s=0.3)
    assert len(result.trends) == 5 and result.failed_requests == 1


def test_truncated_dataset_page_is_retried(fake):
    fake.fail("GET", ITEMS, Response(200, raw=b'[{"id": "73", "text": "cut'))
    result = collect(fake)
    assert len(result.trends) == 5 and len(fake.calls("GET", ITEMS)) == 2


def test_dataset_that_is_not_an_array_fails_the_run(fake):
    fake.fail("GET", ITEMS, Response(200, {"items": []}))
    with pytest.raises(CollectionFailed, match="must be a JSON array"):
        collect(fake)


def test_a_failing_later_page_keeps_the_earlier_pages(fake):
    fake.items = good_items(30)
    fake.fail(
        "GET",
        ITEMS,
        Response(200, good_items(10)),
        *[Response(503, {"error": {"type": "x", "message": "down"}})] * 4,
    )
    result = collect(fake, page_size=10, max_items=30)
    assert len(result.trends) == 10 and result.stop_reason == "request_failed"
    assert "HTTP 503" in result.errors[0] and "down" in result.errors[0]


def test_invalid_token_fails_at_once_with_apify_message_and_no_token(fake):
    wrong = "apify_api_WRONGtoken9999999999999999999"
    with pytest.raises(CollectionFailed) as caught:
        collect(fake, token=wrong)
    message = str(caught.value)
    assert (
        "HTTP 401 (user-or-token-not-found): User was not found or authentication token is not valid"
        in message
    )
    assert wrong not in message and TOKEN not in message
    assert len(fake.requests) == 1


def test_unknown_actor_fails_with_apify_message(fake):
    with pytest.raises(CollectionFailed, match="Actor was not found"):
        collect(fake, actor_id="nobody~nothing")
    assert len(fake.requests) == 1


def test_window_and_settings_are_checked_before_any_request(fake):
    client = make_client(fake)
    with pytest.raises(ValueError, match="timezone-aware"):
        client.collect(datetime(2026, 3, 1), datetime(2026, 3, 2))
    with pytest.raises(ValueError, match="token is empty"):
        ApifyTikTokClient("")
    with pytest.raises(ValueError, match="max_items"):
        ApifyTikTokClient(TOKEN, max_items=0)
    assert fake.requests == []


def test_the_token_never_appears_in_logs_exceptions_or_repr(fake, caplog):
    caplog.set_level(logging.DEBUG)
    fake.fail("GET", RUN, apify_error(500, "internal-error", f"token {TOKEN} broke"))
    client = make_client(fake)
    assert len(client.collect(*WINDOW).trends) == 5
    fake.statuses = ["RUNNING", "FAILED"]
    fake.fail("POST", START, apify_error(403, "insufficient-permissions", f"token {TOKEN} may not run"))
    with pytest.raises(CollectionFailed) as caught:
        client.collect(*WINDOW)
    assert TOKEN not in str(caught.value) and "***" in str(caught.value)
    assert TOKEN not in caplog.text and TOKEN not in repr(client)
