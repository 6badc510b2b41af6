"""Authorized requests to Google APIs with an OAuth access token: 401 refresh, retries, error mapping.

One attempt (`send`) adds the bearer token; a 401 makes the credentials fetch a new token and the request
is sent once more (a second 401 fails). Failures a later attempt may heal (429, 5xx, a dropped connection,
403 rateLimitExceeded/userRateLimitExceeded) raise `TransientFailure`, which `request` retries with
exponential backoff (or the server's Retry-After); the resumable upload handles them itself (it asks the
server how far it got instead of resending). Final failures raise `ApiError`, or one of its subclasses when
the caller can act on it: `QuotaExceededError` and `UploadLimitExceededError` (never retried, wait for the
quota/limit to reset), `InsufficientScopeError`, `AuthorizationError`.

Quota: every attempt that reaches the server is billed (Google charges invalid requests too) to the
method's bucket in a `QuotaLedger`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from shortvid_assets.clients.google_oauth import GoogleOAuthCredentials
from shortvid_assets.clients.http import (
    DEFAULT_MAX_RETRY_AFTER_S,
    MAX_BACKOFF_S,
    ApiError,
    ErrorDetail,
    Sleep,
    clean_api_message,
    parse_retry_after,
    redact,
)

log = logging.getLogger(__name__)

RETRYABLE_403_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
UPLOAD_LIMIT_REASONS = frozenset({"uploadLimitExceeded"})
SCOPE_REASONS = frozenset({"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"})


class QuotaExceededError(ApiError):
    """The project's daily API quota is spent (403 quotaExceeded): retry after midnight Pacific Time."""


class UploadLimitExceededError(ApiError):
    """The channel reached its 24-hour upload limit (uploadLimitExceeded): retry in 24 hours."""


class InsufficientScopeError(ApiError):
    """The access token lacks a scope the method needs: run `shortvid publish auth` with that scope."""


class AuthorizationError(ApiError):
    """The API rejected a freshly refreshed access token (401 twice)."""


