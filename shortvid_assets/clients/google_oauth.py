"""OAuth 2.0 installed-app credentials for Google APIs: refresh-token access tokens and the consent flow.

`GoogleOAuthCredentials` turns a client id/secret and a refresh token (the caller reads them from the
environment) into short-lived access tokens from the token endpoint (`grant_type=refresh_token`), cached
until shortly before they expire; API clients call `invalidate()` when a request comes back 401 and ask
again. `shortvid publish auth` uses the rest: `build_consent_url` (PKCE, offline access, loopback
redirect), `LoopbackReceiver` or `parse_authorization_response` (the user pastes the redirected URL or
the code), and `exchange_code` (`grant_type=authorization_code`) for the refresh token.

No token or secret ever appears in a log line, an exception message or a repr.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from pydantic import BaseModel, SecretStr

from shortvid_assets.clients.http import (
    MAX_BACKOFF_S,
    Clock,
    Sleep,
    clean_api_message,
    parse_retry_after,
    redact,
    utc_now,
)

log = logging.getLogger(__name__)

AUTH_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
SCOPE_UPLOAD = "https://www.googleapis.com/auth/youtube.upload"
SCOPE_READONLY = "https://www.googleapis.com/auth/youtube.readonly"
SCOPE_ANALYTICS = "https://www.googleapis.com/auth/yt-analytics.readonly"
PUBLISH_SCOPES = (SCOPE_UPLOAD, SCOPE_READONLY)
# An access token is renewed this long before Google says it expires (clock skew, slow requests).
EXPIRY_MARGIN_S = 60.0


def publish_scopes(*, analytics: bool) -> tuple[str, ...]:
    """The scopes `shortvid publish auth` asks for: upload and read, plus Analytics when wanted."""
    return (*PUBLISH_SCOPES, SCOPE_ANALYTICS) if analytics else PUBLISH_SCOPES


class OAuthError(Exception):
    """The token endpoint refused or could not be reached; the message never holds a token or secret.

    `error` is OAuth's error code (`invalid_grant`: the refresh token was revoked or expired, run
    `shortvid publish auth` again; `invalid_client`: wrong client id/secret). `retryable` is True only for
    failures a later attempt may heal (5xx, 429, a dropped connection).
    """

    def __init__(
        self, message: str, *, error: str | None = None, status_code: int | None = None, retryable: bool
    ) -> None:
        super().__init__(message)
        self.error = error
        self.status_code = status_code
        self.retryable = retryable


class GrantedTokens(BaseModel):
    """What an authorization-code exchange returns: the long-lived refresh token and the granted scopes."""

    refresh_token: SecretStr
    scopes: tuple[str, ...]
    access_token: SecretStr
    expires_in_s: float

    @property
    def has_analytics(self) -> bool:
        return SCOPE_ANALYTICS in self.scopes


class _TokenEndpoint:
    """Form-encoded POSTs to the token endpoint with bounded retries; answers are JSON."""

    def __init__(
        self,
        *,
        token_url: str,
        secrets_: Iterable[str],
        timeout_s: float,
        max_retries: int,
        backoff_s: float,
        transport: httpx.BaseTransport | None,
        sleep: Sleep,
    ) -> None:
        self.token_url = token_url
        self._secrets = [s for s in secrets_ if s]
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._backoff_s = backoff_s
        self._transport = transport
        self._sleep = sleep
        self.requests = 0

    def add_secret(self, secret: str) -> None:
        if secret:
            self._secrets.append(secret)

    def post(self, form: dict[str, str]) -> dict[str, Any]:
        grant = form.get("grant_type", "?")
        attempt = 0
        with httpx.Client(
            timeout=self._timeout_s, transport=self._transport, follow_redirects=False
        ) as client:
            while True:
                self.requests += 1
                retry_wait: float | None = None
                try:
                    response = client.post(self.token_url, data=form, headers={"Accept": "application/json"})
                except (httpx.TimeoutException, httpx.TransportError) as exc:
                    failure, status, error, retry = (
                        f"connection failed ({type(exc).__name__})",
                        None,
                        None,
                        True,
                    )
                else:
                    status = response.status_code
                    body = _json_or_none(response)
                    if status == 200 and isinstance(body, dict) and isinstance(body.get("access_token"), str):
                        return body
                    error = body.get("error") if isinstance(body, dict) else None
                    description = body.get("error_description") if isinstance(body, dict) else None
                    what = f" {error}" if isinstance(error, str) else ""
                    why = f": {clean_api_message(str(description))}" if description else ""
                    failure = f"HTTP {status}{what}{why}"
                    if status == 200:
                        failure = "HTTP 200 without an access_token"
                    retry = status == 429 or status >= 500
                    if retry:
                        retry_wait = parse_retry_after(response.headers.get("Retry-After"))
                    error = error if isinstance(error, str) else None
                if not retry or attempt >= self._max_retries:
                    hint = ""
                    if error == "invalid_grant":
                        hint = " The refresh token was revoked or has expired: run `shortvid publish auth` again."
                    elif error in ("invalid_client", "unauthorized_client"):
                        hint = " Check the OAuth client id and secret."
                    gave_up = f" (gave up after {attempt + 1} attempts)" if retry else ""
                    raise OAuthError(
                        self._redact(f"Google token endpoint ({grant}) failed: {failure}{gave_up}.{hint}"),
                        error=error,
                        status_code=status,
                        retryable=retry,
                    )
                wait = (
                    retry_wait if retry_wait is not None else min(MAX_BACKOFF_S, self._backoff_s * 2**attempt)
                )
                log.warning(
                    "Google token endpoint (%s) failed (%s); retry %d/%d in %.1f s",
                    grant,
                    self._redact(failure),
                    attempt + 1,
                    self._max_retries,
                    wait,
                )
                if wait > 0:
                    self._sleep(wait)
                attempt += 1

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class GoogleOAuthCredentials:
    """Access tokens for one Google account from a refresh token, cached until shortly before expiry."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        token_url: str = TOKEN_URL,
        timeout_s: float = 20.0,
        max_retries: int = 3,
        backoff_s: float = 1.0,
        expiry_margin_s: float = EXPIRY_MARGIN_S,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        for name, value in (
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("refresh_token", refresh_token),
        ):
            if not value or not value.strip():
                raise ValueError(
                    f"{name} is empty: set the Google OAuth client id, secret and refresh token "
                    "(run `shortvid publish auth` to get a refresh token)"
                )
        self.client_id = client_id.strip()
        self._client_secret = client_secret.strip()
        self._refresh_token = refresh_token.strip()
        self._expiry_margin = timedelta(seconds=expiry_margin_s)
        self._clock = clock or utc_now
        self._lock = threading.Lock()
        self._access_token: str | None = None
        self._expires_at: datetime | None = None
        self.granted_scopes: frozenset[str] | None = None  # known after the first refresh, if Google says
        self._endpoint = _TokenEndpoint(
            token_url=token_url,
            secrets_=(self._client_secret, self._refresh_token),
            timeout_s=timeout_s,
            max_retries=max_retries,
            backoff_s=backoff_s,
            transport=transport,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"GoogleOAuthCredentials(client_id={self.client_id!r}, token_url={self._endpoint.token_url!r})"

    @property
    def token_requests(self) -> int:
        """Requests sent to the token endpoint so far (retries included)."""
        return self._endpoint.requests

    def secrets(self) -> tuple[str, ...]:
        """Every secret these credentials hold, for redaction by the API clients."""
        return tuple(s for s in (self._client_secret, self._refresh_token, self._access_token) if s)

    def access_token(self) -> str:
        """A valid access token: the cached one, or a new one from the token endpoint."""
        with self._lock:
            now = self._clock()
            if self._access_token and self._expires_at and now < self._expires_at - self._expiry_margin:
                return self._access_token
            body = self._endpoint.post(
                {
                    "grant_type": "refresh_token",
                    "client_id": self.client_id,
                    "client_secret": self._client_secret,
                    "refresh_token": self._refresh_token,
                }
            )
            token = str(body["access_token"])
            self._endpoint.add_secret(token)
            self._access_token = token
            self._expires_at = now + timedelta(seconds=_expires_in(body))
            if isinstance(body.get("scope"), str):
                self.granted_scopes = frozenset(body["scope"].split())
            log.info("Google OAuth: new access token, valid until %s", self._expires_at.isoformat())
            return token

    def authorization_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token()}"}

    def invalidate(self, rejected_token: str | None = None) -> None:
        """Forget the cached token (an API answered 401), unless another thread already replaced it."""
        with self._lock:
            if rejected_token is None or rejected_token == self._access_token:
                self._access_token = None
                self._expires_at = None


