"""Top YouTube Shorts of a time window through the YouTube Data API v3 (TREND-2).

`search.list` (type=video, videoDuration=short, order=viewCount, the window as publishedAfter/Before)
finds candidates page by page; `videos.list` (snippet, statistics, contentDetails) fetches each page's
details, and only videos shorter than `max_duration_s` are kept (a broadcast live right now has no length
yet: it is kept as `content_kind="live"`; hidden like counts and disabled comments are kept as None). Quota: search.list costs 100 units,
videos.list 1; the client stops, and says so, before a request would exceed `daily_quota_budget`.
The key travels in the `X-Goog-Api-Key` header, never in a URL, so it cannot leak into logs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from shortvid_assets.clients.google_api import google_error
from shortvid_assets.clients.http import (
    ApiError,
    Clock,
    CollectionFailed,
    CollectionResult,
    ErrorDetail,
    JsonHttp,
    Sleep,
    counter_dict,
    is_permanent,
    utc_now,
)
from shortvid_assets.domain.youtube import NormalizedItems, normalize_videos, search_video_ids, video_items

log = logging.getLogger(__name__)

SEARCH_COST = 100
VIDEOS_COST = 1
MAX_PAGE_SIZE = 50
# Google asks clients to back off and retry on these 403 reasons; quotaExceeded is final for the day.
RETRYABLE_403_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})


class QuotaBudgetReached(Exception):
    """The next request would spend more quota units than the run's budget allows."""


