"""Publishing as pure functions: the upload metadata of an approved video, and the performance report.

Metadata follows YouTube's limits (title ≤ 100 characters, description ≤ 5000 bytes, tags ≤ 500
characters counted as YouTube counts them, no `<` or `>` anywhere) and carries the publication marker
(`shortvid:<sha256 prefix>`) in the description and the tags, so a crashed upload can be found again.
`publishAt` is only valid with privacyStatus "private" (the API schedules a private video to go public).

The performance report ranks own videos by view growth per day and retention, and picks per theme the
hook pattern and style whose videos scored best; with no data the pick is None.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from statistics import mean
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from shortvid_assets.domain.models import VideoPlan

TITLE_MAX_CHARS = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX_CHARS = 500
TAG_MAX_CHARS = 30  # a longer tag is rejected by YouTube as invalid
MARKER_PREFIX = "shortvid:"
MARKER_HEX_CHARS = 16
PEOPLE_AND_BLOGS = "22"

PrivacyStatus = Literal["private", "unlisted", "public"]
_ANGLE = re.compile(r"[<>]")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def publication_marker(sha256: str) -> str:
    """The marker that identifies one approved render on the platform: `shortvid:<first 16 hex digits>`."""
    digest = sha256.strip().lower()
    if not _SHA256.match(digest):
        raise ValueError(f"expected the render's SHA-256 as 64 hex digits, got {sha256!r}")
    return f"{MARKER_PREFIX}{digest[:MARKER_HEX_CHARS]}"


class UploadMetadata(BaseModel):
    """A video's platform metadata, validated against YouTube's limits."""

    title: str = Field(min_length=1, max_length=TITLE_MAX_CHARS)
    description: str
    tags: list[str] = Field(default_factory=list)
    category_id: str = PEOPLE_AND_BLOGS
    default_language: str = "en"
    privacy_status: PrivacyStatus = "private"
    publish_at: datetime | None = None
    made_for_kids: bool = False
    contains_synthetic_media: bool
    marker: str = Field(pattern=rf"^{MARKER_PREFIX}[0-9a-f]{{{MARKER_HEX_CHARS}}}$")

    @field_validator("title", "description")
    @classmethod
    def _no_angle_brackets(cls, value: str) -> str:
        if _ANGLE.search(value):
            raise ValueError("YouTube rejects '<' and '>' in titles and descriptions")
        return value

    @model_validator(mode="after")
    def _within_limits(self) -> UploadMetadata:
        problems = []
        if len(self.description.encode()) > DESCRIPTION_MAX_BYTES:
            problems.append(
                f"description is {len(self.description.encode())} bytes, over {DESCRIPTION_MAX_BYTES}"
            )
        if tags_length(self.tags) > TAGS_MAX_CHARS:
            problems.append(f"tags take {tags_length(self.tags)} characters, over {TAGS_MAX_CHARS}")
        if any(_ANGLE.search(tag) for tag in self.tags):
            problems.append("tags must not contain '<' or '>'")
        if self.publish_at is not None:
            if self.privacy_status != "private":
                problems.append(
                    "publish_at needs privacy_status 'private' (YouTube makes it public at that time)"
                )
            if self.publish_at.tzinfo is None:
                problems.append("publish_at must be timezone-aware")
        if self.marker not in self.description:
            problems.append("the description must carry the publication marker")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def tags_length(tags: Iterable[str]) -> int:
    """Characters the tags take against YouTube's 500 limit: commas between, quotes around tags with spaces."""
    tags = list(tags)
    return sum(len(tag) + (2 if " " in tag else 0) for tag in tags) + max(0, len(tags) - 1)


