"""Top trending TikTok videos through an Apify scraper actor (TREND-1).

Starts an actor run (`POST /v2/acts/{actorId}/runs`), polls it (`GET /v2/actor-runs/{runId}`) until it is
SUCCEEDED, FAILED, ABORTED or TIMED-OUT within a bounded wait, then reads the run's default dataset
(`GET /v2/datasets/{id}/items`, offset/limit pages, `clean=true`) and normalizes the items. Pages follow the
`X-Apify-Pagination-*` headers: the API may answer fewer items than the limit asked for (it caps a
response's size), so only an empty page, or reaching a non-zero `Total`, ends the data. The token is
sent as `Authorization: Bearer`, never in a URL. A run still going after `max_wait_s` is aborted so it
stops costing money.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

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
from shortvid_assets.clients.youtube import check_window
from shortvid_assets.domain.apify import normalize_tiktok_items
from shortvid_assets.domain.youtube import NormalizedItems

log = logging.getLogger(__name__)

SUCCEEDED = "SUCCEEDED"
FAILED_STATUSES = frozenset({"FAILED", "ABORTED", "TIMED-OUT"})
# READY, RUNNING, TIMING-OUT and ABORTING are transitional: keep polling.
TERMINAL_STATUSES = FAILED_STATUSES | {SUCCEEDED}
DATASET_PAGE_SIZE = 100
# Read at most this many raw items per wanted trend, so a dataset full of junk cannot keep us reading.
SCAN_FACTOR = 10


def apify_error(body: Any) -> ErrorDetail:
    """Message and type of an Apify error body `{"error": {"type", "message"}}`."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return ErrorDetail(message=error if isinstance(error, str) else None)
    message, kind = error.get("message"), error.get("type")
    return ErrorDetail(
        message=message if isinstance(message, str) else None,
        reason=kind if isinstance(kind, str) else None,
    )


def _run_data(payload: Any, what: str) -> Mapping[str, Any]:
    data = payload.get("data") if isinstance(payload, Mapping) else None
    if not isinstance(data, Mapping):
        raise CollectionFailed(
            f"Apify {what} response has no 'data' object: the API answered in an unknown shape"
        )
    return data


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