class QuotaMeter:
    """Quota units spent by one collection run, never beyond its budget."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0

    def require(self, cost: int) -> None:
        """Raise QuotaBudgetReached unless `cost` more units fit in the budget."""
        if self.used + cost > self.budget:
            raise QuotaBudgetReached(
                f"YouTube quota budget reached: {self.used} of {self.budget} units used, "
                f"the next step needs {cost}; collection stopped with what it has"
            )

    def charge(self, cost: int) -> None:
        """Spend `cost` units (every attempt is billed, retries included), refusing to exceed the budget."""
        self.require(cost)
        self.used += cost


def _youtube_retryable(status: int, detail: ErrorDetail) -> bool:
    return status == 429 or status >= 500 or (status == 403 and detail.reason in RETRYABLE_403_REASONS)


def _worth_retrying(exc: Exception | None) -> bool:
    """Whether a later attempt of the whole run may succeed: not after a rejected key, bad request or spent quota."""
    if isinstance(exc, ApiError) and exc.reason in RETRYABLE_403_REASONS:
        return True
    return not is_permanent(exc)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_window(window_start: datetime, window_end: datetime) -> None:
    """Refuse naive or empty collection windows."""
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise ValueError("window_start and window_end must be timezone-aware (UTC expected)")
    if window_end <= window_start:
        raise ValueError(
            f"window_end ({window_end.isoformat()}) must be after window_start ({window_start.isoformat()})"
        )


class YouTubeShortsClient:
    """Collects the most-viewed YouTube Shorts posted in a window."""

    source = "youtube_data_api_v3"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://www.googleapis.com/youtube/v3",
        region_code: str | None = "US",
        relevance_language: str | None = "en",
        max_results: int = 50,
        max_duration_s: float = 60,
        daily_quota_budget: int = 10_000,
        max_search_pages: int = 5,
        timeout_s: float = 20,
        max_retries: int = 3,
        backoff_s: float = 1.0,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        if not api_key or not api_key.strip():
            raise ValueError("api_key is empty: set the YouTube Data API key (YOUTUBE_API_KEY)")
        if max_results < 1:
            raise ValueError(f"max_results must be >= 1, got {max_results}")
        if max_duration_s <= 0:
            raise ValueError(f"max_duration_s must be > 0, got {max_duration_s}")
        self._api_key = api_key.strip()
        self.base_url = base_url
        self.region_code = region_code
        self.relevance_language = relevance_language
        self.max_results = max_results
        self.max_duration_s = float(max_duration_s)
        self.daily_quota_budget = daily_quota_budget
        self.max_search_pages = max_search_pages
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._transport = transport
        self._clock = clock or utc_now
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"YouTubeShortsClient(base_url={self.base_url!r}, max_results={self.max_results})"

    def _http(self) -> JsonHttp:
        return JsonHttp(
            service="YouTube Data API",
            base_url=self.base_url,
            headers={"X-Goog-Api-Key": self._api_key, "Accept": "application/json"},
            secrets=(self._api_key,),
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            backoff_s=self.backoff_s,
            error_parser=google_error,
            retryable=_youtube_retryable,
            transport=self._transport,
            sleep=self._sleep,
        )

    def _search_params(self, window_start: datetime, window_end: datetime, page_token: str | None) -> dict:
        params: dict[str, Any] = {
            "part": "snippet",
            "type": "video",
            "videoDuration": "short",
            "order": "viewCount",
            "publishedAfter": _rfc3339(window_start),
            "publishedBefore": _rfc3339(window_end),
            "maxResults": MAX_PAGE_SIZE,
        }
        if self.region_code:
            params["regionCode"] = self.region_code
        if self.relevance_language:
            params["relevanceLanguage"] = self.relevance_language
        if page_token:
            params["pageToken"] = page_token
        return params

    def collect(self, window_start: datetime, window_end: datetime) -> CollectionResult:
        """Up to `max_results` Shorts posted in [window_start, window_end), most viewed first."""
        check_window(window_start, window_end)
        collected_at = self._clock()
        quota = QuotaMeter(self.daily_quota_budget)
        kept = NormalizedItems()
        trends = kept.trends
        skipped = kept.skipped
        seen: set[str] = set()
        errors: list[str] = []
        last_exc: Exception | None = None
        successes = 0
        stop_reason: str | None = None
        page_token: str | None = None
        pages = 0

        with self._http() as http:
            while len(trends) < self.max_results and stop_reason is None:
                if pages >= self.max_search_pages:
                    stop_reason = "max_search_pages"
                    break
                try:
                    # A search page is only worth its 100 units if its videos.list call fits as well.
                    quota.require(SEARCH_COST + VIDEOS_COST)
                    payload, _ = http.request_json(
                        "GET",
                        "/search",
                        params=self._search_params(window_start, window_end, page_token),
                        before_send=lambda attempt: quota.charge(SEARCH_COST),
                    )
                    ids, page_token, search_skipped = search_video_ids(payload)
                except (ApiError, ValueError, QuotaBudgetReached) as exc:
                    stop_reason = self._record_stop(exc, errors)
                    last_exc = exc
                    break
                successes += 1
                pages += 1
                skipped.update(search_skipped)
                ids = [video_id for video_id in ids if video_id not in seen]
                log.info("YouTube search page %d: %d new candidate ids", pages, len(ids))

                for start in range(0, len(ids), MAX_PAGE_SIZE):
                    batch = ids[start : start + MAX_PAGE_SIZE]
                    try:
                        payload, _ = http.request_json(
                            "GET",
                            "/videos",
                            params={"part": "snippet,statistics,contentDetails", "id": ",".join(batch)},
                            before_send=lambda attempt: quota.charge(VIDEOS_COST),
                        )
                        items = video_items(payload)
                    except (ApiError, ValueError, QuotaBudgetReached) as exc:
                        stop_reason = self._record_stop(exc, errors)
                        last_exc = exc
                        break
                    successes += 1
                    returned = {item.get("id") for item in items if isinstance(item, Mapping)}
                    # Items without a recognisable id are counted under their own reason, not twice.
                    unmatched = sum(
                        1 for item in items if not isinstance(item, Mapping) or item.get("id") not in batch
                    )
                    unavailable = max(0, sum(1 for video_id in batch if video_id not in returned) - unmatched)
                    if unavailable:
                        skipped["video_unavailable"] += unavailable
                    kept.extend(
                        normalize_videos(
                            items,
                            collected_at=collected_at,
                            max_duration_s=self.max_duration_s,
                            window=(window_start, window_end),
                            seen=seen,
                        )
                    )
                if stop_reason is None and len(trends) >= self.max_results:
                    stop_reason = "max_results"
                if stop_reason is None and page_token is None:
                    stop_reason = "no_more_results"

            if errors and not trends:
                what = (
                    f"failed: every request failed ({http.requests} sent)"
                    if successes == 0
                    else "produced no trends"
                )
                raise CollectionFailed(
                    f"YouTube collection {what}. Last error: {errors[-1]}",
                    retryable=_worth_retrying(last_exc),
                    requests=http.requests,
                    failed_requests=http.failed_requests,
                    quota_units=quota.used,
                )

            trends.sort(key=lambda trend: trend.views, reverse=True)
            top = trends[: self.max_results]
            unknown, lacking = kept.unknown_field_counts(top)
            result = CollectionResult(
                trends=top,
                skipped=counter_dict(skipped),
                unknown_fields=counter_dict(unknown),
                kept_with_unknown_fields=lacking,
                requests=http.requests,
                failed_requests=http.failed_requests,
                quota_units=quota.used,
                source=self.source,
                stop_reason=stop_reason or "max_results",
                errors=errors,
            )
        log.info(
            "YouTube collection: %d trends (%d with unknown fields %s), %d skipped %s, %d requests (%d failed), "
            "%d quota units, stop: %s",
            len(result.trends),
            result.kept_with_unknown_fields,
            result.unknown_fields,
            result.skipped_total,
            result.skipped,
            result.requests,
            result.failed_requests,
            result.quota_units,
            result.stop_reason,
        )
        return result

    @staticmethod
    def _record_stop(exc: Exception, errors: list[str]) -> str:
        if isinstance(exc, QuotaBudgetReached):
            log.warning("%s", exc)
            return "quota_budget"
        errors.append(str(exc))
        if isinstance(exc, ApiError):
            return "quota_exceeded" if exc.reason in QUOTA_REASONS else "request_failed"
        return "malformed_response"
