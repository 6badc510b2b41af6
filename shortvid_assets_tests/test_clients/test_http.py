"""Protects the shared retry helper: which failures are retried, how long it waits, and what it reports.

Driven over real HTTP against a local fake server; the sleep is a recording stub, so the waits the helper
asks for are asserted without spending them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from shortvid_assets.clients.http import ApiError, ErrorDetail, JsonHttp, parse_retry_after, redact
from shortvid_assets_tests.fakes.server import FakeServer, Response

SECRET = "sk-test-SECRET-0123456789"


class Sleeper:
    """A sleep stub that records the waits asked of it."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def error_parser(body: object) -> ErrorDetail:
    error = body.get("error", {}) if isinstance(body, dict) else {}
    return ErrorDetail(message=error.get("message"), reason=error.get("type"))


@pytest.fixture
def server():
    fake = FakeServer()
    fake.route("GET", "/thing", lambda request, match: Response(200, {"ok": True}))
    fake.route("POST", "/job", lambda request, match: Response(201, {"started": True}))
    with fake:
        yield fake


def client(server: FakeServer, sleeper: Sleeper, **kwargs) -> JsonHttp:
    options = {"max_retries": 3, "backoff_s": 1.0, "timeout_s": 2.0} | kwargs
    return JsonHttp(
        service="Test API",
        base_url=server.url,
        headers={"Authorization": f"Bearer {SECRET}"},
        secrets=(SECRET,),
        error_parser=error_parser,
        sleep=sleeper,
        **options,
    )


def test_429_waits_what_retry_after_says_then_succeeds(server):
    server.fail(
        "GET", "/thing", Response(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "2"})
    )
    sleeper = Sleeper()
    with client(server, sleeper) as http:
        body, _ = http.request_json("GET", "/thing")
        assert body == {"ok": True}
        assert (http.requests, http.failed_requests) == (2, 1)
    assert sleeper.waits == [2.0]


def test_retry_after_as_http_date_is_honoured():
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(7.0)
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("-5") == 0.0


def test_5xx_backs_off_exponentially_then_succeeds(server):
    server.fail(
        "GET", "/thing", Response(500, {}), Response(502, raw=b"<html>bad gateway</html>"), Response(503, {})
    )
    sleeper = Sleeper()
    with client(server, sleeper, backoff_s=0.5) as http:
        body, _ = http.request_json("GET", "/thing")
    assert body == {"ok": True}
    assert sleeper.waits == [0.5, 1.0, 2.0]
    assert len(server.calls("GET", "/thing")) == 4


def test_gives_up_after_max_retries_with_the_status(server):
    server.fail("GET", "/thing", *[Response(503, {"error": {"message": "backend down"}})] * 5)
    sleeper = Sleeper()
    with client(server, sleeper, max_retries=2) as http, pytest.raises(ApiError) as caught:
        http.request_json("GET", "/thing")
    assert "HTTP 503" in str(caught.value) and "backend down" in str(caught.value)
    assert "gave up after 3 attempts" in str(caught.value)
    assert caught.value.attempts == 3
    assert len(server.calls("GET", "/thing")) == 3
    assert sleeper.waits == [1.0, 2.0]


def test_other_4xx_fail_at_once_with_the_api_message(server):
    server.fail(
        "GET", "/thing", Response(400, {"error": {"type": "invalid-input", "message": "Field x is bad"}})
    )
    sleeper = Sleeper()
    with client(server, sleeper) as http, pytest.raises(ApiError) as caught:
        http.request_json("GET", "/thing")
    assert caught.value.status_code == 400
    assert caught.value.reason == "invalid-input"
    assert "Field x is bad" in str(caught.value)
    assert len(server.calls()) == 1 and sleeper.waits == []


def test_timeout_is_retried(server):
    server.fail("GET", "/thing", Response(200, {"late": True}, delay_s=1.0))
    sleeper = Sleeper()
    with client(server, sleeper, timeout_s=0.3) as http:
        body, _ = http.request_json("GET", "/thing")
    assert body == {"ok": True}
    assert sleeper.waits == [1.0]


def test_truncated_json_is_retried_then_reported(server):
    server.fail("GET", "/thing", *[Response(200, raw=b'{"items": [1, 2')] * 4)
    sleeper = Sleeper()
    with client(server, sleeper) as http, pytest.raises(ApiError) as caught:
        http.request_json("GET", "/thing")
    assert "not valid JSON" in str(caught.value)
    assert len(server.calls()) == 4


def test_non_idempotent_post_is_not_retried_on_5xx_but_is_on_429(server):
    server.fail("POST", "/job", Response(500, {"error": {"message": "oops"}}))
    sleeper = Sleeper()
    with client(server, sleeper) as http:
        with pytest.raises(ApiError):
            http.request_json("POST", "/job", json_body={}, idempotent=False)
        assert len(server.calls("POST")) == 1
        server.fail("POST", "/job", Response(429, {}, headers={"Retry-After": "1"}))
        body, _ = http.request_json("POST", "/job", json_body={}, idempotent=False)
    assert body == {"started": True}
    assert sleeper.waits == [1.0]


def test_a_retry_after_beyond_the_limit_fails_instead_of_sleeping(server):
    server.fail("GET", "/thing", Response(429, {}, headers={"Retry-After": "3600"}))
    sleeper = Sleeper()
    with client(server, sleeper, max_retry_after_s=60) as http, pytest.raises(ApiError) as caught:
        http.request_json("GET", "/thing")
    assert "3600 s" in str(caught.value)
    assert sleeper.waits == []


def test_dropped_connection_is_retried(server):
    server.fail("GET", "/thing", Response(drop=True))
    sleeper = Sleeper()
    with client(server, sleeper) as http:
        body, _ = http.request_json("GET", "/thing")
    assert body == {"ok": True}
    assert len(sleeper.waits) == 1


def test_secret_echoed_by_the_api_is_redacted_everywhere(server, caplog):
    caplog.set_level(logging.DEBUG)
    echoed = {"error": {"message": f"token {SECRET} is not valid"}}
    server.fail("GET", "/thing", Response(500, echoed), Response(401, echoed))
    with client(server, Sleeper()) as http, pytest.raises(ApiError) as caught:
        http.request_json("GET", "/thing")
    assert SECRET not in str(caught.value) and "***" in str(caught.value)
    assert SECRET not in caught.value.api_message
    assert SECRET not in caplog.text
    assert SECRET not in repr(http)
    assert redact(f"a {SECRET} b", [SECRET]) == "a *** b"


def test_retry_after_on_a_5xx_is_honoured_too(server):
    server.fail("GET", "/thing", Response(503, {}, headers={"Retry-After": "4"}))
    sleeper = Sleeper()
    with client(server, sleeper) as http:
        body, _ = http.request_json("GET", "/thing")
    assert body == {"ok": True} and sleeper.waits == [4.0]