def _expires_in(body: dict[str, Any]) -> float:
    try:
        return max(0.0, float(body.get("expires_in", 3600)))
    except (TypeError, ValueError):
        return 3600.0


# --- the consent flow (`shortvid publish auth`) ---------------------------------------------------------


def new_pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def build_consent_url(
    client_id: str,
    *,
    redirect_uri: str,
    scopes: Iterable[str],
    state: str,
    code_challenge: str | None = None,
    login_hint: str | None = None,
    auth_url: str = AUTH_URL,
) -> str:
    """The Google consent page URL: offline access (a refresh token), consent prompted every time."""
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(scopes),
        "access_type": "offline",
        # Google only returns a refresh token on a consent screen; without this a re-auth gets none.
        "prompt": "consent",
        "include_granted_scopes": "true",
        "state": state,
    }
    if code_challenge:
        params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    if login_hint:
        params["login_hint"] = login_hint
    return f"{auth_url}?{urlencode(params)}"


def parse_authorization_response(pasted: str, *, expected_state: str | None) -> str:
    """The authorization code from what the user pasted: the redirected URL (state checked) or the bare code."""
    text = pasted.strip()
    if not text:
        raise ValueError("nothing pasted: paste the URL your browser was redirected to, or the code")
    if "://" not in text and "?" not in text and "=" not in text:
        return text
    query = parse_qs(urlsplit(text).query or text.lstrip("?"))
    if "error" in query:
        raise ValueError(f"Google refused the authorization: {query['error'][0]}")
    code = query.get("code", [""])[0]
    if not code:
        raise ValueError("the pasted URL has no `code` parameter: paste the full redirected URL")
    state = query.get("state", [None])[0]
    if expected_state is not None and state != expected_state:
        raise ValueError(
            "the pasted URL's state does not match this login attempt: start `publish auth` again"
        )
    return code


