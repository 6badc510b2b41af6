"""Protects the pure parsing under the collectors: ISO-8601 durations, counts, timestamps and hashtags.

These functions live in shortvid_assets/domain/youtube.py and domain/apify.py; the clients' tests drive
them over HTTP, these pin their edge cases directly.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shortvid_assets.domain.apify import lookup, normalize_tiktok_items
from shortvid_assets.domain.youtube import (
    InvalidItem,
    NormalizedItems,
    extract_hashtags,
    normalize_videos,
    parse_count,
    parse_iso8601_duration,
    parse_timestamp,
    search_video_ids,
)
from shortvid_assets_tests.fakes.apify import make_tiktok_item
from shortvid_assets_tests.fakes.youtube import make_video

NOW = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT45S", 45),
        ("PT1M5S", 65),
        ("PT59.5S", 59.5),
        ("PT1H", 3600),
        ("PT2H3M4S", 7384),
        ("P0D", 0),
        ("P1DT1S", 86401),
        ("P1W", 604800),
        ("pt15m51s", 951),
        ("PT0S", 0),
    ],
)
def test_iso8601_durations(text, seconds):
    assert parse_iso8601_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "P", "PT", "45", "PT-5S", "P1Y", "P2M", "PT1S5M", "1 minute", "PT5SX"])
def test_malformed_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_iso8601_duration(text)


def test_counts_accept_ints_and_decimal_strings_only():
    assert parse_count("12345", "views") == 12345
    assert parse_count(7, "views") == 7
    assert parse_count(3.0, "views") == 3
    for bad, reason in [
        ("1e3", "invalid_count"),
        (1.5, "invalid_count"),
        (None, "invalid_count"),
        (False, "invalid_count"),
        ("-1", "negative_count"),
        (10**13, "absurd_count"),
        (float("nan"), "invalid_count"),
    ]:
        with pytest.raises(InvalidItem) as caught:
            parse_count(bad, "views")
        assert caught.value.reason == reason, bad


def test_timestamps_from_iso_text_and_unix_seconds_are_utc():
    expected = datetime(2026, 3, 1, 8, 15, tzinfo=UTC)
    assert parse_timestamp("2026-03-01T08:15:00Z", "t") == expected
    assert parse_timestamp("2026-03-01T08:15:00.000Z", "t") == expected
    assert parse_timestamp("2026-03-01T09:15:00+01:00", "t") == expected
    assert parse_timestamp("2026-03-01T08:15:00", "t") == expected  # naive text is taken as UTC
    assert parse_timestamp(int(expected.timestamp()), "t") == expected
    assert parse_timestamp(str(int(expected.timestamp())), "t") == expected
    for bad in ["", "soon", 10**20, [2026], True]:
        with pytest.raises(InvalidItem, match="invalid_posted_at"):
            parse_timestamp(bad, "t")


def test_hashtags_from_tags_then_texts_normalized_and_unique():
    tags = extract_hashtags(
        "Best #LifeHack ever #1 #life_hack",
        "#shorts and more#notatag #LIFEHACK",
        tags=["Life Hack", "#Shorts", 5, "  "],
    )
    assert tags == ["lifehack", "shorts", "life_hack"]
    assert len(extract_hashtags(" ".join(f"#t{i}" for i in range(100)))) == 30


def test_search_ids_skip_non_videos_and_duplicates():
    payload = {
        "nextPageToken": "CAE50QAA",
        "items": [
            {"id": {"kind": "youtube#video", "videoId": "a"}},
            {"id": {"kind": "youtube#playlist", "playlistId": "p"}},
            {"id": {"kind": "youtube#video", "videoId": "a"}},
            {"id": "b"},
        ],
    }
    ids, token, skipped = search_video_ids(payload)
    assert (ids, token) == (["a"], "CAE50QAA")
    assert skipped == {"search_item_without_video_id": 2, "duplicate": 1}
    assert search_video_ids({}) == ([], None, {})


def test_lookup_reads_nested_and_flattened_paths():
    assert lookup({"a": {"b": 1}}, "a.b") == 1
    assert lookup({"a.b": 2}, "a.b") == 2
    assert lookup({"a": "x"}, "a.b") is None


def _youtube_pages():
    hidden = make_video("yt-hidden", likes=None)
    return normalize_videos, [
        [make_video("yt-a"), hidden, "junk"],
        [make_video("yt-a"), make_video("yt-b", comments=None)],
    ]


def _tiktok_pages():
    hidden = make_tiktok_item("73-hidden")
    del hidden["diggCount"]
    no_comments = make_tiktok_item("73-b")
    del no_comments["commentCount"]
    return normalize_tiktok_items, [
        [make_tiktok_item("73-a"), hidden, "junk"],
        [make_tiktok_item("73-a"), no_comments],
    ]


@pytest.mark.parametrize("pages", [_youtube_pages, _tiktok_pages], ids=["youtube", "tiktok"])
def test_both_platforms_share_one_normalizing_loop_that_counts_skips_duplicates_and_unknown_fields(pages):
    normalize, raw_pages = pages()
    seen: set[str] = set()
    total = NormalizedItems()
    for raw in raw_pages:
        page = normalize(raw, collected_at=NOW, seen=seen)
        assert isinstance(page, NormalizedItems)
        total.extend(page)
    assert len(total.trends) == 3
    assert total.skipped == {"not_an_object": 1, "duplicate": 1}
    unknown, lacking = total.unknown_field_counts()
    assert unknown == {"likes": 1, "comments": 1} and lacking == 2
    # Counted over the trends a client keeps, not over everything it read.
    first_two = total.trends[:2]
    assert total.unknown_field_counts(first_two) == ({"likes": 1}, 1)
