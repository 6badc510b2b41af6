"""Apify TikTok scraper dataset items -> `Trend` (TREND-1, TREND-3).

The item shape is that of clockworks/tiktok-scraper: `id`, `text`, `createTimeISO` (or Unix `createTime`),
`authorMeta{id,name,nickName}`, `musicMeta{musicName}`, `videoMeta{duration,coverUrl}`, `webVideoUrl`,
`playCount`, `diggCount`, `commentCount`, `shareCount`, `hashtags[{name}]`. Variants seen from other
actors and from flattened exports are accepted too: `desc` for the text, `videoId` for the id, counts
under `stats`, and dotted keys such as `"authorMeta.name"`.

Essential are the id, the posting time, the play count and a creator; a photo post (`isSlideshow`)
without `videoMeta`, or an item without like, comment or share counts, is kept with those values
unknown (None) and the missing fields counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from shortvid_assets.domain.models import Trend
from shortvid_assets.domain.youtube import (
    CLOCK_SKEW,
    InvalidItem,
    Normalized,
    NormalizedItems,
    check_duration,
    check_posted_at,
    extract_hashtags,
    identifier,
    normalize_items,
    optional_count,
    parse_count,
    parse_timestamp,
    text_field,
)

TITLE_MAX_CHARS = 100


def lookup(item: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, nested (`a: {b: ...}`) or flattened (`"a.b": ...`); None when absent."""
    if path in item:
        return item[path]
    node: Any = item
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _first(item: Mapping[str, Any], *paths: str) -> Any:
    for path in paths:
        value = lookup(item, path)
        if value is not None:
            return value
    return None


def _count(item: Mapping[str, Any], name: str) -> Any:
    return _first(item, name, f"stats.{name}")


def _duration(item: Mapping[str, Any], photo: bool, unknown: list[str]) -> float | None:
    """The video's length; None (noted unknown) when absent, or zero on a photo post, which has no length."""
    raw_duration = _first(item, "videoMeta.duration", "video.duration")
    if raw_duration is None:
        unknown.append("duration_s")
        return None
    if isinstance(raw_duration, bool) or not isinstance(raw_duration, int | float | str):
        raise InvalidItem("invalid_duration", f"duration is a {type(raw_duration).__name__}")
    try:
        duration_s = float(raw_duration)
    except ValueError as exc:
        raise InvalidItem("invalid_duration", f"{raw_duration!r:.40}") from exc
    if photo and duration_s == 0:
        unknown.append("duration_s")
        return None
    return check_duration(duration_s)


def _title(text: str) -> str:
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first_line) <= TITLE_MAX_CHARS:
        return first_line
    return first_line[: TITLE_MAX_CHARS - 1].rstrip() + "…"


def _hashtag_names(value: Any) -> list[str]:
    names: list[str] = []
    if isinstance(value, list):
        for tag in value:
            if isinstance(tag, Mapping) and isinstance(tag.get("name"), str):
                names.append(tag["name"])
            elif isinstance(tag, str):
                names.append(tag)
    return names


def _url(value: Any) -> str | None:
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None


def normalize_tiktok_item(item: Any, *, collected_at: datetime, skew: timedelta = CLOCK_SKEW) -> Normalized:
    """One TikTok scraper dataset item as a `Trend`, with the fields it lacked; InvalidItem if unusable."""
    if not isinstance(item, Mapping):
        raise InvalidItem("not_an_object", type(item).__name__)
    if item.get("error") is not None and _first(item, "id", "videoId") is None:
        # Scrapers push `{"error": "..."}` rows for inputs they could not scrape.
        raise InvalidItem("scraper_error_item", str(item.get("error"))[:80])
    video_id = identifier(_first(item, "id", "videoId"), "id")
    photo = item.get("isSlideshow") is True
    unknown: list[str] = []
    duration_s = _duration(item, photo, unknown)

    raw_posted = _first(item, "createTimeISO", "createTime")
    if raw_posted is None:
        raise InvalidItem("missing_posted_at")
    posted_at = parse_timestamp(raw_posted, "createTime")
    check_posted_at(posted_at, collected_at, skew)

    if _count(item, "playCount") is None:
        raise InvalidItem("missing_views", "playCount")
    views = parse_count(_count(item, "playCount"), "playCount")
    likes = optional_count(_count(item, "diggCount"), "diggCount", unknown, "likes")
    comments = optional_count(_count(item, "commentCount"), "commentCount", unknown, "comments")
    shares = optional_count(_count(item, "shareCount"), "shareCount", unknown, "shares")

    text = text_field(_first(item, "text", "desc"), "text")
    author_handle = text_field(lookup(item, "authorMeta.name"), "creator_name")
    author_nick = text_field(lookup(item, "authorMeta.nickName"), "creator_name")
    author_id_raw = lookup(item, "authorMeta.id")
    creator_id = identifier(author_id_raw, "creator_id") if author_id_raw is not None else author_handle
    creator_name = author_nick or author_handle or creator_id
    if not creator_id:
        raise InvalidItem("missing_creator")

    video_url = _url(lookup(item, "webVideoUrl"))
    if video_url is None:
        if not author_handle:
            raise InvalidItem("missing_video_url")
        video_url = f"https://www.tiktok.com/@{author_handle}/video/{video_id}"

    music = lookup(item, "musicMeta.musicName")
    sound_name = music.strip() if isinstance(music, str) and music.strip() else None
    thumbnail = _url(_first(item, "videoMeta.coverUrl", "videoMeta.originalCoverUrl", "covers.default"))

    trend = Trend(
        platform="tiktok",
        external_id=video_id,
        title=_title(text),
        description=text,
        hashtags=extract_hashtags(text, tags=_hashtag_names(item.get("hashtags"))),
        views=views,
        likes=likes,
        comments=comments,
        shares=shares,
        duration_s=duration_s,
        content_kind="photo" if photo else "video",
        creator_name=creator_name,
        creator_id=creator_id,
        sound_name=sound_name,
        video_url=video_url,
        thumbnail_url=thumbnail,
        posted_at=posted_at,
        collected_at=collected_at,
    )
    return Normalized(trend, tuple(unknown))


def normalize_tiktok_items(
    items: Iterable[Any],
    *,
    collected_at: datetime,
    skew: timedelta = CLOCK_SKEW,
    seen: set[str] | None = None,
) -> NormalizedItems:
    """Every usable dataset item as a `Trend`, with skipped items and unknown fields counted."""
    return normalize_items(
        items, lambda item: normalize_tiktok_item(item, collected_at=collected_at, skew=skew), seen=seen
    )
