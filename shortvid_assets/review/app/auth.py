"""Reviewer tokens, signed sessions and CSRF tokens for the review page (no Dagster, no web framework)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time

from pydantic import BaseModel, ConfigDict

logger = logging.getLogger(__name__)

TOKENS_ENV = "SHORTVID_REVIEW_TOKENS"
SECRET_ENV = "SHORTVID_REVIEW_SECRET"
SESSION_TTL_S = 12 * 3600
_REVIEWER_NAME = re.compile(r"^[\w.@+-]{1,64}$")
_WEAK_TOKEN_CHARS = 16


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
            if len(token) < _WEAK_TOKEN_CHARS:
                logger.warning(
                    "the review token of %s is shorter than %d characters", name, _WEAK_TOKEN_CHARS
                )
            tokens[token] = name
        return cls(tokens)

    def reviewer_for(self, token: str) -> str | None:
        """The reviewer a token belongs to, or None; compared in constant time."""
        presented = _fingerprint(token or "")
        found = None
        for fp, name in self._by_fp.items():
            if hmac.compare_digest(fp, presented):
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
        if not hmac.compare_digest(mac, self._mac("session", payload)):
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
        return bool(presented) and hmac.compare_digest(self.csrf_token(session_cookie), presented or "")
