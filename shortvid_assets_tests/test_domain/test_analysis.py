"""Protects trend analysis: dedupe, velocity (ANLYS-3), classification and the report (ANLYS-2..5).

Unknown values (a hidden count, a live broadcast's length) must stay unknown through the tables and the
report: never read as 0, never skewing duration statistics.
"""

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from shortvid_assets.domain import analysis, windows
from shortvid_assets.domain.models import Trend, TrendReport
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
    kind="video",
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
        content_kind=kind,
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


# --- snapshots, the window and recent velocity ------------------------------------------------------------


def test_merging_a_recollection_keeps_both_snapshots_and_is_idempotent():
    morning = analysis.trends_frame([trend("x", likes=10, collected=END - timedelta(hours=8))])
    evening = analysis.trends_frame([trend("x", likes=90, collected=END), trend("y", collected=END)])

    merged = analysis.merge_snapshots(morning, evening)
    again = analysis.merge_snapshots(merged, evening)

    assert len(merged) == 3 and again.equals(merged)
    table = analysis.latest_observations(merged).set_index("external_id")
    assert table.loc["x", "likes"] == 90 and table.loc["x", "observations"] == 2
    assert table.loc["y", "observations"] == 1


def test_a_corrected_recollection_replaces_the_snapshot_of_the_same_time():
    first = analysis.trends_frame([trend("x", likes=10)])
    corrected = analysis.trends_frame([trend("x", likes=12)])
    merged = analysis.merge_snapshots(first, corrected)
    assert merged["likes"].tolist() == [12]


def test_recent_velocity_is_engagement_gained_per_hour_between_snapshots():
    frame = analysis.trends_frame(
        [
            trend("x", likes=100, comments=0, shares=0, collected=END - timedelta(hours=4), hours_ago=6),
            trend("x", likes=300, comments=0, shares=0, collected=END, hours_ago=10),
            trend("y", likes=500, comments=0, shares=0, collected=END - timedelta(hours=2), hours_ago=5),
            trend("y", likes=400, comments=0, shares=0, collected=END, hours_ago=7),  # a recount went down
            trend("z", collected=END),
        ]
    )
    recent = analysis.recent_velocities(frame).set_index(["external_id", "collected_at"])["recent_velocity"]
    assert recent[("x", END)] == pytest.approx(50.0)
    assert recent[("y", END)] == 0.0
    assert pd.isna(recent[("z", END)]) and pd.isna(recent[("x", END - timedelta(hours=4))])


