"""Protects the trend-source resources: choice by environment, keys only as env references, the live
sources wrapping the real clients against fake APIs, and failures that say whether a retry can help."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from shortvid_assets.clients.http import CollectionFailed
from shortvid_assets.resources.trend_sources import (
    ApifyTrendSource,
    SampleTrendSource,
    YouTubeTrendSource,
    tiktok_source_from_env,
    youtube_source_from_env,
)
from shortvid_assets.settings import SettingError
from shortvid_assets_tests.fakes.apify import FakeApify, make_tiktok_item
from shortvid_assets_tests.fakes.server import Response
from shortvid_assets_tests.fakes.youtube import FakeYouTube, make_video

YT_KEY = "AIzaSyFAKE-resource-key-000111222333"
APIFY_TOKEN = "apify_api_FAKE_resource_token_0123456789"
DAY = date(2026, 11, 24)
POSTED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def youtube(fake: FakeYouTube, **options) -> YouTubeTrendSource:
    return YouTubeTrendSource(api_key=YT_KEY, base_url=fake.base_url, backoff_s=0.01, timeout_s=2, **options)


def apify(fake: FakeApify, **options) -> ApifyTrendSource:
    return ApifyTrendSource(
        token=APIFY_TOKEN,
        base_url=fake.base_url,
        poll_interval_s=0.01,
        backoff_s=0.01,
        timeout_s=2,
        **options,
    )


# --- choice by environment -------------------------------------------------------------------------------


def test_sample_sources_by_default():
    assert isinstance(youtube_source_from_env({}), SampleTrendSource)
    assert isinstance(tiktok_source_from_env({"SHORTVID_TIKTOK_SOURCE": " "}), SampleTrendSource)


def test_live_youtube_source_from_env_reads_the_key_as_an_env_reference():
    source = youtube_source_from_env(
        {
            "SHORTVID_YOUTUBE_SOURCE": "API",
            "YOUTUBE_API_KEY": YT_KEY,
            "SHORTVID_YOUTUBE_BASE_URL": "http://127.0.0.1:9/youtube/v3",
            "SHORTVID_YOUTUBE_REGION": "DE",
            "SHORTVID_YOUTUBE_LANGUAGE": "any",
            "SHORTVID_YOUTUBE_QUOTA_BUDGET": "500",
            "SHORTVID_YOUTUBE_MAX_RESULTS": "20",
        }
    )
    assert isinstance(source, YouTubeTrendSource)
    assert isinstance(source.api_key, dg.EnvVar) and source.api_key.env_var_name == "YOUTUBE_API_KEY"
    assert (source.region_code, source.relevance_language) == ("DE", None)
    assert (source.quota_budget, source.max_results) == (500, 20)
    assert source.base_url == "http://127.0.0.1:9/youtube/v3"
    assert YT_KEY not in source.describe() and "quota budget 500 units" in source.describe()


def test_live_tiktok_source_from_env():
    source = tiktok_source_from_env(
        {
            "SHORTVID_TIKTOK_SOURCE": "apify",
            "APIFY_TOKEN": APIFY_TOKEN,
            "SHORTVID_APIFY_BASE_URL": "http://127.0.0.1:9",
            "SHORTVID_APIFY_ACTOR": "someone/other-scraper",
            "SHORTVID_APIFY_HASHTAGS": "#fyp, cooking",
            "SHORTVID_APIFY_MAX_WAIT_S": "120",
        }
    )
    assert isinstance(source, ApifyTrendSource)
    assert isinstance(source.token, dg.EnvVar) and source.token.env_var_name == "APIFY_TOKEN"
    assert source.run_input() == {"hashtags": ["fyp", "cooking"], "resultsPerPage": 50}
    assert source.max_wait_s == 120 and "someone/other-scraper" in source.describe()


@pytest.mark.parametrize(
    ("factory", "environ", "message"),
    [
        (youtube_source_from_env, {"SHORTVID_YOUTUBE_SOURCE": "apify"}, "one of sample, api"),
        (tiktok_source_from_env, {"SHORTVID_TIKTOK_SOURCE": "api"}, "one of sample, apify"),
        (
            youtube_source_from_env,
            {
                "SHORTVID_YOUTUBE_SOURCE": "api",
                "YOUTUBE_API_KEY": YT_KEY,
                "SHORTVID_YOUTUBE_QUOTA_BUDGET": "lots",
            },
            "is not a whole number",
        ),
        (
            youtube_source_from_env,
            {
                "SHORTVID_YOUTUBE_SOURCE": "api",
                "YOUTUBE_API_KEY": YT_KEY,
                "SHORTVID_YOUTUBE_MAX_RESULTS": "0",
            },
            "must be a whole number at least 1",
        ),
        (
            tiktok_source_from_env,
            {
                "SHORTVID_TIKTOK_SOURCE": "apify",
                "APIFY_TOKEN": APIFY_TOKEN,
                "SHORTVID_APIFY_MAX_WAIT_S": "-1",
            },
            "must be a number at least 0.01",
        ),
    ],
)
def test_bad_configuration_is_refused_with_the_variable_named(factory, environ, message):
    with pytest.raises(ValueError, match=message):
        factory(environ)


@pytest.mark.parametrize(
    ("factory", "environ", "message"),
    [
        (
            youtube_source_from_env,
            {"SHORTVID_YOUTUBE_SOURCE": "api"},
            "SHORTVID_YOUTUBE_SOURCE=api needs YOUTUBE_API_KEY, which is not set: set it, or unset "
            "SHORTVID_YOUTUBE_SOURCE",
        ),
        (
            tiktok_source_from_env,
            {"SHORTVID_TIKTOK_SOURCE": "apify", "APIFY_TOKEN": "  "},
            "SHORTVID_TIKTOK_SOURCE=apify needs APIFY_TOKEN, which is not set: set it, or unset "
            "SHORTVID_TIKTOK_SOURCE",
        ),
    ],
)
def test_settings_a_live_source_without_its_key_is_refused_at_start(factory, environ, message):
    """Not a Dagster config error at run time: a one-line SettingError when the resources are built."""
    with pytest.raises(SettingError) as refused:
        factory(environ)
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)


def test_settings_malformed_actor_input_is_refused_at_start():
    with pytest.raises(SettingError, match=r"not valid JSON.*SHORTVID_APIFY_INPUT"):
        tiktok_source_from_env(
            {
                "SHORTVID_TIKTOK_SOURCE": "apify",
                "APIFY_TOKEN": APIFY_TOKEN,
                "SHORTVID_APIFY_INPUT": "{hashtags",
            }
        )


def test_actor_input_json_must_be_an_object():
    assert ApifyTrendSource(token="t", run_input_json='{"profiles": ["nasa"]}').run_input() == {
        "profiles": ["nasa"]
    }
    with pytest.raises(ValueError, match="SHORTVID_APIFY_INPUT"):
        ApifyTrendSource(token="t", run_input_json="[1, 2").run_input()
    with pytest.raises(ValueError, match="JSON object"):
        ApifyTrendSource(token="t", run_input_json="[1, 2]").run_input()


# --- live sources against the fakes ---------------------------------------------------------------------


def test_youtube_source_collects_the_day_and_counts_quota():
    with FakeYouTube(YT_KEY) as fake:
        fake.add_many(3, start=POSTED)
        fake.add(make_video("yesterday01", published_at=POSTED - timedelta(days=1)))
        collection = youtube(fake).collect("youtube", DAY)

    assert sorted(t.external_id for t in collection.trends) == ["vid0000", "vid0001", "vid0002"]
    assert (collection.requests, collection.quota_units) == (2, 101)
    assert collection.source == "youtube_data_api_v3"
    search = fake.calls("GET", "/youtube/v3/search")[0].query
    assert (search["publishedAfter"], search["publishedBefore"]) == (
        "2026-11-24T00:00:00Z",
        "2026-11-25T00:00:00Z",
    )
    assert search["regionCode"] == "US" and search["relevanceLanguage"] == "en"


def test_youtube_source_stops_at_its_quota_budget_without_failing():
    with FakeYouTube(YT_KEY) as fake:
        fake.add_many(3, start=POSTED)
        collection = youtube(fake, quota_budget=100).collect("youtube", DAY)

    assert collection.trends == [] and collection.quota_units == 0
    assert collection.stop_reason == "quota_budget" and fake.calls() == []


def test_youtube_source_with_a_rejected_key_fails_for_good():
    with FakeYouTube("another-key") as fake, pytest.raises(CollectionFailed) as caught:
        youtube(fake).collect("youtube", DAY)
    assert caught.value.retryable is False
    assert caught.value.requests == 1 and YT_KEY not in str(caught.value)


def test_youtube_source_outage_fails_but_may_be_retried():
    with FakeYouTube(YT_KEY) as fake:
        fake.fail(
            "GET", "/youtube/v3/search", *[Response(503, {"error": {"code": 503, "message": "down"}})] * 4
        )
        with pytest.raises(CollectionFailed) as caught:
            youtube(fake, max_retries=3).collect("youtube", DAY)
    assert caught.value.retryable is True
    assert (caught.value.requests, caught.value.failed_requests) == (4, 4)


def test_apify_source_runs_the_actor_with_its_input():
    items = [make_tiktok_item(f"73{i:017d}", posted_at=POSTED) for i in range(4)]
    with FakeApify(APIFY_TOKEN, items=items) as fake:
        collection = apify(fake, hashtags=["cooking"], max_items=3).collect("tiktok", DAY)

    assert len(collection.trends) == 3 and collection.source == "apify:clockworks~tiktok-scraper"
    assert fake.run_inputs == [{"hashtags": ["cooking"], "resultsPerPage": 3}]
    assert collection.requests >= 3  # start, at least one poll, one dataset page


def test_apify_run_that_outlives_its_wait_is_not_worth_retrying():
    with FakeApify(APIFY_TOKEN, statuses=["RUNNING"]) as fake, pytest.raises(CollectionFailed) as caught:
        apify(fake, max_wait_s=0.05).collect("tiktok", DAY)
    assert caught.value.retryable is False and fake.aborted


def test_apify_failed_run_may_be_retried():
    with (
        FakeApify(APIFY_TOKEN, statuses=["RUNNING", "FAILED"]) as fake,
        pytest.raises(CollectionFailed) as caught,
    ):
        apify(fake).collect("tiktok", DAY)
    assert caught.value.retryable is True and caught.value.requests == 2


@pytest.mark.parametrize(
    ("source", "platform"),
    [(YouTubeTrendSource(api_key="k"), "tiktok"), (ApifyTrendSource(token="t"), "youtube")],
)
def test_a_live_source_refuses_the_other_platform(source, platform):
    with pytest.raises(ValueError, match="collects"):
        source.collect(platform, DAY)


def test_a_day_that_has_not_started_cannot_be_collected():
    with pytest.raises(ValueError, match="has not started"):
        YouTubeTrendSource(api_key="k").collect("youtube", date.today() + timedelta(days=2))