def exchange_code(
    client_id: str,
    client_secret: str,
    code: str,
    *,
    redirect_uri: str,
    code_verifier: str | None = None,
    token_url: str = TOKEN_URL,
    timeout_s: float = 20.0,
    transport: httpx.BaseTransport | None = None,
) -> GrantedTokens:
    """Trade an authorization code for tokens (`grant_type=authorization_code`); the code is single-use."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
    }
    if code_verifier:
        form["code_verifier"] = code_verifier
    # Not retried: a code is single-use, so a retry after a lost answer would fail with invalid_grant anyway.
    endpoint = _TokenEndpoint(
        token_url=token_url,
        secrets_=(client_secret, code, code_verifier or ""),
        timeout_s=timeout_s,
        max_retries=0,
        backoff_s=0.0,
        transport=transport,
        sleep=time.sleep,
    )
    body = endpoint.post(form)
    refresh = body.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        raise OAuthError(
            "Google returned no refresh token: remove the app's access at "
            "https://myaccount.google.com/permissions and run `shortvid publish auth` again",
            error="no_refresh_token",
            status_code=200,
            retryable=False,
        )
    scope = body.get("scope")
    return GrantedTokens(
        refresh_token=SecretStr(refresh),
        scopes=tuple(scope.split()) if isinstance(scope, str) else (),
        access_token=SecretStr(str(body["access_token"])),
        expires_in_s=_expires_in(body),
    )


class LoopbackReceiver:
    """A one-shot HTTP listener on 127.0.0.1 that catches Google's redirect with the authorization code.

    `with LoopbackReceiver() as receiver:` open `build_consent_url(redirect_uri=receiver.redirect_uri, ...)`
    in a browser, then `receiver.wait(state, timeout_s)` returns the code.
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self._host = host
        self._port = port
        self._server: HTTPServer | None = None
        self._received: str | None = None
        self._done = threading.Event()

    @property
    def redirect_uri(self) -> str:
        assert self._server is not None, "receiver not started"
        return f"http://{self._host}:{self._server.server_address[1]}/"

    def __enter__(self) -> LoopbackReceiver:
        receiver = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # the query holds the code
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                if "code" not in query and "error" not in query:
                    self.send_response(404)
                    self.end_headers()
                    return
                receiver._received = self.path
                receiver._done.set()
                page = b"<html><body>shortvid: authorization received, you can close this tab.</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

        self._server = HTTPServer((self._host, self._port), _Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait(self, state: str, timeout_s: float = 300.0) -> str:
        """The code from the redirect, once it arrives; TimeoutError if the user never finished."""
        if not self._done.wait(timeout_s):
            raise TimeoutError(
                f"no redirect from Google within {timeout_s:.0f} s: paste the redirected URL instead"
            )
        return parse_authorization_response(f"http://localhost{self._received}", expected_state=state)