def _clean(text: str) -> str:
    """Text without `<`/`>` (YouTube rejects them) and without trailing whitespace on lines."""
    text = text.replace("<", "‹").replace(">", "›")
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _truncate_chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _truncate_bytes(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    cut = data[: limit - len("…".encode())].decode(errors="ignore").rstrip()
    return cut + "…"


def build_upload_metadata(
    plan: VideoPlan,
    *,
    sha256: str,
    credits: Sequence[str] = (),
    voice_generated: bool,
    visuals_generated: bool,
    theme_hashtags: Sequence[str] = (),
    language: str = "en",
    category_id: str = PEOPLE_AND_BLOGS,
    privacy_status: PrivacyStatus = "private",
    publish_at: datetime | None = None,
    made_for_kids: bool = False,
) -> UploadMetadata:
    """The upload metadata of an approved render: title, description (script, hashtags, credits, marker), tags.

    The description is cut (script first) so that hashtags, credits and the marker always fit; the marker is
    also the first tag. Synthetic media is disclosed when the voice or any visual was generated.
    """
    if publish_at is not None and privacy_status != "private":
        raise ValueError(
            f"publish_at needs privacy_status 'private', got {privacy_status!r}: a scheduled video stays "
            "private until YouTube publishes it"
        )
    marker = publication_marker(sha256)
    hashtags = list(
        dict.fromkeys(tag.strip().lstrip("#").lower() for tag in [*plan.hashtags, *theme_hashtags])
    )
    hashtags = [tag for tag in hashtags if tag and not _ANGLE.search(tag)]
    title = _truncate_chars(_clean(plan.title).replace("\n", " "), TITLE_MAX_CHARS)

    tail_parts = [" ".join(f"#{tag}" for tag in hashtags)]
    if credits:
        tail_parts.append(
            "Credits:\n" + "\n".join(f"- {_clean(credit)}" for credit in dict.fromkeys(credits))
        )
    if voice_generated or visuals_generated:
        what = " and ".join(w for w, on in (("voice", voice_generated), ("visuals", visuals_generated)) if on)
        tail_parts.append(f"Made with AI-generated {what}.")
    tail_parts.append(marker)
    tail = "\n\n".join(part for part in tail_parts if part)
    head = "\n\n".join(part for part in (_clean(plan.description), _clean(plan.voiceover_script)) if part)
    room = DESCRIPTION_MAX_BYTES - len(tail.encode()) - 2
    if room <= 0:  # so many credits that nothing else fits: keep the marker, cut the credits
        description = (
            _truncate_bytes(tail[: -len(marker)], DESCRIPTION_MAX_BYTES - len(marker) - 2) + "\n\n" + marker
        )
    else:
        description = f"{_truncate_bytes(head, room)}\n\n{tail}" if head else tail

    tags: list[str] = []
    for tag in [marker, *hashtags, plan.style, plan.hook_type]:
        tag = tag[:TAG_MAX_CHARS]
        if tag in tags:
            continue
        if tags_length([*tags, tag]) > TAGS_MAX_CHARS:
            break
        tags.append(tag)

    return UploadMetadata(
        title=title,
        description=description,
        tags=tags,
        category_id=category_id,
        default_language=language,
        privacy_status=privacy_status,
        publish_at=publish_at.astimezone(UTC) if publish_at is not None else None,
        made_for_kids=made_for_kids,
        contains_synthetic_media=voice_generated or visuals_generated,
        marker=marker,
    )


# --- the performance loop ------------------------------------------------------------------------------


class StatsSnapshot(BaseModel):
    """One day's reading of one own video: public counts and, when Analytics is granted, retention."""

    video_id: str = Field(min_length=1)
    day: date
    views: int = Field(ge=0)
    likes: int | None = Field(default=None, ge=0)
    comments: int | None = Field(default=None, ge=0)
    average_view_percentage: float | None = Field(default=None, ge=0)
    average_view_duration_s: float | None = Field(default=None, ge=0)


class VideoFeatures(BaseModel):
    """The plan choices behind one published video, the inputs the next plans can learn from."""

    video_id: str = Field(min_length=1)
    theme: str
    hook_pattern: str
    style: str
    duration_s: float = Field(gt=0)
    voice: str
    visuals_provider: str
    caption_style: str
    language: str
    posting_hour: int = Field(ge=0, le=23)
    published_on: date


class VideoPerformance(BaseModel):
    """One video's standing: growth, retention and the combined score the ranking uses."""

    video_id: str
    theme: str
    hook_pattern: str
    style: str
    days_observed: int
    latest_views: int
    views_per_day: float
    retention_pct: float | None
    score: float
    rank: int


class ThemeWinners(BaseModel):
    """The best-performing hook pattern and style of one theme (None without data)."""

    theme: str
    videos: int
    best_hook_pattern: str | None
    best_style: str | None
    hook_scores: dict[str, float] = Field(default_factory=dict)
    style_scores: dict[str, float] = Field(default_factory=dict)


class PerformanceReport(BaseModel):
    """Own videos ranked by growth and retention, and per theme the hook and style to repeat."""

    as_of: date
    videos: list[VideoPerformance]
    themes: dict[str, ThemeWinners]
    unmatched_video_ids: list[str] = Field(default_factory=list)

    def best_for(self, theme: str) -> ThemeWinners:
        return self.themes.get(theme) or ThemeWinners(
            theme=theme, videos=0, best_hook_pattern=None, best_style=None
        )


def views_per_day(snapshots: Sequence[StatsSnapshot], published_on: date) -> tuple[float, int]:
    """View growth per day and the days it covers: between the first and last snapshot, or since publishing.

    With one snapshot (or all on one day) growth is measured from publication (0 views that day); a
    video read on its publication day counts as one day old.
    """
    ordered = sorted(snapshots, key=lambda s: s.day)
    first, last = ordered[0], ordered[-1]
    span = (last.day - first.day).days
    if span > 0:
        return max(0.0, (last.views - first.views) / span), span
    age = max(1, (last.day - published_on).days)
    return last.views / age, age


def _percentile_ranks(values: dict[str, float]) -> dict[str, float]:
    """Each key's share of the others it beats (ties count half), 0..1; a single value scores 1."""
    if len(values) == 1:
        return {key: 1.0 for key in values}
    result = {}
    for key, value in values.items():
        below = sum(1 for other, v in values.items() if other != key and v < value)
        tied = sum(1 for other, v in values.items() if other != key and v == value)
        result[key] = (below + tied / 2) / (len(values) - 1)
    return result


def performance_report(
    snapshots: Iterable[StatsSnapshot], features: Iterable[VideoFeatures], *, as_of: date, min_videos: int = 1
) -> PerformanceReport:
    """Rank own videos and pick each theme's best hook pattern and style.

    A video's score is the mean of its percentile among all videos on views per day and, when known, on
    retention (average view percentage); without retention it is scored on growth alone. A hook pattern's
    (or style's) score is the mean score of its videos; it needs `min_videos` videos to be picked, and ties
    go to the one with more videos, then to the alphabetically first.
    """
    by_video: dict[str, list[StatsSnapshot]] = defaultdict(list)
    for snapshot in snapshots:
        if snapshot.day <= as_of:
            by_video[snapshot.video_id].append(snapshot)
    feature_by_id = {f.video_id: f for f in features}
    unmatched = sorted(set(by_video) - set(feature_by_id))

    growth: dict[str, float] = {}
    days: dict[str, int] = {}
    retention: dict[str, float] = {}
    latest: dict[str, int] = {}
    for video_id, rows in by_video.items():
        if video_id not in feature_by_id:
            continue
        growth[video_id], days[video_id] = views_per_day(rows, feature_by_id[video_id].published_on)
        ordered = sorted(rows, key=lambda s: s.day)
        latest[video_id] = ordered[-1].views
        known = [s.average_view_percentage for s in ordered if s.average_view_percentage is not None]
        if known:
            retention[video_id] = known[-1]

    growth_rank = _percentile_ranks(growth) if growth else {}
    retention_rank = _percentile_ranks(retention) if retention else {}
    scores = {
        video_id: mean(
            [growth_rank[video_id], *([retention_rank[video_id]] if video_id in retention_rank else [])]
        )
        for video_id in growth
    }
    ordered_ids = sorted(scores, key=lambda v: (-scores[v], -growth[v], v))
    videos = [
        VideoPerformance(
            video_id=video_id,
            theme=feature_by_id[video_id].theme,
            hook_pattern=feature_by_id[video_id].hook_pattern,
            style=feature_by_id[video_id].style,
            days_observed=days[video_id],
            latest_views=latest[video_id],
            views_per_day=round(growth[video_id], 3),
            retention_pct=retention.get(video_id),
            score=round(scores[video_id], 4),
            rank=position,
        )
        for position, video_id in enumerate(ordered_ids, start=1)
    ]

    themes: dict[str, ThemeWinners] = {}
    for theme in sorted({v.theme for v in videos}):
        members = [v for v in videos if v.theme == theme]
        hook_scores, hook_best = _best_group(members, "hook_pattern", min_videos)
        style_scores, style_best = _best_group(members, "style", min_videos)
        themes[theme] = ThemeWinners(theme=theme, videos=len(members), best_hook_pattern=hook_best,
                                     best_style=style_best, hook_scores=hook_scores, style_scores=style_scores)  # fmt: skip
    return PerformanceReport(as_of=as_of, videos=videos, themes=themes, unmatched_video_ids=unmatched)


def _best_group(
    members: Sequence[VideoPerformance], field: Literal["hook_pattern", "style"], min_videos: int
) -> tuple[dict[str, float], str | None]:
    groups: dict[str, list[float]] = defaultdict(list)
    for video in members:
        groups[getattr(video, field)].append(video.score)
    scores = {name: round(mean(values), 4) for name, values in sorted(groups.items())}
    eligible = [name for name in scores if len(groups[name]) >= min_videos]
    if not eligible:
        return scores, None
    return scores, min(eligible, key=lambda name: (-scores[name], -len(groups[name]), name))