class TransientFailure(Exception):
    """One attempt failed in a way a later attempt may heal; carries the server's wait, if it asked for one."""

    def __init__(self, message: str, *, status_code: int | None = None, retry_after_s: float | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class QuotaCost:
    """What one call of an API method costs: units in a quota bucket."""

    bucket: str
    units: int


class QuotaLedger:
    """Quota units spent per bucket and per method, and requests sent, by one client."""

    def __init__(self) -> None:
        self.units_by_bucket: Counter[str] = Counter()
        self.units_by_method: Counter[str] = Counter()
        self.requests = 0

    def charge(self, method: str, cost: QuotaCost | None) -> None:
        self.requests += 1
        if cost is not None and cost.units:
            self.units_by_bucket[cost.bucket] += cost.units
            self.units_by_method[method] += cost.units

    def mark(self) -> tuple[int, Counter[str]]:
        return self.requests, Counter(self.units_by_bucket)

    def since(self, mark: tuple[int, Counter[str]]) -> tuple[int, dict[str, int]]:
        """Requests and units per bucket spent since `mark`."""
        requests, units = mark
        spent = self.units_by_bucket - units
        return self.requests - requests, {bucket: spent[bucket] for bucket in sorted(spent) if spent[bucket]}


def google_error(body: Any) -> ErrorDetail:
    """Message and reason of a Google error body: `errors[0].reason`, else `details[].reason`, else `status`."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return ErrorDetail(message=error if isinstance(error, str) else None)
    message = error.get("message")
    reason = None
    errors = error.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        reason = errors[0].get("reason")
        message = message or errors[0].get("message")
    details = error.get("details")
    if reason is None and isinstance(details, list):
        reason = next((d.get("reason") for d in details if isinstance(d, Mapping) and d.get("reason")), None)
    if reason is None and isinstance(error.get("status"), str):
        reason = error["status"]
    return ErrorDetail(
        message=message if isinstance(message, str) else None,
        reason=reason if isinstance(reason, str) else None,
    )


def _detail(response: httpx.Response) -> ErrorDetail:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return ErrorDetail(message=clean_api_message(text) if text else None)
    try:
        detail = google_error(body)
    except Exception:  # a malformed error body must not hide the status code
        detail = ErrorDetail()
    return ErrorDetail(
        message=clean_api_message(detail.message) if detail.message else None, reason=detail.reason
    )


def is_scope_error(status: int, detail: ErrorDetail, headers: httpx.Headers) -> bool:
    """Whether a 403 says the token lacks a scope (not a quota or permission problem of the resource)."""
    if status != 403:
        return False
    if detail.reason in SCOPE_REASONS or "insufficient_scope" in headers.get("WWW-Authenticate", ""):
        return True
    return "insufficient authentication scopes" in (detail.message or "").lower()


class GoogleApiSession:
    """Bearer-token requests to Google APIs for one client, with retries, quota accounting and redaction."""

    def __init__(
        self,
        credentials: GoogleOAuthCredentials,
        *,
        service: str,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        backoff_s: float = 1.0,
        max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep = time.sleep,
        ledger: QuotaLedger | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.credentials = credentials
        self.service = service
        self.max_retries = max_retries
        self.backoff_s = max(0.0, backoff_s)
        self.max_retry_after_s = max_retry_after_s
        self.sleep = sleep
        self.ledger = ledger or QuotaLedger()
        self.waits: list[float] = []
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s), transport=transport, follow_redirects=False
        )

    def __repr__(self) -> str:
        return f"GoogleApiSession(service={self.service!r})"

    def close(self) -> None:
        self._client.close()

    def redact(self, text: str) -> str:
        return redact(text, self.credentials.secrets())

    def backoff(self, attempt: int, retry_after_s: float | None = None) -> float:
        """Wait before retry `attempt` (0-based): the server's Retry-After, else exponential backoff."""
        wait = retry_after_s if retry_after_s is not None else min(MAX_BACKOFF_S, self.backoff_s * 2**attempt)
        self.waits.append(wait)
        if wait > 0:
            self.sleep(wait)
        return wait

    def error(
        self, text: str, *, method: str, path: str, kind: type[ApiError] = ApiError, **facts: Any
    ) -> ApiError:
        return kind(self.redact(f"{self.service} {method} {path} failed: {text}"), service=self.service,
                    method=method, path=path, **facts)  # fmt: skip

    def send(
        self,
        method: str,
        url: str,
        *,
        api_method: str,
        cost: QuotaCost | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: Collection[int] = (),
    ) -> httpx.Response:
        """One attempt (sent again once after a 401 and a token refresh); a 2xx or `ok_statuses` answer returns."""
        path = httpx.URL(url).path
        for auth_try in (0, 1):
            token = self.credentials.access_token()
            request_headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                **(headers or {}),
            }
            self.ledger.charge(api_method, cost)
            try:
                response = self._client.request(
                    method, url, params=params, json=json_body, content=content, headers=request_headers
                )
            except httpx.TimeoutException as exc:
                raise TransientFailure(f"no answer within the timeout ({type(exc).__name__})") from None
            except httpx.TransportError as exc:
                raise TransientFailure(f"connection failed ({type(exc).__name__})") from None
            status = response.status_code
            if 200 <= status < 300 or status in ok_statuses:
                return response
            detail = _detail(response)
            reason = f" ({detail.reason})" if detail.reason else ""
            message = f": {detail.message}" if detail.message else ""
            failure = self.redact(f"HTTP {status}{reason}{message}")
            if status == 401 and auth_try == 0:
                log.info(
                    "%s %s %s: access token rejected (401); refreshing it once", self.service, method, path
                )
                self.credentials.invalidate(token)
                continue
            facts = {"status_code": status, "reason": detail.reason, "api_message": detail.message}
            if status == 429 or status >= 500 or (status == 403 and detail.reason in RETRYABLE_403_REASONS):
                raise TransientFailure(
                    failure,
                    status_code=status,
                    retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
                )
            if detail.reason in QUOTA_REASONS:
                raise self.error(f"{failure}. The daily quota resets at midnight Pacific Time.",
                                 method=method, path=path, kind=QuotaExceededError, **facts)  # fmt: skip
            if detail.reason in UPLOAD_LIMIT_REASONS:
                raise self.error(f"{failure}. The channel's 24-hour upload limit is reached; try in 24 hours.",
                                 method=method, path=path, kind=UploadLimitExceededError, **facts)  # fmt: skip
            if is_scope_error(status, detail, response.headers):
                raise self.error(f"{failure}. Run `shortvid publish auth` granting the missing scope.",
                                 method=method, path=path, kind=InsufficientScopeError, **facts)  # fmt: skip
            if status == 401:
                raise self.error(f"{failure} (after a token refresh). Run `shortvid publish auth` again.",
                                 method=method, path=path, kind=AuthorizationError, **facts)  # fmt: skip
            raise self.error(failure, method=method, path=path, **facts)
        raise AssertionError("unreachable")

    def request(
        self,
        method: str,
        url: str,
        *,
        api_method: str,
        cost: QuotaCost | None = None,
        retry_connection_errors: bool = True,
        on_retry: Callable[[int], None] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """`send` with bounded retries of transient failures."""
        attempt = 0
        path = httpx.URL(url).path
        while True:
            try:
                return self.send(method, url, api_method=api_method, cost=cost, **kwargs)
            except TransientFailure as exc:
                retry = exc.status_code is not None or retry_connection_errors
                if not retry or attempt >= self.max_retries:
                    gave_up = f" (gave up after {attempt + 1} attempts)" if retry else ""
                    raise self.error(f"{exc}{gave_up}", method=method, path=path,
                                     status_code=exc.status_code, attempts=attempt + 1) from None  # fmt: skip
                if exc.retry_after_s is not None and exc.retry_after_s > self.max_retry_after_s:
                    raise self.error(
                        f"{exc}; the server asks to wait {exc.retry_after_s:.0f} s, longer than this client waits",
                        method=method, path=path, status_code=exc.status_code, attempts=attempt + 1,
                    ) from None  # fmt: skip
                log.warning("%s %s %s failed (%s); retry %d/%d", self.service, method, path, exc, attempt + 1,
                            self.max_retries)  # fmt: skip
                self.backoff(attempt, exc.retry_after_s)
                if on_retry is not None:
                    on_retry(attempt)
                attempt += 1

    @staticmethod
    def json(response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ValueError(f"{what}: HTTP {response.status_code} with a body that is not JSON") from None
