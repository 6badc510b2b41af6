"""Protects the offline trend source: deterministic, complete (TREND-3), realistic overlap."""

from datetime import date, timedelta

import pytest

from shortvid_assets.domain.models import Trend
from shortvid_assets.domain.sample_trends import PER_PLATFORM, sample_trends, synthetic_trends_frame

DAY = date(2026, 11, 24)


def test_same_day_same_trends():
    assert sample_trends("tiktok", DAY) == sample_trends("tiktok", DAY)


def test_fifty_unique_per_platform_with_page_overlap():
    for platform in ("youtube", "tiktok"):
        trends = sample_trends(platform, DAY)
        keys = {(t.platform, t.external_id) for t in trends}
        assert len(keys) == PER_PLATFORM
        assert len(trends) > PER_PLATFORM  # the raw answer repeats items, like real pagination


def test_every_trend3_field_is_filled():
    for t in sample_trends("youtube", DAY) + sample_trends("tiktok", DAY):
        for field in Trend.model_fields:
            value = getattr(t, field)
            assert value is not None and value != "", field
        assert t.posted_at <= t.collected_at
        assert t.collected_at.date() == DAY


def test_videos_keep_trending_across_days_with_growing_counts():
    today = {t.external_id: t for t in sample_trends("youtube", DAY)}
    tomorrow = {t.external_id: t for t in sample_trends("youtube", DAY + timedelta(days=1))}
    shared = set(today) & set(tomorrow)
    assert shared
    assert all(tomorrow[i].views > today[i].views for i in shared)


def test_synthetic_frame_has_the_rows_asked_for_with_repeated_videos():
    frame = synthetic_trends_frame(1_000, DAY, seed=3, repeat_share=0.25)
    assert len(frame) == 1_000 and list(frame.columns) == list(Trend.model_fields)
    assert frame.duplicated(["platform", "external_id"]).sum() == 250
    assert (frame["posted_at"] <= frame["collected_at"]).all()
    assert (frame[["views", "likes", "comments", "shares"]] >= 0).all().all()
    assert (frame.loc[frame["platform"] == "youtube", "shares"] == 0).all()
    assert synthetic_trends_frame(1_000, DAY, seed=3, repeat_share=0.25).equals(frame)


def test_synthetic_frame_refuses_an_empty_request():
    with pytest.raises(ValueError, match="rows must be >= 1"):
        synthetic_trends_frame(0, DAY)
