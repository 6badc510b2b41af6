"""Protects the Google OAuth credentials (refresh-token access tokens, the consent flow) against the real
token endpoint's wire format: tokens are cached until expiry, refreshed when invalidated, failures are
classified (a revoked refresh token is final), and no token or secret shows in a repr, a log or an error.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from shortvid_assets.clients.google_oauth import (
    SCOPE_ANALYTICS,
    GoogleOAuthCredentials,
    LoopbackReceiver,
    OAuthError,
    build_consent_url,
    exchange_code,
    new_pkce_pair,
    parse_authorization_response,
    publish_scopes,
)
from shortvid_assets_tests.fakes.youtube_publish import (
    SCOPE_READONLY,
    SCOPE_UPLOAD,
    FakeGooglePublishing,
    server_error,
)

CLIENT_ID = "1234-fake.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-client-secret-0123"
REFRESH_TOKEN = "1//fake-refresh-token-abcdef"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fake():
    with FakeGooglePublishing(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN
    ) as server:
        yield server


def credentials(fake: FakeGooglePublishing, clock: Clock | None = None, **kwargs) -> GoogleOAuthCredentials:
    waits: list[float] = []
    return GoogleOAuthCredentials(
        kwargs.pop("client_id", CLIENT_ID),
        kwargs.pop("client_secret", CLIENT_SECRET),
        kwargs.pop("refresh_token", REFRESH_TOKEN),
        token_url=fake.token_url,
        clock=clock or Clock(),
        sleep=waits.append,
        **kwargs,
    )


def test_access_token_is_fetched_once_and_cached_until_shortly_before_expiry(fake):
    clock = Clock()
    creds = credentials(fake, clock)
    first = creds.access_token()
    assert creds.access_token() == first and len(fake.token_calls()) == 1
    form = parse_qs(fake.token_calls()[0].body.decode())
    assert form == {
        "grant_type": ["refresh_token"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "refresh_token": [REFRESH_TOKEN],
    }
    assert creds.granted_scopes == {SCOPE_UPLOAD, SCOPE_READONLY, SCOPE_ANALYTICS}
    clock.now = T0 + timedelta(seconds=fake.expires_in - 61)
    assert creds.access_token() == first
    clock.now = T0 + timedelta(seconds=fake.expires_in - 59)  # inside the 60 s margin
    second = creds.access_token()
    assert second != first and creds.token_requests == 2


def test_invalidate_forces_a_new_token_but_not_when_another_caller_already_replaced_it(fake):
    creds = credentials(fake)
    first = creds.access_token()
    creds.invalidate(first)
    second = creds.access_token()
    creds.invalidate(first)  # a late 401 for the old token must not throw away the new one
    assert creds.access_token() == second and len(fake.token_calls()) == 2


def test_revoked_refresh_token_fails_at_once_with_what_to_do(fake):
    creds = credentials(fake, refresh_token="1//revoked-token")
    with pytest.raises(OAuthError) as caught:
        creds.access_token()
    assert caught.value.error == "invalid_grant" and not caught.value.retryable
    assert "shortvid publish auth" in str(caught.value)
    assert "1//revoked-token" not in str(caught.value) and CLIENT_SECRET not in str(caught.value)
    assert len(fake.token_calls()) == 1


def test_wrong_client_secret_is_invalid_client(fake):
    with pytest.raises(OAuthError) as caught:
        credentials(fake, client_secret="wrong-secret").access_token()
    assert caught.value.error == "invalid_client" and "wrong-secret" not in str(caught.value)


def test_token_endpoint_5xx_is_retried(fake):
    fake.fail("POST", "/token", server_error(503), server_error(500))
    creds = credentials(fake, backoff_s=0.5)
    assert creds.access_token().startswith("ya29.")
    assert len(fake.token_calls()) == 3


def test_no_secret_in_repr_or_logs(fake, caplog):
    caplog.set_level(logging.DEBUG)
    fake.fail("POST", "/token", server_error(503))
    creds = credentials(fake)
    token = creds.access_token()
    text = caplog.text + repr(creds) + str(creds)
    for secret in (token, CLIENT_SECRET, REFRESH_TOKEN):
        assert secret not in text


def test_empty_inputs_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="publish auth"):
        GoogleOAuthCredentials(CLIENT_ID, CLIENT_SECRET, "  ")


# --- the consent flow ----------------------------------------------------------------------------------


def test_consent_url_asks_for_offline_access_with_pkce_and_the_publish_scopes():
    verifier, challenge = new_pkce_pair()
    url = build_consent_url(
        CLIENT_ID, redirect_uri="http://127.0.0.1:8765/", scopes=publish_scopes(analytics=True),
        state="st4te", code_challenge=challenge,
    )  # fmt: skip
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://accounts.google.com/o/oauth2/v2/auth"
    assert query["scope"].split() == [SCOPE_UPLOAD, SCOPE_READONLY, SCOPE_ANALYTICS]
    assert query | {"scope": ""} == {
        "client_id": CLIENT_ID, "redirect_uri": "http://127.0.0.1:8765/", "response_type": "code", "scope": "",
        "access_type": "offline", "prompt": "consent", "include_granted_scopes": "true", "state": "st4te",
        "code_challenge": challenge, "code_challenge_method": "S256",
    }  # fmt: skip
    assert SCOPE_ANALYTICS not in publish_scopes(analytics=False)
    assert 43 <= len(verifier) <= 128


@pytest.mark.parametrize(
    ("pasted", "state", "expected"),
    [
        ("http://127.0.0.1:8765/?state=s1&code=4/0Abc&scope=x", "s1", "4/0Abc"),
        ("  4/0BareCode  ", "s1", "4/0BareCode"),
        ("?code=4/0Q&state=s1", "s1", "4/0Q"),
    ],
)
def test_parse_authorization_response(pasted, state, expected):
    assert parse_authorization_response(pasted, expected_state=state) == expected


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("http://127.0.0.1/?state=other&code=4/0Abc", "state"),
        ("http://127.0.0.1/?error=access_denied&state=s1", "access_denied"),
        ("http://127.0.0.1/?state=s1", "no `code`"),
        ("", "nothing pasted"),
    ],
)
def test_parse_authorization_response_refuses(pasted, message):
    with pytest.raises(ValueError, match=message):
        parse_authorization_response(pasted, expected_state="s1")


def test_exchange_code_returns_a_refresh_token_that_then_works(fake):
    verifier, challenge = new_pkce_pair()
    fake.grant_code("4/0code", redirect_uri="http://127.0.0.1:9/", scopes=(SCOPE_UPLOAD, SCOPE_READONLY),
                    code_challenge=challenge)  # fmt: skip
    granted = exchange_code(CLIENT_ID, CLIENT_SECRET, "4/0code", redirect_uri="http://127.0.0.1:9/",
                            code_verifier=verifier, token_url=fake.token_url)  # fmt: skip
    refresh = granted.refresh_token.get_secret_value()
    assert refresh not in repr(granted) and not granted.has_analytics
    form = parse_qs(fake.token_calls()[0].body.decode())
    assert form["grant_type"] == ["authorization_code"] and form["code_verifier"] == [verifier]
    assert credentials(fake, refresh_token=refresh).access_token().startswith("ya29.")


def test_exchange_code_with_a_wrong_verifier_fails_once(fake):
    fake.grant_code(
        "4/0code", redirect_uri="http://127.0.0.1:9/", scopes=(SCOPE_UPLOAD,), code_challenge="x" * 43
    )
    with pytest.raises(OAuthError) as caught:
        exchange_code(CLIENT_ID, CLIENT_SECRET, "4/0code", redirect_uri="http://127.0.0.1:9/",
                      code_verifier="wrong", token_url=fake.token_url)  # fmt: skip
    assert caught.value.error == "invalid_grant" and "4/0code" not in str(caught.value)
    assert len(fake.token_calls()) == 1


def test_loopback_receiver_catches_the_redirect():
    with LoopbackReceiver() as receiver:
        assert receiver.redirect_uri.startswith("http://127.0.0.1:")
        page = httpx.get(f"{receiver.redirect_uri}?state=s1&code=4/0Loop&scope=a+b", timeout=5)
        assert page.status_code == 200
        assert receiver.wait("s1", timeout_s=5) == "4/0Loop"