def test_window_ends_at_the_anchor_and_spans_the_hours_before_it():
    window = windows.analysis_window(DAY, 36)
    assert window.end == datetime(2026, 11, 25, tzinfo=UTC)
    assert window.start == datetime(2026, 11, 23, 12, tzinfo=UTC) and window.hours == 36
    late = windows.analysis_window(DAY, 24, anchor=datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    assert late.start == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    assert windows.window_days(DAY, late) == [date(2026, 11, 23), DAY]
    with pytest.raises(ValueError, match="> 0 hours"):
        windows.analysis_window(DAY, 0)


@pytest.mark.parametrize("days_late", [1, 9, 400])
def test_a_partition_collected_days_late_still_reads_its_own_days(days_late):
    anchor = datetime(2026, 11, 25, 3, 0, tzinfo=UTC) + timedelta(days=days_late)
    window = windows.analysis_window(DAY, 24, anchor=anchor)
    days = windows.window_days(DAY, window)
    assert days[-1] == DAY and date(2026, 11, 23) in days
    late = analysis.trends_frame([trend("x", hours_ago=5, collected=anchor)])
    assert len(analysis.window_trends(late, window)) == 1


def test_window_across_two_days_counts_each_video_once_with_its_latest_counts():
    yesterday = END - timedelta(days=1)
    frame = analysis.trends_frame(
        [
            trend("both", likes=100, collected=yesterday, hours_ago=5),
            trend("both", likes=900, collected=END, hours_ago=29),
            trend("old", collected=yesterday),
            trend("new", collected=END),
        ]
    )
    wide = analysis.window_trends(frame, windows.analysis_window(DAY, 48))
    narrow = analysis.window_trends(frame, windows.analysis_window(DAY, 24))

    assert sorted(wide["external_id"]) == ["both", "new", "old"]
    assert wide.set_index("external_id").loc["both", "likes"] == 900
    assert sorted(narrow["external_id"]) == ["both", "new"]
    # Yesterday's snapshot is outside the narrow window but still the baseline of recent velocity.
    assert narrow.set_index("external_id").loc["both", "recent_velocity"] == pytest.approx(800 / 24)


def test_a_live_collection_after_midnight_is_inside_its_days_window():
    collected = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    frame = analysis.trends_frame([trend("x", collected=collected)])
    report = analysis.build_trend_report(frame, DAY, window_end=collected)
    assert report.trend_count == 1 and report.window_end == collected
    with pytest.raises(ValueError, match="no trends collected"):
        analysis.build_trend_report(frame, DAY)  # a window ending at midnight misses it


def test_collection_window_asks_for_the_day_or_up_to_now():
    assert windows.collection_window(DAY, datetime(2026, 11, 26, tzinfo=UTC), 24) == (
        datetime(2026, 11, 24, tzinfo=UTC),
        datetime(2026, 11, 25, tzinfo=UTC),
    )
    now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    assert windows.collection_window(DAY, now, 48) == (now - timedelta(hours=48), now)
    with pytest.raises(ValueError, match="has not started"):
        windows.collection_window(DAY, datetime(2026, 11, 23, 23, 0, tzinfo=UTC), 24)


# --- data checks and report consistency -------------------------------------------------------------------


def test_data_checks_count_duplicates_negatives_and_future_posts():
    frame = analysis.trends_frame([trend("a"), trend("b"), trend("c")])
    frame.loc[1, "external_id"] = "a"
    frame.loc[2, "likes"] = -1
    frame.loc[2, "views"] = -5
    frame.loc[0, "posted_at"] = END + timedelta(hours=1)
    assert analysis.duplicate_keys(frame) == 1
    assert analysis.negative_counts(frame) == {"views": 1, "likes": 1}
    assert analysis.posted_in_future(frame, now=END + timedelta(days=1)) == 1
    frame.loc[0, "posted_at"] = END + timedelta(minutes=4)  # within the clock skew
    assert analysis.posted_in_future(frame, now=END + timedelta(days=1)) == 0


def test_posting_after_now_counts_even_when_collection_claims_later():
    frame = analysis.trends_frame([trend("a", collected=END + timedelta(days=2), hours_ago=1)])
    assert analysis.posted_in_future(frame, now=END) == 1


def sample_report():
    frame = analysis.trends_frame(sample_trends("youtube", DAY) + sample_trends("tiktok", DAY))
    return analysis.build_trend_report(frame, DAY), frame


def test_a_report_is_consistent_with_its_input():
    report, frame = sample_report()
    assert analysis.report_consistency_problems(report, frame) == []
    assert sum(report.counts_by_style.values()) == report.trend_count
    assert set(report.velocity_by_style) == set(report.counts_by_style)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"trend_count": 99}, "trend_count is 99"),
        ({"counts_by_platform": {"tiktok": 60, "youtube": 40}}, "counts_by_platform"),
        ({"duration_histogram": {"0-15s": 1}}, "duration_histogram sums to 1"),
        ({"dominant_style": "animation"}, "dominant_style"),
    ],
)
def test_an_inconsistent_report_is_caught(change, problem):
    report, frame = sample_report()
    if change.get("dominant_style") == report.dominant_style:
        change = {"dominant_style": "montage"}
    problems = analysis.report_consistency_problems(report.model_copy(update=change), frame)
    assert any(problem in p for p in problems), problems


def test_top_performers_from_outside_the_window_are_caught():
    report, frame = sample_report()
    stranger = report.top_performers[0].model_copy(update={"external_id": "not-collected"})
    tampered = report.model_copy(update={"top_performers": [stranger, *report.top_performers[1:]]})
    assert analysis.report_consistency_problems(tampered, frame) == [
        "top performers not in the window: ['not-collected']"
    ]


def test_styles_from_a_classifier_replace_the_rules_and_drive_text_overlay():
    frame = analysis.trends_frame([trend(f"t{i}", likes=100 + i) for i in range(12)])
    window = analysis.window_trends(frame, windows.analysis_window(DAY, 24))
    styled = analysis.with_styles(window, pd.Series("text-heavy", index=window.index))
    report = analysis.report_from_window(
        styled, DAY, windows.analysis_window(DAY, 24), classifier="openai:x"
    )
    assert report.dominant_style == "text-heavy" and report.classifier == "openai:x"
    assert report.patterns[0].text_overlay_share == 1.0
    assert report.counts_by_style == {"text-heavy": 12}


def test_style_inputs_carry_what_a_classifier_needs_keyed_by_index():
    frame = analysis.trends_frame([trend("a", title="Hi", description="d" * 500, sound=None, tags=["x"])])
    frame.index = [7]
    (item,) = analysis.style_inputs(frame)
    assert item["id"] == "7" and item["title"] == "Hi" and len(item["description"]) == 300
    assert item["hashtags"] == ["x"] and item["sound_name"] is None and item["duration_s"] == 20.0


