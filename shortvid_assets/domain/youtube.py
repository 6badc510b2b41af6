"""YouTube Data API v3 JSON -> `Trend` (TREND-2, TREND-3), and the item checks both collectors share.

Pure functions, no I/O. A malformed item never raises out of `normalize_items`: it is skipped and its
reason counted, so one bad record cannot sink a day's collection. An item that lacks only a field the
analysis can do without (a hidden like count, comments turned off) is kept with that value None
(unknown, never 0) and the field counted, so a real zero stays distinguishable from "not sent".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shortvid_assets.domain.models import Trend

# Tolerated difference between the API's clock and ours before a posting time counts as "in the future".
CLOCK_SKEW = timedelta(minutes=5)
# No short-video platform has content older than this: earlier posting times are corrupt data.
EARLIEST_POSTED_AT = datetime(2005, 1, 1, tzinfo=UTC)
# Engagement counts above this are corrupt data (the most-viewed videos have ~10^10 views).
MAX_PLAUSIBLE_COUNT = 10**12
# Durations above this are corrupt data for a short-video trend.
MAX_PLAUSIBLE_DURATION_S = 12 * 3600.0
MAX_HASHTAGS = 30
YOUTUBE_THUMBNAIL_ORDER = ("maxres", "standard", "high", "medium", "default")

_ISO_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_HASHTAG = re.compile(r"(?<![\w#])#(\w{1,100})")


class InvalidItem(ValueError):
    """An API item that cannot become a `Trend`; `reason` is the short key it is counted under."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class Normalized:
    """One item as a `Trend`, and the fields the item should have carried but did not (kept as None)."""

    trend: Trend
    unknown_fields: tuple[str, ...] = ()


@dataclass
class NormalizedItems:
    """Usable items as trends, skipped items by reason, and the fields each kept item lacked (by external id)."""

    trends: list[Trend] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    unknown_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def extend(self, other: NormalizedItems) -> None:
        """Add another page's outcome to this one."""
        self.trends.extend(other.trends)
        self.skipped.update(other.skipped)
        self.unknown_fields.update(other.unknown_fields)

    def unknown_field_counts(self, trends: Iterable[Trend] | None = None) -> tuple[Counter[str], int]:
        """Per field, how many of `trends` (every kept one by default) lack it; and how many lack any field."""
        per_field: Counter[str] = Counter()
        lacking = 0
        for trend in self.trends if trends is None else trends:
            fields = self.unknown_fields.get(trend.external_id, ())
            per_field.update(fields)
            lacking += bool(fields)
        return per_field, lacking


def normalize_items(
    items: Iterable[Any], normalize: Callable[[Any], Normalized], *, seen: set[str] | None = None
) -> NormalizedItems:
    """Every item through `normalize`: usable ones kept once per external id, the others counted by reason.

    `seen` carries the external ids already kept across pages, so a repeat on a later page is counted
    as a duplicate (and its unknown fields are not counted again).
    """
    seen = set() if seen is None else seen
    result = NormalizedItems()
    for item in items:
        try:
            normalized = normalize(item)
        except InvalidItem as exc:
            result.skipped[exc.reason] += 1
            continue
        except ValueError:  # pydantic rejected a value the checks above let through
            result.skipped["invalid_item"] += 1
            continue
        trend = normalized.trend
        if trend.external_id in seen:
            result.skipped["duplicate"] += 1
            continue
        seen.add(trend.external_id)
        result.trends.append(trend)
        if normalized.unknown_fields:
            result.unknown_fields[trend.external_id] = normalized.unknown_fields
    return result


# --- checks shared by the YouTube and TikTok normalizers -------------------------------------------------


def parse_iso8601_duration(value: str) -> float:
    """Seconds in an ISO-8601 duration such as `PT1M5S`, `PT59.5S`, `P0D` or `P1DT2H` (years/months refused)."""
    if not isinstance(value, str):
        raise ValueError(f"duration must be a string like 'PT45S', got {type(value).__name__}")
    match = _ISO_DURATION.match(value.strip().upper())
    if not match:
        raise ValueError(f"not an ISO-8601 duration of weeks/days/hours/minutes/seconds: {value!r}")
    parts = {name: float(number) for name, number in match.groupdict().items() if number is not None}
    return (
        parts.get("weeks", 0.0) * 604800
        + parts.get("days", 0.0) * 86400
        + parts.get("hours", 0.0) * 3600
        + parts.get("minutes", 0.0) * 60
        + parts.get("seconds", 0.0)
    )


def optional_count(value: Any, name: str, unknown: list[str], field_name: str) -> int | None:
    """A count that may be absent: None (and `field_name` noted in `unknown`) when the API did not send it."""
    if value is None:
        unknown.append(field_name)
        return None
    return parse_count(value, name)


