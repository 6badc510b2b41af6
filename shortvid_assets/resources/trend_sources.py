"""Trend sources: one interface, the offline sample by default, live APIs when configured (TREND-1, TREND-2).

The deployment picks a source per platform with `SHORTVID_YOUTUBE_SOURCE=sample|api` and
`SHORTVID_TIKTOK_SOURCE=sample|apify`; there is no silent fallback: a live source without its key
is refused at start (`SettingError` naming the variable). Keys are read through `dg.EnvVar`, so the
UI and the run's config show the variable's name, never its value.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import dagster as dg
from pydantic import Field

from shortvid_assets import clock, settings
from shortvid_assets.clients.apify import ApifyTikTokClient
from shortvid_assets.clients.http import CollectionResult
from shortvid_assets.clients.youtube import YouTubeShortsClient
from shortvid_assets.domain.models import Platform, Trend
from shortvid_assets.domain.sample_trends import PER_PLATFORM, sample_trends
from shortvid_assets.domain.windows import collection_window

YOUTUBE_SOURCE_ENV = "SHORTVID_YOUTUBE_SOURCE"
TIKTOK_SOURCE_ENV = "SHORTVID_TIKTOK_SOURCE"
YOUTUBE_KEY_ENV = "YOUTUBE_API_KEY"
APIFY_TOKEN_ENV = "APIFY_TOKEN"


@dataclass
class Collection:
    """What one collection run brought back, and what it cost."""

    trends: list[Trend]
    source: str
    requests: int = 0
    failed_requests: int = 0
    quota_units: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    stop_reason: str | None = None
    errors: list[str] = field(default_factory=list)
    unknown_fields: dict[str, int] = field(default_factory=dict)
    kept_with_unknown_fields: int = 0

    @classmethod
    def from_result(cls, result: CollectionResult) -> Collection:
        return cls(
            trends=result.trends,
            source=result.source,
            requests=result.requests,
            failed_requests=result.failed_requests,
            quota_units=result.quota_units,
            skipped=dict(result.skipped),
            stop_reason=result.stop_reason,
            errors=list(result.errors),
            unknown_fields=dict(result.unknown_fields),
            kept_with_unknown_fields=result.kept_with_unknown_fields,
        )


class TrendSource(dg.ConfigurableResource, ABC):
    """Collects the day's trending short videos of one platform."""

    @abstractmethod
    def collect(self, platform: Platform, day: date) -> Collection: ...

    def describe(self) -> str:
        """Which source this is and how it is set up, for the run's log (never a secret)."""
        return type(self).__name__


class SampleTrendSource(TrendSource):
    """Offline default: deterministic sample trends shipped with the package."""

    limit: int = PER_PLATFORM

    def collect(self, platform: Platform, day: date) -> Collection:
        return Collection(trends=sample_trends(platform, day, self.limit), source="sample")

    def describe(self) -> str:
        return f"the offline sample source (deterministic, {self.limit} videos per platform and day)"


def _check_platform(expected: Platform, platform: Platform, source: str) -> None:
    if platform != expected:
        raise ValueError(
            f"{source} collects {expected} trends only, not {platform}: wire it to {expected}_trends"
        )


class YouTubeTrendSource(TrendSource):
    """YouTube Shorts through the YouTube Data API v3 (search.list, then videos.list)."""

    api_key: str = Field(description=f"YouTube Data API key; set it with dg.EnvVar({YOUTUBE_KEY_ENV!r})")
    base_url: str = "https://www.googleapis.com/youtube/v3"
    region_code: str | None = "US"
    relevance_language: str | None = "en"
    max_results: int = 50
    max_duration_s: float = 60
    quota_budget: int = Field(default=10_000, description="Quota units one collection run may spend")
    lookback_hours: float = Field(
        default=24, description="Ask for Shorts posted this long before the day's end"
    )
    max_search_pages: int = 5
    timeout_s: float = 20
    max_retries: int = 3
    backoff_s: float = 1.0

    def client(self) -> YouTubeShortsClient:
        return YouTubeShortsClient(
            self.api_key,
            base_url=self.base_url,
            region_code=self.region_code or None,
            relevance_language=self.relevance_language or None,
            max_results=self.max_results,
            max_duration_s=self.max_duration_s,
            daily_quota_budget=self.quota_budget,
            max_search_pages=self.max_search_pages,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            backoff_s=self.backoff_s,
        )

    def collect(self, platform: Platform, day: date) -> Collection:
        _check_platform("youtube", platform, "YouTubeTrendSource")
        start, end = collection_window(day, clock.now(), self.lookback_hours)
        return Collection.from_result(self.client().collect(start, end))

    def describe(self) -> str:
        return (
            f"the YouTube Data API v3 at {self.base_url} (region {self.region_code or 'any'}, language "
            f"{self.relevance_language or 'any'}, up to {self.max_results} Shorts under {self.max_duration_s:g} s "
            f"posted in the {self.lookback_hours:g} h before the day's end, quota budget {self.quota_budget} units)"
        )