# --- unknown counts and live broadcasts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("likes", "comments", "shares", "velocity"),
    [
        (None, 10, 10, 5.0),  # hidden likes: the known parts still count
        (100, None, None, 25.0),  # comments off, shares not exposed
        (None, None, None, None),  # nothing known: no velocity, not 0
    ],
)
def test_velocity_sums_only_the_known_engagement_and_is_unknown_when_none_is_known(
    likes, comments, shares, velocity
):
    frame = analysis.trends_frame([trend(likes=likes, comments=comments, shares=shares, hours_ago=4)])
    result = analysis.engagement_velocity(frame).iloc[0]
    assert pd.isna(result) if velocity is None else result == pytest.approx(velocity)


def test_unknown_counts_stay_null_in_the_trends_table_and_its_parquet_file(tmp_path):
    frame = analysis.trends_frame([trend("a", likes=None, comments=0, shares=None), trend("b")])
    assert {str(frame[c].dtype) for c in analysis.COUNT_COLUMNS} == {"Int64"}
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    stored = analysis.conform_trends(pd.read_parquet(tmp_path / "t.parquet")).set_index("external_id")
    assert pd.isna(stored.loc["a", "likes"]) and pd.isna(stored.loc["a", "shares"])
    assert stored.loc["a", "comments"] == 0 and stored.loc["b", "likes"] == 100
    assert analysis.negative_counts(stored) == {}  # unknown is not negative


def test_parquet_files_from_before_unknown_values_read_with_defaults(tmp_path):
    old = analysis.trends_frame([trend("x", likes=10, collected=END - timedelta(hours=6))])
    old = old.drop(columns=["content_kind"]).astype({c: "int64" for c in analysis.COUNT_COLUMNS})
    old.to_parquet(tmp_path / "old.parquet", index=False)
    new = analysis.trends_frame(
        [trend("x", likes=None, comments=20, shares=5), trend("live", kind="live", duration=None)]
    )

    merged = analysis.merge_snapshots(pd.read_parquet(tmp_path / "old.parquet"), new)
    assert merged.groupby("external_id")["content_kind"].agg(list).to_dict() == {
        "live": ["live"],
        "x": ["video", "video"],  # the old snapshot reads as what it was: a video
    }
    data = analysis.window_trends(merged, windows.analysis_window(DAY, 24))
    assert set(data["external_id"]) == {"x", "live"}
    # Recent velocity uses only the parts known in both snapshots: comments 10 -> 20, shares 5 -> 5 in 6 h.
    assert data.set_index("external_id").loc["x", "recent_velocity"] == pytest.approx(10 / 6)


def test_live_broadcasts_and_unknown_durations_stay_out_of_duration_statistics():
    videos = [trend(f"v{i}", duration=20.0, likes=100 + i) for i in range(12)]
    # Live broadcasts engage fastest of all; a photo post has no length.
    live = [trend(f"l{i}", kind="live", duration=None, likes=10**6) for i in range(3)]
    photo = trend("p", kind="photo", duration=None, likes=10**5)
    report = analysis.build_trend_report(analysis.trends_frame(videos + live + [photo]), DAY)

    assert report.trend_count == 16
    assert report.duration_histogram == {"15-30s": 12, "live": 3, "unknown": 1}
    assert report.recommended_duration_s == 20.0
    assert all(p.avg_duration_s == 20.0 for p in report.patterns)
    assert {p.external_id for p in report.top_performers} <= {f"v{i}" for i in range(12)}
    assert report.top_performers[0].external_id == "v11"
    assert analysis.report_consistency_problems(report, analysis.trends_frame(videos + live + [photo])) == []


def test_a_report_with_unknown_counts_keeps_them_out_of_rankings_and_survives_json():
    known = [trend(f"k{i}", likes=100 + i, comments=None, shares=None) for i in range(11)]
    unknown = [trend(f"u{i}", likes=None, comments=None, shares=None, description="vlog") for i in range(3)]
    frame = analysis.trends_frame(known + unknown)
    report = analysis.build_trend_report(frame, DAY)
    assert report.trend_count == 14
    assert not {p.external_id for p in report.top_performers} & {f"u{i}" for i in range(3)}
    assert report.counts_by_style["montage"] == 3 and "montage" not in report.velocity_by_style
    assert TrendReport.model_validate_json(report.model_dump_json()) == report


def test_a_window_where_nothing_can_be_ranked_says_why():
    frame = analysis.trends_frame([trend("u", likes=None, comments=None, shares=None)])
    with pytest.raises(ValueError, match="known engagement and duration"):
        analysis.build_trend_report(frame, DAY)


def test_style_inputs_send_an_unknown_duration_as_null():
    frame = analysis.trends_frame([trend("l", kind="live", duration=None)])
    (item,) = analysis.style_inputs(frame)
    assert item["duration_s"] is None