def parse_count(value: Any, name: str) -> int:
    """An engagement count from an int or a decimal string (YouTube sends strings); InvalidItem otherwise."""
    if isinstance(value, bool):
        raise InvalidItem("invalid_count", f"{name} is a boolean")
    if isinstance(value, int):
        count = value
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")) or not value.is_integer():
            raise InvalidItem("invalid_count", f"{name}={value!r} is not a whole number")
        count = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        count = int(value)
    else:
        raise InvalidItem("invalid_count", f"{name}={value!r:.40} is not a whole number")
    if count < 0:
        raise InvalidItem("negative_count", f"{name}={count}")
    if count > MAX_PLAUSIBLE_COUNT:
        raise InvalidItem("absurd_count", f"{name}={count}")
    return count


def parse_timestamp(value: Any, name: str) -> datetime:
    """A timezone-aware UTC datetime from ISO-8601 text or Unix seconds; naive text is taken as UTC."""
    if isinstance(value, bool):
        raise InvalidItem("invalid_posted_at", f"{name} is a boolean")
    try:
        if isinstance(value, int | float) or (
            isinstance(value, str) and re.fullmatch(r"\s*\d{9,11}\s*", value)
        ):
            parsed = datetime.fromtimestamp(float(value), tz=UTC)
        elif isinstance(value, str) and value.strip():
            text = value.strip()
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            parsed = datetime.fromisoformat(text)
        else:
            raise InvalidItem("invalid_posted_at", f"{name}={value!r:.40}")
    except (ValueError, OverflowError, OSError) as exc:
        raise InvalidItem("invalid_posted_at", f"{name}={value!r:.40}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def check_posted_at(posted_at: datetime, collected_at: datetime, skew: timedelta = CLOCK_SKEW) -> None:
    """Refuse posting times in the future (beyond the clock-skew allowance) or before any platform existed."""
    if posted_at > collected_at + skew:
        raise InvalidItem(
            "posted_in_future", f"posted {posted_at.isoformat()}, now {collected_at.isoformat()}"
        )
    if posted_at < EARLIEST_POSTED_AT:
        raise InvalidItem("implausible_posted_at", posted_at.isoformat())


def check_duration(duration_s: float) -> float:
    """Refuse zero, negative and absurdly long durations."""
    if duration_s != duration_s or duration_s <= 0:
        raise InvalidItem("zero_duration", f"{duration_s}")
    if duration_s > MAX_PLAUSIBLE_DURATION_S:
        raise InvalidItem("absurd_duration", f"{duration_s:.0f} s")
    return duration_s


def extract_hashtags(*texts: str | None, tags: Iterable[Any] = ()) -> list[str]:
    """Hashtags from explicit tags first, then `#words` in the texts; lowercased, unique, in order."""
    found: dict[str, None] = {}
    for tag in tags:
        if isinstance(tag, str):
            clean = "".join(tag.strip().lstrip("#").split()).lower()
            if clean and not clean.isdigit():
                found.setdefault(clean, None)
    for text in texts:
        if isinstance(text, str):
            for match in _HASHTAG.finditer(text):
                tag = match.group(1).lower()
                if not tag.isdigit():
                    found.setdefault(tag, None)
    return list(found)[:MAX_HASHTAGS]


def text_field(value: Any, name: str, *, required: bool = False) -> str:
    """A string field; None/missing becomes '' unless required; any other type is invalid."""
    if value is None:
        if required:
            raise InvalidItem(f"missing_{name}")
        return ""
    if not isinstance(value, str):
        raise InvalidItem(f"invalid_{name}", f"{name} is a {type(value).__name__}")
    return value


def identifier(value: Any, name: str) -> str:
    """A non-empty id from a string or an integer."""
    if isinstance(value, bool) or value is None:
        raise InvalidItem(f"missing_{name}")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidItem(f"invalid_{name}", f"{name} is a {type(value).__name__}")
    value = value.strip()
    if not value:
        raise InvalidItem(f"missing_{name}")
    return value


# --- YouTube ---------------------------------------------------------------------------------------------


def search_video_ids(payload: Any) -> tuple[list[str], str | None, Counter[str]]:
    """Video ids and the next page token of a `search.list` response, with counted reasons for skipped items."""
    if not isinstance(payload, Mapping):
        raise ValueError(f"search.list response must be a JSON object, got {type(payload).__name__}")
    items = payload.get("items", [])
    if not isinstance(items, list):
        raise ValueError(f"search.list 'items' must be a list, got {type(items).__name__}")
    token = payload.get("nextPageToken")
    token = token if isinstance(token, str) and token else None
    ids: list[str] = []
    skipped: Counter[str] = Counter()
    for item in items:
        ident = item.get("id") if isinstance(item, Mapping) else None
        video_id = ident.get("videoId") if isinstance(ident, Mapping) else None
        kind = ident.get("kind", "youtube#video") if isinstance(ident, Mapping) else None
        if kind != "youtube#video" or not isinstance(video_id, str) or not video_id.strip():
            skipped["search_item_without_video_id"] += 1
        elif video_id in ids:
            skipped["duplicate"] += 1
        else:
            ids.append(video_id.strip())
    return ids, token, skipped


def video_items(payload: Any) -> list[Any]:
    """The `items` of a `videos.list` response."""
    if not isinstance(payload, Mapping):
        raise ValueError(f"videos.list response must be a JSON object, got {type(payload).__name__}")
    items = payload.get("items", [])
    if not isinstance(items, list):
        raise ValueError(f"videos.list 'items' must be a list, got {type(items).__name__}")
    return items


def _best_thumbnail(thumbnails: Any) -> str | None:
    if not isinstance(thumbnails, Mapping):
        return None
    for key in YOUTUBE_THUMBNAIL_ORDER:
        thumb = thumbnails.get(key)
        if isinstance(thumb, Mapping) and isinstance(thumb.get("url"), str) and thumb["url"]:
            return thumb["url"]
    return None


def _section(item: Mapping[str, Any], name: str, reason: str) -> Mapping[str, Any]:
    section = item.get(name)
    if section is None:
        raise InvalidItem(reason)
    if not isinstance(section, Mapping):
        raise InvalidItem(reason.replace("missing_", "invalid_"), f"{name} is a {type(section).__name__}")
    return section


def _duration(details: Mapping[str, Any], max_duration_s: float | None) -> float:
    raw_duration = details.get("duration")
    if raw_duration is None:
        raise InvalidItem("missing_duration")
    try:
        duration_s = parse_iso8601_duration(raw_duration)
    except ValueError as exc:
        raise InvalidItem("invalid_duration", str(exc)) from exc
    check_duration(duration_s)
    if max_duration_s is not None and duration_s >= max_duration_s:
        raise InvalidItem("too_long", f"{duration_s:.0f} s >= {max_duration_s:.0f} s")
    return duration_s


def normalize_video(
    item: Any,
    *,
    collected_at: datetime,
    max_duration_s: float | None = 60.0,
    skew: timedelta = CLOCK_SKEW,
    window: tuple[datetime, datetime] | None = None,
) -> Normalized:
    """One `videos.list` item (parts snippet, statistics, contentDetails) as a `Trend`; InvalidItem if unusable.

    A broadcast that is live now (`snippet.liveBroadcastContent == "live"`, duration `P0D`) is kept as
    `content_kind="live"` with no duration; an upcoming one has nothing to watch yet and is skipped.
    """
    if not isinstance(item, Mapping):
        raise InvalidItem("not_an_object", type(item).__name__)
    video_id = identifier(item.get("id"), "id")
    snippet = _section(item, "snippet", "missing_snippet")
    statistics = _section(item, "statistics", "missing_statistics")
    details = _section(item, "contentDetails", "missing_content_details")

    broadcast = snippet.get("liveBroadcastContent")
    if broadcast == "upcoming":
        raise InvalidItem("upcoming_broadcast")
    live = broadcast == "live"
    duration_s = None if live else _duration(details, max_duration_s)

    if snippet.get("publishedAt") is None:
        raise InvalidItem("missing_posted_at")
    posted_at = parse_timestamp(snippet.get("publishedAt"), "publishedAt")
    check_posted_at(posted_at, collected_at, skew)
    if window is not None and not (window[0] - skew <= posted_at <= window[1] + skew):
        raise InvalidItem("outside_window", posted_at.isoformat())

    if statistics.get("viewCount") is None:
        raise InvalidItem("missing_views")
    views = parse_count(statistics.get("viewCount"), "viewCount")
    # likeCount is absent when the creator hides likes, commentCount when comments are off: unknown, not 0.
    unknown: list[str] = []
    likes = optional_count(statistics.get("likeCount"), "likeCount", unknown, "likes")
    comments = optional_count(statistics.get("commentCount"), "commentCount", unknown, "comments")

    title = text_field(snippet.get("title"), "title", required=True)
    description = text_field(snippet.get("description"), "description")
    channel_id = identifier(snippet.get("channelId"), "creator_id")
    channel_title = text_field(snippet.get("channelTitle"), "creator_name") or channel_id
    raw_tags = snippet.get("tags", [])
    tags = raw_tags if isinstance(raw_tags, list) else []

    trend = Trend(
        platform="youtube",
        external_id=video_id,
        title=title,
        description=description,
        hashtags=extract_hashtags(title, description, tags=tags),
        views=views,
        likes=likes,
        comments=comments,
        shares=None,  # the Data API never exposes shares: unknown for every video, so not counted as missing
        duration_s=duration_s,
        content_kind="live" if live else "video",
        creator_name=channel_title,
        creator_id=channel_id,
        sound_name=None,
        video_url=f"https://www.youtube.com/shorts/{video_id}",
        thumbnail_url=_best_thumbnail(snippet.get("thumbnails")),
        posted_at=posted_at,
        collected_at=collected_at,
    )
    return Normalized(trend, tuple(unknown))


def normalize_videos(
    items: Iterable[Any],
    *,
    collected_at: datetime,
    max_duration_s: float | None = 60.0,
    skew: timedelta = CLOCK_SKEW,
    window: tuple[datetime, datetime] | None = None,
    seen: set[str] | None = None,
) -> NormalizedItems:
    """Every usable `videos.list` item as a `Trend`, with skipped items and unknown fields counted."""

    def normalize(item: Any) -> Normalized:
        return normalize_video(
            item, collected_at=collected_at, max_duration_s=max_duration_s, skew=skew, window=window
        )

    return normalize_items(items, normalize, seen=seen)
