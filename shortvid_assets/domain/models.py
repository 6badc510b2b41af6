"""Structured payloads that cross a boundary: trends, trend reports, themes, production plans."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shortvid_assets.domain.languages import DEFAULT_LANGUAGE, normalize_language
from shortvid_assets.domain.text_fields import check_plain_text

Platform = Literal["youtube", "tiktok"]
Transition = Literal["cut", "fade", "dissolve"]
OverlayPosition = Literal["top", "center", "bottom"]
OverlayStyle = Literal["hook", "body", "cta"]
Style = Literal["cinematic", "talking-head", "montage", "text-heavy", "animation", "tutorial"]
HookType = Literal["question", "bold-claim", "number", "pov", "how-to", "statement"]
AudioType = Literal["trending-sound", "original-audio", "voiceover", "music"]
# What a collected item is: a video, a photo post (TikTok slideshow) or a broadcast that is live right now.
ContentKind = Literal["video", "photo", "live"]
# A count the platform reported; None where it did not (likes hidden, comments off, not exposed by the API).
KnownCount = Annotated[int, Field(ge=0)]

SLUG_PATTERN = r"^[a-z0-9-]+$"

# Plan limits (SCRIPT-3 validation): a scene is one 2–4 s clip (VIDEO-3).
MIN_SCENES, MAX_SCENES = 3, 7
MIN_SCENE_S, MAX_SCENE_S = 2.0, 4.0
MIN_HASHTAGS, MAX_HASHTAGS = 5, 8
DURATION_TOLERANCE = 0.10


class Trend(BaseModel):
    """One trending short video as collected (TREND-3); a count or duration the platform did not send is None."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    external_id: str = Field(min_length=1)
    title: str
    description: str = ""
    hashtags: list[str] = Field(default_factory=list)
    views: int = Field(ge=0)
    likes: KnownCount | None
    comments: KnownCount | None
    shares: KnownCount | None
    # None when unknown: a live broadcast (it is still running), a photo post without a soundtrack length.
    duration_s: Annotated[float, Field(gt=0)] | None
    content_kind: ContentKind = "video"
    creator_name: str
    creator_id: str
    sound_name: str | None = None
    video_url: str
    thumbnail_url: str | None = None
    posted_at: datetime
    collected_at: datetime

    @field_validator("posted_at", "collected_at")
    @classmethod
    def _tz_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("timestamps must carry a timezone (UTC expected)")
        return value

    @field_validator("hashtags")
    @classmethod
    def _normalize_hashtags(cls, tags: list[str]) -> list[str]:
        seen: dict[str, None] = {}
        for tag in tags:
            clean = tag.strip().lstrip("#").lower()
            if clean:
                seen.setdefault(clean, None)
        return list(seen)

    @model_validator(mode="after")
    def _live_has_no_duration(self) -> Trend:
        if self.content_kind == "live" and self.duration_s is not None:
            raise ValueError("a live broadcast has no duration yet: duration_s must be None")
        return self


# Theme text limits: every field is one line of plain text with at least one letter or digit (a
# tagline of "." or a blank talking point would load and then fail the script stage).
MAX_NAME_CHARS, MAX_LINE_CHARS, MAX_TALKING_POINTS, MAX_TAG_CHARS = 80, 200, 12, 50


def _meaningful_line(value: str, max_chars: int) -> str:
    """`value` stripped: one line of plain text, at most `max_chars`, with a letter or digit in it."""
    value = check_plain_text(value).strip()
    if not value:
        raise ValueError("is blank: write some text")
    if len(value) > max_chars:
        raise ValueError(f"is {len(value)} characters long: keep it to {max_chars}")
    if not any(unicodedata.category(c)[0] in "LN" for c in value):
        raise ValueError(f"{value[:40]!r} has no letter or digit: write words a viewer can read")
    return value


