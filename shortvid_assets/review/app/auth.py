"""Reviewer tokens, signed sessions, CSRF tokens and the failure limiter of the review page (no Dagster,
no web framework)."""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import logging
import math
import re
import secrets
import string
import threading
import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

logger = logging.getLogger(__name__)

TOKENS_ENV = "SHORTVID_REVIEW_TOKENS"
SECRET_ENV = "SHORTVID_REVIEW_SECRET"
SESSION_TTL_S = 12 * 3600
_REVIEWER_NAME = re.compile(r"^[\w.@+-]{1,64}$")
MIN_TOKEN_BITS = 128
MAKE_TOKEN = "python -c 'import secrets; print(secrets.token_hex(16))'"


def token_bits(token: str) -> float:
    """A generous estimate of a token's strength in bits: its length times the bits per character of the
    smallest usual alphabet that holds it (hex, else the character classes it uses); a token of fewer
    than 8 distinct characters counts only those (`aaaa...` is weak however long)."""
    if not token:
        return 0.0
    if all(ch in string.hexdigits for ch in token) and (
        token.islower() or token.isupper() or token.isdigit()
    ):
        alphabet = 16
    else:
        classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
        alphabet = sum(len(chars) for chars in classes if any(ch in chars for ch in token))
        if any(not any(ch in chars for chars in classes) for ch in token):
            alphabet += 32  # punctuation and anything else
    distinct = len(set(token))
    return len(token) * math.log2(alphabet if distinct >= 8 else max(distinct, 1))


class ReviewAppConfigError(ValueError):
    """The review page's configuration (tokens, secret) is missing or malformed."""


class Session(BaseModel):
    """A signed-in reviewer: who, until when, and which token they signed in with (its fingerprint)."""

    model_config = ConfigDict(frozen=True)

    reviewer: str
    expires: int
    token_fp: str


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


class Reviewers:
    """The reviewers allowed in, each known by a secret token; the name comes from the token."""

    def __init__(self, tokens: dict[str, str]) -> None:
        if not tokens:
            raise ReviewAppConfigError(
                f"No reviewer tokens: set {TOKENS_ENV}='maya:<token>,omar:<token>' (one name:token pair "
                "per reviewer; make each token long and random, e.g. `openssl rand -hex 16`)."
            )
        self._by_fp = {_fingerprint(token): name for token, name in tokens.items()}

    @classmethod
    def parse(cls, value: str | None) -> Reviewers:
        """Read `name:token,name:token` (the format of SHORTVID_REVIEW_TOKENS)."""
        tokens: dict[str, str] = {}
        for position, pair in enumerate((value or "").split(","), start=1):
            if not pair.strip():
                continue
            name, sep, token = pair.strip().partition(":")
            name, token = name.strip(), token.strip()
            if not sep or not name or not token:
                raise ReviewAppConfigError(
                    f"{TOKENS_ENV}: entry {position} is not name:token; write e.g. maya:3f9c...,omar:81ab..."
                )
            if not _REVIEWER_NAME.match(name):
                raise ReviewAppConfigError(
                    f"{TOKENS_ENV}: reviewer name {name[:64]!r} (entry {position}) may hold only letters, digits "
                    "and . @ + - _ (at most 64)"
                )
            if any(ch.isspace() for ch in token):
                raise ReviewAppConfigError(f"{TOKENS_ENV}: the token of {name!r} contains whitespace")
            if token in tokens:
                raise ReviewAppConfigError(
                    f"{TOKENS_ENV}: {name!r} and {tokens[token]!r} share a token; give each reviewer their own"
                )
            if token_bits(token) < MIN_TOKEN_BITS:
                raise ReviewAppConfigError(
                    f"{TOKENS_ENV}: the token of {name!r} is weaker than {MIN_TOKEN_BITS} bits (it could be "
                    f"guessed); give each reviewer a random token, e.g. from: {MAKE_TOKEN}"
                )
            tokens[token] = name
        return cls(tokens)

    def reviewer_for(self, token: str) -> str | None:
        """The reviewer a token belongs to, or None; compared in constant time."""
        presented = _fingerprint(token or "")
        found = None
        for fp, name in self._by_fp.items():
            if _same(fp, presented):
                found = name
        return found

    def still_valid(self, session: Session) -> bool:
        """True while the session's token is still configured for the same reviewer (revocation)."""
        return self._by_fp.get(session.token_fp) == session.reviewer

    def fingerprint(self, token: str) -> str:
        return _fingerprint(token)


class Signer:
    """HMAC-SHA256 signatures for session cookies and CSRF tokens."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ReviewAppConfigError(f"{SECRET_ENV} must be at least 16 bytes long")
        self._secret = secret

    @classmethod
    def from_value(cls, value: str | None) -> Signer:
        """Use the configured secret, or a random one (sessions then end when the server restarts)."""
        return cls(value.encode() if value else secrets.token_bytes(32))

    def _mac(self, purpose: str, payload: str) -> str:
        return hmac.new(self._secret, f"{purpose}\n{payload}".encode(), hashlib.sha256).hexdigest()

    def session_cookie(self, reviewer: str, token_fp: str, *, ttl_s: int = SESSION_TTL_S) -> str:
        session = Session(reviewer=reviewer, expires=int(time.time()) + ttl_s, token_fp=token_fp)
        payload = base64.urlsafe_b64encode(session.model_dump_json().encode()).decode().rstrip("=")
        return f"{payload}.{self._mac('session', payload)}"

    def read_session(self, cookie: str | None) -> Session | None:
        """The session in a cookie, or None when it is missing, forged, malformed or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, mac = cookie.split(".")
        if not _same(mac, self._mac("session", payload)):
            return None
        try:
            session = Session.model_validate_json(
                base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            )
        except ValueError:
            return None
        return session if session.expires > time.time() else None

    def csrf_token(self, session_cookie: str) -> str:
        """The CSRF token of one session: forms carry it, and only a page of that session knows it."""
        return self._mac("csrf", session_cookie)

    def check_csrf(self, session_cookie: str, presented: str | None) -> bool:
        return bool(presented) and _same(self.csrf_token(session_cookie), presented or "")


def _same(expected: str, presented: str) -> bool:
    """Constant-time comparison of any two strings (`hmac.compare_digest` refuses non-ASCII text)."""
    return hmac.compare_digest(expected.encode(), presented.encode(errors="surrogateescape"))


class FailureLimiter:
    """Counts failures (wrong tokens, bad CSRF, refused decisions) per key, such as a client address or a
    reviewer, in a sliding window; a key with `max_failures` in the window is refused until the oldest
    one leaves it. `clock` returns seconds (monotonic); tests pass their own."""

    def __init__(
        self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures, self.window_s, self._clock = max_failures, window_s, clock
        self._failures: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> collections.deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return collections.deque()
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def retry_after(self, *keys: str) -> int:
        """Seconds until every one of `keys` may try again; 0 when none is blocked."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self.max_failures:
                    wait = max(wait, failures[-self.max_failures] + self.window_s - now)
        return math.ceil(wait) if wait > 0 else 0

    def fail(self, *keys: str) -> int:
        """Count one failure against each key; the most failures any of them now has in the window."""
        now = self._clock()
        with self._lock:
            counts = []
            for key in keys:
                failures = self._recent(key, now)
                failures.append(now)
                self._failures[key] = failures
                counts.append(len(failures))
                if len(self._failures) > 100_000:  # a flood of addresses: forget the oldest entry
                    self._failures.pop(next(iter(self._failures)))
        return max(counts, default=0)
