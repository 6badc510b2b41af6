"""Protects trend analysis: dedupe, velocity (ANLYS-3), classification and the report (ANLYS-2..5)."""

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from shortvid_assets.domain import analysis
from shortvid_assets.domain.models import Trend
from shortvid_assets.domain.sample_trends import sample_trends

DAY = date(2026, 11, 24)
END = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)


def trend(
    external_id="a",
    platform="youtube",
    *,
    title="A video",
    likes=100,
    comments=10,
    shares=5,
    hours_ago=10.0,
    collected=END,
    duration=20.0,
    description="",
    sound=None,
    tags=(),
):
    return Trend(
        platform=platform,
        external_id=external_id,
        title=title,
        description=description,
        hashtags=list(tags),
        views=10_000,
        likes=likes,
        comments=comments,
        shares=shares,
        duration_s=duration,
        creator_name="c",
        creator_id="c1",
        sound_name=sound,
        video_url=f"https://x/{external_id}",
        posted_at=collected - timedelta(hours=hours_ago),
        collected_at=collected,
    )


def test_velocity_is_engagement_per_hour_since_posted():
    frame = analysis.trends_frame([trend(likes=100, comments=10, shares=10, hours_ago=4)])
    assert analysis.engagement_velocity(frame).iloc[0] == pytest.approx(30.0)


def test_velocity_floors_hours_at_a_tenth():
    frame = analysis.trends_frame([trend(likes=10, comments=0, shares=0, hours_ago=0.0)])
    assert analysis.engagement_velocity(frame).iloc[0] == pytest.approx(100.0)


def test_dedupe_keeps_latest_observation_per_platform_and_id():
    older = trend("x", likes=5, collected=END - timedelta(hours=5))
    newer = trend("x", likes=50, collected=END)
    other_platform = trend("x", platform="tiktok")
    frame = analysis.deduplicate_trends(analysis.trends_frame([newer, older, other_platform]))
    assert len(frame) == 2
    assert frame[frame.platform == "youtube"].likes.item() == 50


@pytest.mark.parametrize(
    ("title", "description", "duration", "sound", "style"),
    [
        ("Tutorial: fold a shirt", "", 20, None, "tutorial"),
        ("My cat", "3d animation short", 20, None, "animation"),
        ("Sunset", "cinematic 4k", 20, None, "cinematic"),
        ("storytime: the worst date", "", 40, None, "talking-head"),
        ("5 tips for sleep", "", 20, None, "text-heavy"),
        ("a day in my life", "", 20, None, "montage"),
        ("untitled", "", 45, "original sound - me", "talking-head"),
        ("untitled", "", 9, None, "montage"),
        ("untitled", "", 25, "Song", "cinematic"),
    ],
)
def test_style_classifier(title, description, duration, sound, style):
    frame = analysis.trends_frame(
        [trend(title=title, description=description, duration=duration, sound=sound)]
    )
    assert analysis.classify_styles(frame).iloc[0] == style


@pytest.mark.parametrize(
    ("title", "hook"),
    [
        ("Would you try this?", "question"),
        ("POV: you woke up early", "pov"),
        ("How to cook rice", "how-to"),
        ("5 things I wish I knew", "number"),
        ("This changed everything", "bold-claim"),
        ("A quiet morning", "statement"),
    ],
)
def test_hook_classifier(title, hook):
    assert analysis.classify_hooks(pd.Series([title])).iloc[0] == hook


def test_report_on_sample_day_is_complete_and_consistent():
    trends = sample_trends("youtube", DAY) + sample_trends("tiktok", DAY)
    report = analysis.build_trend_report(analysis.trends_frame(trends), DAY)
    assert report.trend_count == 100
    assert report.counts_by_platform == {"tiktok": 50, "youtube": 50}
    assert len(report.top_performers) == 10
    velocities = [p.velocity for p in report.top_performers]
    assert velocities == sorted(velocities, reverse=True)
    assert sum(p.count for p in report.patterns) >= 10
    assert report.dominant_style == report.patterns[0].style
    assert sum(report.duration_histogram.values()) == 100
    assert sum(report.posting_hour_histogram.values()) == 100
    assert 7 <= report.recommended_duration_s <= 59


def test_report_follows_what_dominates():
    trends = [
        trend(
            f"q{i}", title=f"Would you try number {i}?", duration=20, likes=1000 + i, description="cinematic"
        )
        for i in range(12)
    ] + [trend(f"s{i}", title="calm morning", duration=50, likes=1, description="vlog") for i in range(5)]
    report = analysis.build_trend_report(analysis.trends_frame(trends), DAY)
    assert report.dominant_hook_type == "question"
    assert report.dominant_style == "cinematic"
    assert report.recommended_duration_s == pytest.approx(20)


def test_report_without_trends_in_window_says_what_to_do():
    stale = trend(collected=END - timedelta(days=3))
    with pytest.raises(ValueError, match="materialize the trends"):
        analysis.build_trend_report(analysis.trends_frame([stale]), DAY)


def test_markdown_table_has_a_row_per_top_performer():
    trends = sample_trends("youtube", DAY)
    report = analysis.build_trend_report(analysis.trends_frame(trends), DAY)
    table = analysis.top_performers_markdown(report)
    assert len(table.splitlines()) == 2 + len(report.top_performers)
