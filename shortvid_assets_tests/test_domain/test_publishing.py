"""Protects the pure side of publishing: upload metadata that YouTube accepts (lengths in its own units, no
angle brackets, the marker always present, scheduling only when private, synthetic media disclosed) and the
performance report that ranks own videos and picks each theme's best hook pattern and style.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from shortvid_assets.domain.models import VideoPlan
from shortvid_assets.domain.publishing import (
    DESCRIPTION_MAX_BYTES,
    TAGS_MAX_CHARS,
    StatsSnapshot,
    UploadMetadata,
    VideoFeatures,
    build_upload_metadata,
    performance_report,
    publication_marker,
    tags_length,
    views_per_day,
)
from shortvid_assets_tests.fakes.fake_openai import plan_dict

SHA = "0123456789abcdef" + "f" * 48
MARKER = "shortvid:0123456789abcdef"
DAY = date(2026, 12, 3)


def make_plan(**overrides) -> VideoPlan:
    return VideoPlan.model_validate(plan_dict() | overrides)


def build(plan: VideoPlan | None = None, **kwargs):
    options = {"sha256": SHA, "voice_generated": True, "visuals_generated": False} | kwargs
    return build_upload_metadata(plan or make_plan(), **options)


# --- upload metadata ---------------------------------------------------------------------------------------


def test_metadata_carries_script_hashtags_credits_disclosure_and_marker():
    meta = build(
        credits=["Video by Ann on Pexels (https://www.pexels.com/video/1/)"], theme_hashtags=["GlowBrew"]
    )
    assert meta.title == "Is your morning coffee lying to you?"
    assert meta.description.startswith(
        "GlowBrew cold brew: smooth energy without the crash.\n\nIs your morning"
    )
    assert "#glowbrew" in meta.description
    assert "Credits:\n- Video by Ann on Pexels (https://www.pexels.com/video/1/)" in meta.description
    assert "Made with AI-generated voice." in meta.description
    assert meta.description.endswith(MARKER) and meta.marker == MARKER
    assert meta.tags[0] == MARKER and "glowbrew" in meta.tags and "talking-head" in meta.tags
    assert meta.contains_synthetic_media and meta.privacy_status == "private" and meta.publish_at is None


@pytest.mark.parametrize(
    ("voice", "visuals", "expected"),
    [(False, False, False), (True, False, True), (False, True, True), (True, True, True)],
)
def test_synthetic_media_is_disclosed_when_voice_or_visuals_are_generated(voice, visuals, expected):
    meta = build(voice_generated=voice, visuals_generated=visuals)
    assert meta.contains_synthetic_media is expected
    assert ("AI-generated" in meta.description) is expected


def test_angle_brackets_are_replaced_everywhere():
    plan = make_plan(title="Coffee <3 > tea", description="a <b>bold</b> claim", voiceover_script="x -> y")
    meta = build(plan, credits=["<script>"])
    for text in (meta.title, meta.description, *meta.tags):
        assert "<" not in text and ">" not in text


def test_a_long_script_is_cut_but_hashtags_credits_and_marker_stay():
    plan = make_plan(voiceover_script="é" * 6000)  # 2 bytes a character: 12,000 bytes
    meta = build(plan, credits=[f"Video by Person {i} on Pexels" for i in range(5)])
    assert len(meta.description.encode()) <= DESCRIPTION_MAX_BYTES
    assert (
        meta.description.endswith(MARKER) and "Person 4" in meta.description and "#coffee" not in meta.title
    )


def test_tags_stay_within_500_characters_as_youtube_counts_them():
    plan = make_plan(hashtags=[f"{'x' * 28}{i}" for i in range(8)])
    meta = build(plan, theme_hashtags=[f"{'y' * 28}{i}" for i in range(20)])
    assert tags_length(meta.tags) <= TAGS_MAX_CHARS and meta.tags[0] == MARKER


def test_tags_length_counts_commas_and_quotes_around_spaces():
    assert tags_length(["ab", "c d"]) == 2 + 1 + 3 + 2
    assert tags_length([]) == 0


def test_publish_at_only_with_private():
    when = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
    assert build(publish_at=when).publish_at == when
    with pytest.raises(ValueError, match="private"):
        build(publish_at=when, privacy_status="public")
    with pytest.raises(ValidationError, match="private"):
        UploadMetadata(title="t", description=MARKER, contains_synthetic_media=False, marker=MARKER,
                       privacy_status="unlisted", publish_at=when)  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "x" * 101}, "100"),
        ({"title": "a < b"}, "'<'"),
        ({"description": "no marker"}, "marker"),
        ({"description": MARKER + "é" * 2500}, "bytes"),
        ({"tags": ["a" * 501]}, "500"),
        ({"marker": "shortvid:xyz"}, "marker"),
    ],
)
def test_metadata_refuses_what_youtube_rejects(changes, message):
    values = {"title": "t", "description": MARKER, "contains_synthetic_media": False, "marker": MARKER}
    with pytest.raises(ValidationError, match=message):
        UploadMetadata(**(values | changes))


def test_publication_marker():
    assert publication_marker(SHA.upper()) == MARKER
    with pytest.raises(ValueError, match="64 hex"):
        publication_marker("abc")


# --- the performance report --------------------------------------------------------------------------------


def features(video_id: str, theme: str = "glowbrew", hook: str = "question", style: str = "talking-head",
             published: date = DAY - timedelta(days=10)) -> VideoFeatures:  # fmt: skip
    return VideoFeatures(video_id=video_id, theme=theme, hook_pattern=hook, style=style, duration_s=20.0,
                         voice="alloy", visuals_provider="pexels", caption_style="karaoke", language="en",
                         posting_hour=17, published_on=published)  # fmt: skip


def snap(video_id: str, day: date, views: int, retention: float | None = None) -> StatsSnapshot:
    return StatsSnapshot(video_id=video_id, day=day, views=views, average_view_percentage=retention)


@pytest.mark.parametrize(
    ("rows", "published", "expected"),
    [
        ([snap("v", DAY - timedelta(days=2), 100), snap("v", DAY, 500)], DAY - timedelta(days=5), (200.0, 2)),
        ([snap("v", DAY, 300)], DAY - timedelta(days=3), (100.0, 3)),  # one reading: since publication
        ([snap("v", DAY, 40)], DAY, (40.0, 1)),  # read on its first day
        (
            [snap("v", DAY - timedelta(days=1), 90), snap("v", DAY, 80)],
            DAY,
            (0.0, 1),
        ),  # counts corrected down
    ],
)
def test_views_per_day(rows, published, expected):
    assert views_per_day(rows, published) == expected


def test_no_data_gives_no_winners():
    report = performance_report([], [features("a")], as_of=DAY)
    assert report.videos == [] and report.themes == {}
    best = report.best_for("glowbrew")
    assert (best.best_hook_pattern, best.best_style, best.videos) == (None, None, 0)


def test_videos_rank_by_growth_and_retention_and_themes_pick_their_best_hook_and_style():
    yesterday = DAY - timedelta(days=1)
    snapshots = [
        snap("fast", yesterday, 1000), snap("fast", DAY, 3000, retention=40.0),  # +2000/day, low retention
        snap("kept", yesterday, 1000), snap("kept", DAY, 2500, retention=90.0),  # +1500/day, high retention
        snap("slow", yesterday, 100), snap("slow", DAY, 200, retention=60.0),  # +100/day
        snap("other", yesterday, 0), snap("other", DAY, 50),  # another theme, no retention
        snap("stranger", DAY, 10),  # no plan features: reported, not ranked
        snap("fast", DAY + timedelta(days=1), 99_999),  # after as_of: ignored
    ]  # fmt: skip
    feats = [
        features("fast", hook="bold-claim", style="montage"),
        features("kept", hook="question", style="talking-head"),
        features("slow", hook="question", style="montage"),
        features("other", theme="desk", hook="pov", style="tutorial"),
    ]
    report = performance_report(snapshots, feats, as_of=DAY)

    # Growth percentiles: fast 1, kept 2/3, slow 1/3, other 0; retention: kept 1, slow 1/2, fast 0.
    assert [(v.video_id, v.score) for v in report.videos] == [
        ("kept", 0.8333), ("fast", 0.5), ("slow", 0.4167), ("other", 0.0),
    ]  # fmt: skip
    kept = report.videos[0]
    assert (kept.views_per_day, kept.retention_pct, kept.latest_views, kept.rank) == (1500.0, 90.0, 2500, 1)
    assert report.videos[3].retention_pct is None
    assert report.unmatched_video_ids == ["stranger"]
    glow = report.best_for("glowbrew")
    assert glow.videos == 3
    assert glow.hook_scores == {"bold-claim": 0.5, "question": 0.625}
    assert glow.style_scores == pytest.approx({"montage": 0.4583, "talking-head": 0.8333}, abs=1e-4)
    assert (glow.best_hook_pattern, glow.best_style) == ("question", "talking-head")
    assert report.best_for("desk").best_hook_pattern == "pov"


def test_min_videos_keeps_a_single_lucky_video_from_winning():
    snapshots = [snap("a", DAY, 5000), snap("b", DAY, 100), snap("c", DAY, 120)]
    feats = [features("a", hook="pov"), features("b", hook="question"), features("c", hook="question")]
    assert performance_report(snapshots, feats, as_of=DAY).best_for("glowbrew").best_hook_pattern == "pov"
    careful = performance_report(snapshots, feats, as_of=DAY, min_videos=2).best_for("glowbrew")
    assert careful.best_hook_pattern == "question"
    assert (
        performance_report(snapshots, feats, as_of=DAY, min_videos=3).best_for("glowbrew").best_hook_pattern
        is None
    )


def test_ties_go_to_more_videos_then_alphabetical():
    snapshots = [snap("a", DAY, 100), snap("b", DAY, 100), snap("c", DAY, 100)]
    feats = [features("a", hook="zeta"), features("b", hook="alpha"), features("c", hook="zeta")]
    assert performance_report(snapshots, feats, as_of=DAY).best_for("glowbrew").best_hook_pattern == "zeta"
    feats = [features("a", hook="zeta"), features("b", hook="alpha")]
    assert (
        performance_report(snapshots[:2], feats, as_of=DAY).best_for("glowbrew").best_hook_pattern == "alpha"
    )
