"""Protects the offline trend source: deterministic, complete (TREND-3), realistic overlap."""

from datetime import date, timedelta

from shortvid_assets.domain.models import Trend
from shortvid_assets.domain.sample_trends import PER_PLATFORM, sample_trends

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