class ApifyTrendSource(TrendSource):
    """Trending TikTok videos through an Apify scraper actor (start a run, poll it, read its dataset)."""

    token: str = Field(description=f"Apify API token; set it with dg.EnvVar({APIFY_TOKEN_ENV!r})")
    base_url: str = "https://api.apify.com"
    actor_id: str = "clockworks~tiktok-scraper"
    hashtags: list[str] = Field(default_factory=lambda: ["fyp"])
    run_input_json: str | None = Field(default=None, description="The actor's whole input as JSON, if set")
    max_items: int = 50
    poll_interval_s: float = 5
    max_wait_s: float = 600
    timeout_s: float = 30
    max_retries: int = 3
    backoff_s: float = 1.0

    def run_input(self) -> dict:
        if self.run_input_json:
            try:
                value = json.loads(self.run_input_json)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"the Apify actor input is not valid JSON ({exc}); fix SHORTVID_APIFY_INPUT"
                ) from None
            if not isinstance(value, dict):
                raise ValueError("the Apify actor input must be a JSON object; fix SHORTVID_APIFY_INPUT")
            return value
        return {"hashtags": list(self.hashtags), "resultsPerPage": self.max_items}

    def client(self) -> ApifyTikTokClient:
        return ApifyTikTokClient(
            self.token,
            base_url=self.base_url,
            actor_id=self.actor_id,
            run_input=self.run_input(),
            max_items=self.max_items,
            poll_interval_s=self.poll_interval_s,
            max_wait_s=self.max_wait_s,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            backoff_s=self.backoff_s,
        )

    def collect(self, platform: Platform, day: date) -> Collection:
        _check_platform("tiktok", platform, "ApifyTrendSource")
        start, end = collection_window(day, clock.now(), 24)
        return Collection.from_result(self.client().collect(start, end))

    def describe(self) -> str:
        return (
            f"the Apify actor {self.actor_id} at {self.base_url} (up to {self.max_items} items, "
            f"polling every {self.poll_interval_s:g} s for at most {self.max_wait_s:g} s)"
        )


# --- configuration from the environment ------------------------------------------------------------------


def _number(environ: Mapping[str, str], name: str, kind: type, default):
    return settings.number(
        name, default, integer=kind is int, minimum=1 if kind is int else 0.01, environ=environ
    )


def youtube_source_from_env(environ: Mapping[str, str] | None = None) -> TrendSource:
    """The YouTube source `SHORTVID_YOUTUBE_SOURCE` asks for (`sample` by default, or `api`)."""
    environ = os.environ if environ is None else environ
    if settings.choice(YOUTUBE_SOURCE_ENV, ("sample", "api"), environ) == "sample":
        return SampleTrendSource()
    settings.require(
        YOUTUBE_KEY_ENV,
        needed_by=f"{YOUTUBE_SOURCE_ENV}=api",
        instead=f"unset {YOUTUBE_SOURCE_ENV} to collect the offline sample",
        environ=environ,
    )
    options: dict = {
        "api_key": dg.EnvVar(YOUTUBE_KEY_ENV),
        "max_results": _number(environ, "SHORTVID_YOUTUBE_MAX_RESULTS", int, 50),
        "max_duration_s": _number(environ, "SHORTVID_YOUTUBE_MAX_DURATION_S", float, 60.0),
        "quota_budget": _number(environ, "SHORTVID_YOUTUBE_QUOTA_BUDGET", int, 10_000),
        "lookback_hours": _number(environ, "SHORTVID_YOUTUBE_LOOKBACK_HOURS", float, 24.0),
        "timeout_s": _number(environ, "SHORTVID_YOUTUBE_TIMEOUT_S", float, 20.0),
    }
    if base_url := settings.text("SHORTVID_YOUTUBE_BASE_URL", environ=environ):
        options["base_url"] = base_url
    # Unset keeps the default; "any" drops the filter.
    for name, key in (
        ("SHORTVID_YOUTUBE_REGION", "region_code"),
        ("SHORTVID_YOUTUBE_LANGUAGE", "relevance_language"),
    ):
        if (value := settings.text(name, environ=environ)) is not None:
            options[key] = None if value.lower() == "any" else value
    return YouTubeTrendSource(**options)


def tiktok_source_from_env(environ: Mapping[str, str] | None = None) -> TrendSource:
    """The TikTok source `SHORTVID_TIKTOK_SOURCE` asks for (`sample` by default, or `apify`)."""
    environ = os.environ if environ is None else environ
    if settings.choice(TIKTOK_SOURCE_ENV, ("sample", "apify"), environ) == "sample":
        return SampleTrendSource()
    settings.require(
        APIFY_TOKEN_ENV,
        needed_by=f"{TIKTOK_SOURCE_ENV}=apify",
        instead=f"unset {TIKTOK_SOURCE_ENV} to collect the offline sample",
        environ=environ,
    )
    options: dict = {
        "token": dg.EnvVar(APIFY_TOKEN_ENV),
        "max_items": _number(environ, "SHORTVID_APIFY_MAX_ITEMS", int, 50),
        "poll_interval_s": _number(environ, "SHORTVID_APIFY_POLL_S", float, 5.0),
        "max_wait_s": _number(environ, "SHORTVID_APIFY_MAX_WAIT_S", float, 600.0),
        "timeout_s": _number(environ, "SHORTVID_APIFY_TIMEOUT_S", float, 30.0),
    }
    if base_url := settings.text("SHORTVID_APIFY_BASE_URL", environ=environ):
        options["base_url"] = base_url
    if actor := settings.text("SHORTVID_APIFY_ACTOR", environ=environ):
        options["actor_id"] = actor
    if hashtags := settings.text("SHORTVID_APIFY_HASHTAGS", environ=environ):
        options["hashtags"] = [tag.strip().lstrip("#") for tag in hashtags.split(",") if tag.strip()]
    if run_input := settings.text("SHORTVID_APIFY_INPUT", environ=environ):
        options["run_input_json"] = run_input
    source = ApifyTrendSource(**options)
    try:
        source.run_input()  # read again at run time; malformed JSON is refused now
    except ValueError as exc:
        raise settings.SettingError(str(exc)) from None
    return source