class ApifyTikTokClient:
    """Collects trending TikTok videos by running an Apify scraper actor and reading its dataset."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = "https://api.apify.com",
        actor_id: str = "clockworks~tiktok-scraper",
        run_input: dict[str, Any] | None = None,
        max_items: int = 50,
        poll_interval_s: float = 5,
        max_wait_s: float = 600,
        page_size: int = DATASET_PAGE_SIZE,
        timeout_s: float = 30,
        max_retries: int = 3,
        backoff_s: float = 1.0,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        if not token or not token.strip():
            raise ValueError("token is empty: set the Apify API token (APIFY_TOKEN)")
        if max_items < 1:
            raise ValueError(f"max_items must be >= 1, got {max_items}")
        if poll_interval_s <= 0 or max_wait_s <= 0:
            raise ValueError(
                f"poll_interval_s and max_wait_s must be > 0, got {poll_interval_s}, {max_wait_s}"
            )
        if "/" in actor_id:
            # The API spells "user/actor" as "user~actor" in paths.
            actor_id = actor_id.replace("/", "~")
        self._token = token.strip()
        self.base_url = base_url
        self.actor_id = actor_id
        # clockworks/tiktok-scraper input: trending hashtag feed, as many results as we keep.
        self.run_input = (
            dict(run_input) if run_input is not None else {"hashtags": ["fyp"], "resultsPerPage": max_items}
        )
        self.max_items = max_items
        self.poll_interval_s = poll_interval_s
        self.max_wait_s = max_wait_s
        self.page_size = max(1, page_size)
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._transport = transport
        self._clock = clock or utc_now
        self._sleep = sleep

    @property
    def source(self) -> str:
        return f"apify:{self.actor_id}"

    def __repr__(self) -> str:
        return f"ApifyTikTokClient(base_url={self.base_url!r}, actor_id={self.actor_id!r})"

    def _http(self) -> JsonHttp:
        return JsonHttp(
            service="Apify API",
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
            secrets=(self._token,),
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            backoff_s=self.backoff_s,
            error_parser=apify_error,
            transport=self._transport,
            sleep=self._sleep,
        )

    def collect(self, window_start: datetime, window_end: datetime) -> CollectionResult:
        """Run the actor once and return up to `max_items` trends from its dataset.

        The window only bounds what counts as "posted in the future"; which videos trend is the actor's choice.
        """
        check_window(window_start, window_end)
        with self._http() as http:
            try:
                run_id, dataset_id = self._run_actor(http)
                collected_at = self._clock()
                kept, errors, stop_reason = self._read_dataset(http, dataset_id, collected_at)
            except ApiError as exc:
                raise CollectionFailed(
                    f"TikTok collection failed: {exc}",
                    retryable=not is_permanent(exc),
                    requests=http.requests,
                    failed_requests=http.failed_requests,
                ) from None
            except CollectionFailed as exc:
                exc.requests, exc.failed_requests = http.requests, http.failed_requests
                raise
            trends = kept.trends[: self.max_items]
            unknown, lacking = kept.unknown_field_counts(trends)
            result = CollectionResult(
                trends=trends,
                skipped=counter_dict(kept.skipped),
                unknown_fields=counter_dict(unknown),
                kept_with_unknown_fields=lacking,
                requests=http.requests,
                failed_requests=http.failed_requests,
                quota_units=0,
                source=self.source,
                stop_reason=stop_reason,
                errors=errors,
            )
        log.info(
            "TikTok collection (run %s): %d trends (%d with unknown fields %s), %d skipped %s, "
            "%d requests (%d failed), stop: %s",
            run_id,
            len(result.trends),
            result.kept_with_unknown_fields,
            result.unknown_fields,
            result.skipped_total,
            result.skipped,
            result.requests,
            result.failed_requests,
            result.stop_reason,
        )
        return result

    def _run_actor(self, http: JsonHttp) -> tuple[str, str]:
        """Start the actor and wait for its run to succeed; the run and dataset ids."""
        started = self._clock()
        slept = 0.0
        payload, _ = http.request_json(
            "POST",
            f"/v2/acts/{quote(self.actor_id, safe='~')}/runs",
            json_body=self.run_input,
            idempotent=False,
        )
        run = _run_data(payload, "start-run")
        run_id = _text(run, "id")
        if run_id is None:
            raise CollectionFailed("Apify start-run response has no run id (data.id)")
        log.info("Apify run %s of %s started (status %s)", run_id, self.actor_id, run.get("status"))

        while run.get("status") not in TERMINAL_STATUSES:
            elapsed = max((self._clock() - started).total_seconds(), slept)
            if elapsed >= self.max_wait_s:
                self._abort(http, run_id)
                raise CollectionFailed(
                    f"Apify run {run_id} was still {run.get('status')} after {elapsed:.0f} s "
                    f"(max_wait_s={self.max_wait_s:.0f}); it was asked to abort. Raise max_wait_s or "
                    "lower the actor's result count.",
                    retryable=False,  # another run would most likely run as long, and cost as much
                )
            wait = min(self.poll_interval_s, self.max_wait_s - elapsed)
            self._sleep(wait)
            slept += wait
            payload, _ = http.request_json("GET", f"/v2/actor-runs/{quote(run_id, safe='')}")
            run = _run_data(payload, "run-status")
            log.info("Apify run %s: %s", run_id, run.get("status"))

        status = run.get("status")
        if status in FAILED_STATUSES:
            detail = _text(run, "statusMessage")
            raise CollectionFailed(
                f"Apify run {run_id} of {self.actor_id} ended {status}"
                + (f": {detail}" if detail else "")
                + ". See the run's log in the Apify console."
            )
        dataset_id = _text(run, "defaultDatasetId")
        if dataset_id is None:
            raise CollectionFailed(f"Apify run {run_id} SUCCEEDED but names no defaultDatasetId")
        return run_id, dataset_id

    def _abort(self, http: JsonHttp, run_id: str) -> None:
        try:
            http.request_json("POST", f"/v2/actor-runs/{quote(run_id, safe='')}/abort", idempotent=False)
        except ApiError as exc:
            log.warning("could not abort Apify run %s: %s", run_id, exc)

    def _read_dataset(
        self, http: JsonHttp, dataset_id: str, collected_at: datetime
    ) -> tuple[NormalizedItems, list[str], str]:
        """Dataset pages until enough trends, an empty page (or the `Total` header), or the scan limit."""
        kept = NormalizedItems()
        seen: set[str] = set()
        errors: list[str] = []
        offset = 0
        scan_limit = self.max_items * SCAN_FACTOR
        path = f"/v2/datasets/{quote(dataset_id, safe='~')}/items"
        while True:
            if len(kept.trends) >= self.max_items:
                return kept, errors, "max_items"
            if offset >= scan_limit:
                return kept, errors, "scan_limit"
            limit = min(self.page_size, scan_limit - offset)
            try:
                items, headers = http.request_json(
                    "GET",
                    path,
                    params={"offset": offset, "limit": limit, "clean": "true", "format": "json"},
                )
                if not isinstance(items, list):
                    raise ValueError(f"dataset items must be a JSON array, got {type(items).__name__}")
            except (ApiError, ValueError) as exc:
                if not kept.trends:
                    raise CollectionFailed(
                        f"TikTok collection failed reading dataset {dataset_id}: {exc}",
                        retryable=not is_permanent(exc),
                    ) from None
                errors.append(str(exc))
                return kept, errors, "request_failed"
            if not items:
                return kept, errors, "max_items" if len(kept.trends) >= self.max_items else "no_more_items"
            kept.extend(normalize_tiktok_items(items, collected_at=collected_at, seen=seen))
            # The page starts where the API says it does; a page shorter than `limit` is not the last one.
            page_offset = _header_int(headers.get("X-Apify-Pagination-Offset"))
            start = page_offset if page_offset is not None and page_offset >= offset else offset
            offset = start + len(items)
            log.info(
                "Apify dataset %s: items %d-%d of %s read (asked for %d, got %s)",
                dataset_id,
                start,
                offset,
                headers.get("X-Apify-Pagination-Total", "?"),
                limit,
                headers.get("X-Apify-Pagination-Count", len(items)),
            )
            total = _header_int(headers.get("X-Apify-Pagination-Total"))
            # A total saves the request for the empty page when it is set (it can read 0: then it is ignored).
            if total and offset >= total:
                return kept, errors, "max_items" if len(kept.trends) >= self.max_items else "no_more_items"


def _header_int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
