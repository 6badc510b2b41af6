"""Protects video_performance: every published video's views, likes and comments through videos.list in
batches of 50, YouTube Analytics retention when the scope is granted ("not available" and counts only
without it), one snapshot file per day so growth per day is measured between days, quota units in the
metadata, and an empty report (plans as before) while nothing is published."""

from __future__ import annotations

from datetime import date

import dagster as dg

from shortvid_assets.assets.publishing import video_performance
from shortvid_assets.storage import publications
from shortvid_assets_tests.fakes.youtube_publish import SCOPE_READONLY, SCOPE_UPLOAD, FakeGooglePublishing

from .conftest import CLIENT_ID, CLIENT_SECRET, DAY, NEXT_DAY, REFRESH_TOKEN, Site, youtube_publisher

FEATURES = {"hook_pattern": "pov", "style": "montage", "duration_s": 7.5, "voice": "espeak-ng:en-us",
            "visuals_provider": "procedural", "caption_style": "word-highlight #FFD400", "language": "en",
            "posting_hour": 17}  # fmt: skip


def published(site: Site, count: int, day: str = DAY) -> list[str]:
    """`count` published videos of one day (themes t000...), also present on the fake platform."""
    conn = site.connect()
    ids = []
    try:
        publications.ensure_schema(conn)
        for n in range(count):
            row, _ = publications.claim_publication(
                conn, partition_date=day, theme=f"t{n:03d}", platform="youtube", video_sha256=f"{n:064x}",
                decision_id=n, marker=f"shortvid:{n:016x}",
                features=FEATURES | {"hook_pattern": "pov" if n % 2 else "question"},
            )  # fmt: skip
            publications.complete_publication(
                conn, row.id, remote_id=f"vid{n:05d}", url="u", published_at=row.created_at
            )
            site.fake.add_video(f"vid{n:05d}", views=100 * n, analytics={"averageViewPercentage": 50.0 + n % 40,
                                                                          "averageViewDuration": 4, "views": 100 * n})  # fmt: skip
            ids.append(f"vid{n:05d}")
    finally:
        conn.close()
    return ids


def measure(site: Site, day: str, **overrides) -> dict:
    result = dg.materialize(
        [video_performance], partition_key=day, instance=site.instance, resources=site.resources(**overrides)
    )
    event = result.asset_materializations_for_node("video_performance")[0]
    return {k: v.value for k, v in event.metadata.items()}


def test_statistics_are_batched_50_ids_a_call_and_analytics_gives_retention(
    workspace, db_url, instance, fake
):
    site = Site(workspace, db_url, instance, fake)
    published(site, 120)
    meta = measure(site, NEXT_DAY)
    assert meta["videos"] == 120 and meta["analytics"] == "available"
    assert len(fake.calls("GET", "/youtube/v3/videos")) == 3 and meta["quota_units"] == {"default": 3}
    snapshots = workspace.artifacts.read_performance_snapshots(up_to=date(2026, 11, 25))
    assert len(snapshots) == 120 and all(s.average_view_percentage is not None for s in snapshots)
    report, _ = workspace.artifacts.latest_performance_report(NEXT_DAY)
    assert report.videos[0].video_id == "vid00119" and {t.theme for t in report.themes.values()} == {
        f"t{n:03d}" for n in range(120)
    }


def test_growth_per_day_comes_from_the_daily_snapshots(workspace, db_url, instance, fake):
    site = Site(workspace, db_url, instance, fake)
    [video_id] = published(site, 2)[1:]
    measure(site, NEXT_DAY)
    fake.videos[video_id].views = 100 + 300  # 300 more views a day later
    measure(site, "2026-11-26")
    report, path = workspace.artifacts.latest_performance_report("2026-11-26")
    ranked = {v.video_id: v for v in report.videos}
    assert ranked[video_id].views_per_day == 300 and ranked[video_id].days_observed == 1
    assert path.name == "2026-11-26.report.json"
    assert workspace.artifacts.latest_performance_report(NEXT_DAY)[1].name == f"{NEXT_DAY}.report.json"


def test_without_the_analytics_scope_the_counts_still_come(workspace, db_url, instance):
    with FakeGooglePublishing(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN,
                              scopes=(SCOPE_UPLOAD, SCOPE_READONLY)) as fake:  # fmt: skip
        site = Site(workspace, db_url, instance, fake)
        published(site, 3)
        meta = measure(site, NEXT_DAY, publisher=youtube_publisher(fake))
    assert meta["videos"] == 3 and meta["analytics"].startswith("not available")
    report, _ = workspace.artifacts.latest_performance_report(NEXT_DAY)
    assert all(v.retention_pct is None for v in report.videos) and len(report.videos) == 3


def test_nothing_published_gives_an_empty_report_and_calls_nothing(workspace, db_url, instance, fake):
    site = Site(workspace, db_url, instance, fake)
    meta = measure(site, NEXT_DAY)
    assert meta["videos"] == 0 and fake.requests == []
    report, _ = workspace.artifacts.latest_performance_report(NEXT_DAY)
    assert report.videos == [] and report.best_for("minicup").best_hook_pattern is None
