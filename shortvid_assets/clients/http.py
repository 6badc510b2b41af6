"""Shared plumbing for the live API clients: JSON over httpx with bounded retries, and the collection outcome.

Retries follow what the APIs ask for: 429 and 5xx are retried with exponential backoff (or after the
server's `Retry-After`), timeouts and dropped connections likewise; any other 4xx fails at once with the
API's own message. Secrets (API keys, tokens) travel in headers only, never in URLs, and are redacted
from every message this module builds, so exceptions and logs never carry them.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from shortvid_assets import clock
from shortvid_assets.domain.models import Trend

log = logging.getLogger(__name__)

REDACTED = "***"
# A server asking for a longer pause than this is not waited for: the run fails with the requested wait.
DEFAULT_MAX_RETRY_AFTER_S = 300.0
MAX_BACKOFF_S = 60.0
_TAG = re.compile(r"<[^>]+>")

Sleep = Callable[[float], None]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC (shortvid's one clock)."""
    return clock.now()


class ApiError(Exception):
    """An API request that failed for good (after any retries); the message never holds a secret."""

    def __init__(
        self,
        message: str,
        *,
        service: str,
        method: str,
        path: str,
        status_code: int | None = None,
        reason: str | None = None,
        api_message: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.service = service
        self.method = method
        self.path = path
        self.status_code = status_code
        self.reason = reason
        self.api_message = api_message
        self.attempts = attempts


class CollectionFailed(Exception):
    """A collection run that produced nothing usable: every request failed, or the remote job failed.

    `retryable` is False when trying again soon cannot help (a rejected key, a bad request, a spent daily
    quota, a remote job that outlived its wait); the counters say what the failed run sent and spent.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        requests: int = 0,
        failed_requests: int = 0,
        quota_units: int = 0,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.requests = requests
        self.failed_requests = failed_requests
        self.quota_units = quota_units


def is_permanent(exc: BaseException | None) -> bool:
    """Whether an API failure will not heal by retrying soon: a 4xx other than 408/429."""
    if not isinstance(exc, ApiError) or exc.status_code is None:
        return False
    return 400 <= exc.status_code < 500 and exc.status_code not in (408, 429)


@dataclass
class CollectionResult:
    """What one collection run brought back, and what it cost and skipped.

    `unknown_fields` counts kept trends per field the platform did not send (stored as None, e.g.
    `{"likes": 3}` for hidden like counts); `kept_with_unknown_fields` is how many trends lack any.
    """

    trends: list[Trend]
    skipped: dict[str, int]
    requests: int
    failed_requests: int
    quota_units: int
    source: str
    stop_reason: str | None = None
    errors: list[str] = field(default_factory=list)
    unknown_fields: dict[str, int] = field(default_factory=dict)
    kept_with_unknown_fields: int = 0

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


@dataclass(frozen=True)
class ErrorDetail:
    """The parts of an API error body that matter: a human message and a machine reason."""

    message: str | None = None
    reason: str | None = None


ErrorParser = Callable[[Any], ErrorDetail]
RetryDecider = Callable[[int, ErrorDetail], bool]


def _default_retryable(status: int, detail: ErrorDetail) -> bool:
    return status == 429 or status >= 500


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date); None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or utc_now())).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def redact(text: str, secrets: Iterable[str]) -> str:
    """The text with every secret replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def clean_api_message(text: str, limit: int = 300) -> str:
    """An API message fit for an exception: HTML tags dropped, whitespace collapsed, length bounded."""
    text = _TAG.sub("", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class JsonHttp:
    """JSON requests to one API with retries, request counting and secret redaction."""

    def __init__(
        self,
        *,
        service: str,
        base_url: str,
        headers: dict[str, str] | None = None,
        secrets: Iterable[str] = (),
        timeout_s: float = 20.0,
        max_retries: int = 3,
        backoff_s: float = 1.0,
        max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S,
        error_parser: ErrorParser | None = None,
        retryable: RetryDecider = _default_retryable,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        self.service = service
        self._secrets = tuple(s for s in secrets if s)
        self._max_retries = max_retries
        self._backoff_s = max(0.0, backoff_s)
        self._max_retry_after_s = max_retry_after_s
        self._error_parser = error_parser or (lambda body: ErrorDetail())
        self._retryable = retryable
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers or {},
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
            follow_redirects=False,
        )
        self.requests = 0
        self.failed_requests = 0
        self.waits: list[float] = []

    def __repr__(self) -> str:
        return f"JsonHttp(service={self.service!r}, base_url={str(self._client.base_url)!r})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> JsonHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _backoff(self, attempt: int) -> float:
        return min(MAX_BACKOFF_S, self._backoff_s * (2**attempt))

    def _wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        if seconds > 0:
            self._sleep(seconds)

    def _error(self, text: str, *, method: str, path: str, **kwargs: Any) -> ApiError:
        return ApiError(
            redact(f"{self.service} {method} {path} failed: {text}", self._secrets),
            service=self.service,
            method=method,
            path=path,
            **kwargs,
        )

    def _detail(self, response: httpx.Response) -> ErrorDetail:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            text = response.text.strip()
            return ErrorDetail(message=clean_api_message(text) if text else None)
        try:
            detail = self._error_parser(body)
        except Exception:  # a malformed error body must not hide the status code
            detail = ErrorDetail()
        message = clean_api_message(detail.message) if detail.message else None
        return ErrorDetail(
            message=redact(message, self._secrets) if message else None,
            reason=detail.reason,
        )

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool = True,
        before_send: Callable[[int], None] | None = None,
    ) -> tuple[Any, httpx.Headers]:
        """Send one request (retrying what may be retried) and return its decoded JSON body and headers.

        A request that is not idempotent (starting a paid job) is retried only where the server surely did
        not act on it: a 429 answer or a connection that was never made. `before_send(attempt)` runs before
        every attempt and may raise to stop (a quota meter does).
        """
        attempt = 0
        while True:
            if before_send is not None:
                before_send(attempt)
            self.requests += 1
            status: int | None = None
            detail = ErrorDetail()
            retry_wait: float | None = None
            try:
                response = self._client.request(method, path, params=params, json=json_body)
            except httpx.TimeoutException as exc:
                failure = f"no answer within the timeout ({type(exc).__name__})"
                retry = idempotent
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                failure = f"connection failed ({type(exc).__name__})"
                retry = idempotent or isinstance(exc, httpx.ConnectError)
            else:
                status = response.status_code
                if 200 <= status < 300:
                    try:
                        return response.json(), response.headers
                    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
                        failure = f"HTTP {status} with a body that is not valid JSON ({len(response.content)} bytes)"
                        retry = idempotent
                else:
                    detail = self._detail(response)
                    reason = f" ({detail.reason})" if detail.reason else ""
                    message = f": {detail.message}" if detail.message else ""
                    failure = f"HTTP {status}{reason}{message}"
                    retry = self._retryable(status, detail) and (idempotent or status == 429)
                    if retry:
                        retry_wait = parse_retry_after(response.headers.get("Retry-After"))
            self.failed_requests += 1
            facts = {
                "method": method,
                "path": path,
                "status_code": status,
                "reason": detail.reason,
                "api_message": detail.message,
                "attempts": attempt + 1,
            }
            if not retry:
                raise self._error(failure, **facts)
            if attempt >= self._max_retries:
                raise self._error(f"{failure} (gave up after {attempt + 1} attempts)", **facts)
            if retry_wait is not None and retry_wait > self._max_retry_after_s:
                raise self._error(
                    f"{failure}; the server asks to wait {retry_wait:.0f} s, more than the "
                    f"{self._max_retry_after_s:.0f} s this client waits. Try again later.",
                    **facts,
                )
            wait = retry_wait if retry_wait is not None else self._backoff(attempt)
            log.warning(
                "%s %s %s failed (%s); retry %d/%d in %.1f s",
                self.service,
                method,
                path,
                redact(failure, self._secrets),
                attempt + 1,
                self._max_retries,
                wait,
            )
            self._wait(wait)
            attempt += 1


def counter_dict(counter: Counter[str]) -> dict[str, int]:
    """A plain, sorted dict of a reason counter."""
    return {key: counter[key] for key in sorted(counter) if counter[key]}
