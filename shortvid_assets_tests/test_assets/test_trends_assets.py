"""Protects the daily trend assets as a graph: live sources against fake APIs chosen by environment,
an outage failing only its platform's asset, blocking checks on bad data, re-collection keeping
snapshots, the OpenAI style classifier in the report, and an analysis window across two days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pandas as pd
import pytest

from shortvid_assets.assets.trends import (
    REPORT_MATCHES_INPUT,
    TRENDS_COUNTS_NOT_NEGATIVE,
    TRENDS_KEYS_UNIQUE,
    TRENDS_NOT_EMPTY,
    TRENDS_NOT_POSTED_IN_FUTURE,
    tiktok_trends,
    trend_report,
    trends,
    youtube_trends,
)
from shortvid_assets.domain.models import Platform, Trend
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.style_classifiers import RuleStyleClassifier, style_classifier_from_env
from shortvid_assets.resources.trend_sources import (
    Collection,
    SampleTrendSource,
    TrendSource,
    tiktok_source_from_env,
    youtube_source_from_env,
)
from shortvid_assets_tests.fakes.apify import FakeApify, make_tiktok_item
from shortvid_assets_tests.fakes.fake_openai import CHAT, FAKE_KEY, running_fake
from shortvid_assets_tests.fakes.style_labels import label_reply
from shortvid_assets_tests.fakes.youtube import FakeYouTube, make_video

from .conftest import DAY

TREND_ASSETS = [youtube_trends, tiktok_trends, trends, trend_report]
YT_KEY = "AIzaSyFAKE-graph-key-9876543210fedcba"
APIFY_TOKEN = "apify_api_FAKE_graph_token_abcdef012345"
POSTED = datetime.fromisoformat(DAY).replace(hour=8, tzinfo=UTC)


def materialize(instance, resources, day: str = DAY) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        TREND_ASSETS, instance=instance, resources=resources, partition_key=day, raise_on_error=False
    )


def sample_resources(workspace: ShortvidPaths) -> dict[str, object]:
    return {
        "youtube_source": SampleTrendSource(),
        "tiktok_source": SampleTrendSource(),
        "style_classifier": RuleStyleClassifier(),
        "paths": workspace,
    }


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    events = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    assert events, f"{asset} was not materialized"
    return {k: v.value for k, v in events[-1].materialization.metadata.items()}


def checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


@pytest.fixture
def fake_openai():
    yield from running_fake()


@pytest.fixture
def live(monkeypatch, fake_openai):
    """Fake YouTube, Apify and OpenAI APIs, with the environment pointing every live source at them."""
    with FakeYouTube(YT_KEY) as youtube, FakeApify(APIFY_TOKEN) as apify:
        youtube.add(
            make_video("tutorial001", title="Tutorial: fold a shirt", views=90_000, published_at=POSTED)
        )
        for i in range(5):
            youtube.add(make_video(f"yt{i:09d}", views=50_000 - i, likes=900 + i, published_at=POSTED))
        apify.items = [make_tiktok_item(f"7300{i:015d}", posted_at=POSTED, likes=5000 + i) for i in range(5)]
        env = {
            "SHORTVID_YOUTUBE_SOURCE": "api",
            "YOUTUBE_API_KEY": YT_KEY,
            "SHORTVID_YOUTUBE_BASE_URL": youtube.base_url,
            "SHORTVID_TIKTOK_SOURCE": "apify",
            "APIFY_TOKEN": APIFY_TOKEN,
            "SHORTVID_APIFY_BASE_URL": apify.base_url,
            "SHORTVID_APIFY_POLL_S": "0.01",
            "SHORTVID_STYLE_CLASSIFIER": "openai",
            "OPENAI_API_KEY": FAKE_KEY,
            "OPENAI_BASE_URL": fake_openai.base_url,
            "SHORTVID_STYLE_BATCH_SIZE": "4",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield youtube, apify, fake_openai


def env_resources(workspace: ShortvidPaths) -> dict[str, object]:
    return {
        "youtube_source": youtube_source_from_env(),
        "tiktok_source": tiktok_source_from_env(),
        "style_classifier": style_classifier_from_env(),
        "paths": workspace,
    }


def test_live_sources_feed_the_graph_and_never_leak_a_key(instance, workspace, live):
    _, apify, fake_openai = live
    styles = lambda item: "tutorial" if "tutorial" in item["title"].lower() else "montage"  # noqa: E731
    fake_openai.chat(*(label_reply(styles) for _ in range(3)))

    result = materialize(instance, env_resources(workspace))

    assert result.success
    youtube = metadata(result, "youtube_trends")
    assert (youtube["source"], youtube["collected"]) == ("youtube_data_api_v3", 6)
    assert (youtube["requests"], youtube["quota_units"], youtube["skipped_total"]) == (2, 101, 0)
    tiktok = metadata(result, "tiktok_trends")
    assert (tiktok["source"], tiktok["collected"]) == ("apify:clockworks~tiktok-scraper", 5)
    assert apify.run_inputs == [{"hashtags": ["fyp"], "resultsPerPage": 50}]

    table = pd.read_parquet(workspace.artifacts.daily("trends", DAY, "parquet"))
    assert len(table) == 11 and table["observations"].eq(1).all()
    assert checks(result) == {
        TRENDS_NOT_EMPTY: True,
        TRENDS_KEYS_UNIQUE: True,
        TRENDS_COUNTS_NOT_NEGATIVE: True,
        TRENDS_NOT_POSTED_IN_FUTURE: True,
        REPORT_MATCHES_INPUT: True,
    }

    report = workspace.artifacts.read_report(DAY)
    assert report.classifier == "openai:gpt-4o-mini"
    assert report.counts_by_platform == {"tiktok": 5, "youtube": 6}
    assert report.counts_by_style == {"montage": 10, "tutorial": 1}
    assert len(fake_openai.requests_to(CHAT)) == 3  # 11 trends in batches of 4
    shown = metadata(result, "trend_report")
    assert shown["classifier_calls"] == 3 and shown["classifier_cost_usd"] > 0
    assert shown["counts_by_platform"] == {"tiktok": 5, "youtube": 6}
    assert shown["velocity_chart"].endswith(".png")
    assert workspace.artifacts.daily("trend_report", DAY, "velocity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shown["velocity_chart_preview"].startswith("![velocity by style](data:image/png;base64,")
    assert shown["top_performers"].count("\n") == 2 + 10 - 1

    messages = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any("collecting from the YouTube Data API v3 at http://127.0.0.1" in m for m in messages)
    assert any("collecting from the Apify actor clockworks~tiktok-scraper" in m for m in messages)
    everything = " ".join(str(e) for e in instance.all_logs(result.run_id))
    everything += str(instance.get_run_by_id(result.run_id).run_config)
    for secret in (YT_KEY, APIFY_TOKEN, FAKE_KEY):
        assert secret not in everything


def test_a_platform_outage_fails_only_its_own_asset(instance, workspace, live, monkeypatch):
    monkeypatch.setenv("YOUTUBE_API_KEY", "AIzaSy-revoked-key-000000000000")

    result = materialize(instance, env_resources(workspace))

    assert not result.success
    assert materialized(result) == {"tiktok_trends"}
    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["youtube_trends"]
    failure = failures[0].step_failure_data.user_failure_data
    assert "youtube collection for 2026-11-24 failed" in failure.description
    assert "API key not valid" in failure.description
    assert failure.metadata["retryable"].value is False  # a rejected key is not retried
    starts = [
        e for e in result.all_events if e.event_type_value == "STEP_START" and e.step_key == "youtube_trends"
    ]
    assert len(starts) == 1
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert started == {"youtube_trends", "tiktok_trends"}  # downstream of the failure never ran
    assert "revoked" not in " ".join(str(e) for e in instance.all_logs(result.run_id))


class ScriptedSource(TrendSource):
    """Trends with chosen counts and times, including impossible ones the clients would never let through."""

    likes: int = 100
    collected_hour: int = 12
    posted_hour: float = 4.0  # after collected_hour: posted in the future
    count: int = 12

    def collect(self, platform: Platform, day: date) -> Collection:
        collected = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(
            hours=self.collected_hour
        )
        rows = [
            Trend.model_construct(  # no validation: this source plays a broken upstream
                platform=platform,
                external_id=f"{platform}-{i}",
                title=f"clip {i}",
                description="",
                hashtags=["fyp"],
                views=10_000,
                likes=self.likes + i,
                comments=3,
                shares=1,
                duration_s=20.0,
                creator_name="c",
                creator_id="c1",
                sound_name=None,
                video_url=f"https://x/{platform}/{i}",
                thumbnail_url=None,
                posted_at=collected + timedelta(hours=self.posted_hour - self.collected_hour),
                collected_at=collected,
            )
            for i in range(self.count)
        ]
        return Collection(trends=rows, source="scripted")


def scripted_resources(workspace: ShortvidPaths, **options) -> dict[str, object]:
    return {**sample_resources(workspace), "youtube_source": ScriptedSource(**options)}


def test_checks_fail_on_bad_data_and_block_the_report(instance, workspace):
    result = materialize(instance, scripted_resources(workspace, likes=-50, posted_hour=14))

    outcome = checks(result)
    assert outcome[TRENDS_NOT_EMPTY] and outcome[TRENDS_KEYS_UNIQUE]
    assert outcome[TRENDS_COUNTS_NOT_NEGATIVE] is False
    assert outcome[TRENDS_NOT_POSTED_IN_FUTURE] is False
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations[TRENDS_COUNTS_NOT_NEGATIVE].metadata["negative_rows"].value == {"likes": 12}
    assert evaluations[TRENDS_NOT_POSTED_IN_FUTURE].metadata["future_rows"].value == 12
    assert "trend_report" not in materialized(result) and not result.success


def test_recollection_updates_counts_and_keeps_snapshots(instance, workspace):
    first = materialize(instance, scripted_resources(workspace, likes=100_000, collected_hour=10))
    second = materialize(instance, scripted_resources(workspace, likes=400_000, collected_hour=16))

    assert first.success and second.success
    table = pd.read_parquet(workspace.artifacts.daily("trends", DAY, "parquet"))
    youtube = table[table["platform"] == "youtube"].set_index("external_id")
    assert len(youtube) == 12 and youtube["observations"].eq(2).all()
    assert youtube.loc["youtube-0", "likes"] == 400_000  # updated, not duplicated
    snapshots = pd.read_parquet(workspace.artifacts.daily("trend_snapshots", DAY, "parquet"))
    assert len(snapshots[snapshots["platform"] == "youtube"]) == 24
    assert len(snapshots[snapshots["platform"] == "tiktok"]) == 50  # the same sample twice: one snapshot each
    assert metadata(second, "trends")["observed_more_than_once"] == 12

    report = workspace.artifacts.read_report(DAY)
    scripted = [p for p in report.top_performers if p.platform == "youtube"]
    assert len(scripted) >= 5  # 400k likes in 12 h outpace most sample videos
    for performer in scripted:
        assert performer.recent_velocity == pytest.approx(300_000 / 6)  # 300k more likes in 6 h
    assert metadata(second, "trend_report")["with_recent_velocity"] == 12


def test_analysis_window_spans_two_days(instance, workspace, monkeypatch):
    previous = (date.fromisoformat(DAY) - timedelta(days=1)).isoformat()
    resources = sample_resources(workspace)
    assert materialize(instance, resources, previous).success

    monkeypatch.setenv("SHORTVID_ANALYSIS_WINDOW_HOURS", "48")
    result = materialize(instance, resources, DAY)

    assert result.success and checks(result)[REPORT_MATCHES_INPUT]
    both = pd.concat([pd.read_parquet(workspace.artifacts.daily("trends", d, "parquet")) for d in (previous, DAY)])
    unique = both.drop_duplicates(["platform", "external_id"])
    report = workspace.artifacts.read_report(DAY)
    assert report.window_hours == 48
    assert report.trend_count == len(unique) and 100 < len(unique) < 200  # videos seen both days count once
    shown = metadata(result, "trend_report")
    assert shown["days_read"] == f"{previous}, {DAY}"
    assert shown["with_recent_velocity"] == len(both) - len(unique)

    monkeypatch.setenv("SHORTVID_ANALYSIS_WINDOW_HOURS", "24")
    narrow = dg.materialize([trend_report], instance=instance, resources=resources, partition_key=DAY)
    assert workspace.artifacts.read_report(DAY).trend_count == 100
    assert (
        metadata(narrow, "trend_report")["days_read"] == f"{previous}, {DAY}"
    )  # yesterday: velocity baseline only


def test_a_bad_window_setting_fails_the_report_with_the_variable_named(instance, workspace, monkeypatch):
    monkeypatch.setenv("SHORTVID_ANALYSIS_WINDOW_HOURS", "a day")
    result = materialize(instance, sample_resources(workspace))

    assert materialized(result) == {"youtube_trends", "tiktok_trends", "trends"}
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "trend_report"
    description = failure.step_failure_data.user_failure_data.description
    assert "SHORTVID_ANALYSIS_WINDOW_HOURS='a day' is not a number" in description
    starts = [
        e for e in result.all_events if e.event_type_value == "STEP_START" and e.step_key == "trend_report"
    ]
    assert len(starts) == 1  # a bad setting is not retried