class Theme(BaseModel):
    """A product or theme to make videos for (RUN-4)."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN, max_length=64)
    product_name: str = Field(min_length=1)
    tagline: str = Field(min_length=1)
    audience: str = Field(min_length=1)
    tone: str = Field(min_length=1)
    style: Style
    talking_points: list[str] = Field(min_length=1, max_length=MAX_TALKING_POINTS)
    target_duration_s: float = Field(ge=MIN_SCENES * MIN_SCENE_S, le=30)
    platform: Literal["youtube_shorts", "tiktok", "instagram_reels", "all"] = "all"
    hashtags: list[str] = Field(default_factory=list, max_length=MAX_HASHTAGS * 2)
    # An audio file; a relative path is resolved against the themes file's folder at load.
    music_path: str | None = None
    # BCP 47 tag of the language the video is written, spoken and captioned in (see domain/languages.py).
    language: str = DEFAULT_LANGUAGE

    @field_validator("language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        return normalize_language(value)

    @field_validator("product_name")
    @classmethod
    def _product_name(cls, value: str) -> str:
        return _meaningful_line(value, MAX_NAME_CHARS)

    @field_validator("tagline", "audience", "tone")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return _meaningful_line(value, MAX_LINE_CHARS)

    @field_validator("talking_points")
    @classmethod
    def _talking_points(cls, points: list[str]) -> list[str]:
        checked = []
        for index, point in enumerate(points):
            try:
                checked.append(_meaningful_line(point, MAX_LINE_CHARS))
            except ValueError as exc:
                raise ValueError(f"talking point {index + 1} {exc}") from None
        return checked

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, tags: list[str]) -> list[str]:
        checked = []
        for index, tag in enumerate(tags):
            clean = check_plain_text(tag).strip().lstrip("#＃").replace(" ", "")
            if not clean or not any(unicodedata.category(c)[0] in "LN" for c in clean):
                raise ValueError(f"hashtag {index + 1} ({tag[:40]!r}) has no letter or digit")
            if len(clean) > MAX_TAG_CHARS:
                raise ValueError(f"hashtag {index + 1} is longer than {MAX_TAG_CHARS} characters")
            checked.append(clean)
        return checked

    @field_validator("music_path")
    @classmethod
    def _music_path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = check_plain_text(value).strip()
        if not value:
            raise ValueError("is blank: give an audio file's path or leave the field out")
        return value


class HashtagCount(BaseModel):
    tag: str
    count: int


class TopPerformer(BaseModel):
    platform: Platform
    external_id: str
    title: str
    creator_name: str
    velocity: float
    views: int
    duration_s: float
    style: Style
    hook_type: HookType
    video_url: str
    # Engagement per hour between the video's last two snapshots; None when it was seen once.
    recent_velocity: float | None = None


class StylePattern(BaseModel):
    """What the top performers of one style have in common (ANLYS-4)."""

    style: Style
    count: int
    share: float
    avg_duration_s: float
    avg_velocity: float
    format: str
    hook_type: HookType
    text_overlay_share: float
    audio_type: AudioType


class TrendReport(BaseModel):
    """The day's trend report (ANLYS-5)."""

    date: date
    window_start: datetime
    window_end: datetime
    trend_count: int
    counts_by_platform: dict[str, int]
    top_hashtags: list[HashtagCount]
    top_performers: list[TopPerformer]
    patterns: list[StylePattern]
    dominant_style: Style
    dominant_hook_type: HookType
    recommended_duration_s: float
    duration_histogram: dict[str, int]
    posting_hour_histogram: dict[str, int]
    classifier: str = "rules"
    window_hours: float = 24.0
    counts_by_style: dict[str, int] = Field(default_factory=dict)
    # Median engagement velocity of every trend in the window, per style.
    velocity_by_style: dict[str, float] = Field(default_factory=dict)


class Scene(BaseModel):
    number: int = Field(ge=1)
    duration_s: float = Field(ge=MIN_SCENE_S, le=MAX_SCENE_S)
    visual_prompt: str = Field(min_length=1)
    transition: Transition = "cut"


class TextOverlay(BaseModel):
    text: str = Field(min_length=1)
    start_s: float = Field(ge=0)
    end_s: float = Field(gt=0)
    position: OverlayPosition = "center"
    style: OverlayStyle = "body"

    @model_validator(mode="after")
    def _ordered(self) -> TextOverlay:
        if self.end_s <= self.start_s:
            raise ValueError(f"overlay {self.text!r} ends ({self.end_s}s) before it starts ({self.start_s}s)")
        return self


class VideoPlan(BaseModel):
    """A production plan for one video (SCRIPT-3), validated on construction."""

    title: str = Field(min_length=1, max_length=100)
    description: str
    master_visual_prompt: str = Field(min_length=1)
    target_duration_s: float = Field(gt=0)
    aspect_ratio: Literal["9:16"] = "9:16"
    scenes: list[Scene] = Field(min_length=MIN_SCENES, max_length=MAX_SCENES)
    voiceover_script: str = Field(min_length=1)
    hook_text: str = Field(min_length=1)
    hook_type: HookType
    cta_text: str = Field(min_length=1)
    text_overlays: list[TextOverlay]
    hashtags: list[str] = Field(min_length=MIN_HASHTAGS, max_length=MAX_HASHTAGS)
    style: Style
    trend_pattern: str = Field(description="Which pattern of the trend report the plan follows")
    # The theme's language (BCP 47): what the voice speaks and the captions are shaped for.
    language: str = DEFAULT_LANGUAGE

    @field_validator("language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        return normalize_language(value)

    @property
    def duration_s(self) -> float:
        return sum(scene.duration_s for scene in self.scenes)

    @model_validator(mode="after")
    def _consistent(self) -> VideoPlan:
        problems = []
        total = self.duration_s
        if abs(total - self.target_duration_s) > DURATION_TOLERANCE * self.target_duration_s:
            problems.append(
                f"scene durations sum to {total:.1f}s, not the target {self.target_duration_s:.1f}s ±10%"
            )
        numbers = [scene.number for scene in self.scenes]
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(f"scenes must be numbered 1..{len(numbers)} in order, got {numbers}")
        for overlay in self.text_overlays:
            if overlay.end_s > total + 1e-6:
                problems.append(
                    f"overlay {overlay.text!r} ends at {overlay.end_s}s, after the video ({total:.1f}s)"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @field_validator("hashtags")
    @classmethod
    def _clean_hashtags(cls, tags: list[str]) -> list[str]:
        clean = [tag.strip().lstrip("#").lower().replace(" ", "") for tag in tags]
        if any(not tag for tag in clean):
            raise ValueError("hashtags must not be empty")
        if len(set(clean)) != len(clean):
            raise ValueError("hashtags must be unique")
        return clean


class WordTiming(BaseModel):
    """One spoken word and when it is heard in the voiceover."""

    word: str
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
