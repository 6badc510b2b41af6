"""The review page: an ASGI app listing videos awaiting review, with player, script and a decision form.

Security, in short: reviewers sign in with a token from SHORTVID_REVIEW_TOKENS (the name comes
from the token) and get a signed, HttpOnly, SameSite=Strict session cookie; every form carries
a CSRF token derived from that session by HMAC, and a POST whose Origin is another site is
refused; API clients may send `Authorization: Bearer <token>` instead (no cookie, so no CSRF).
Media are served by (date, theme) only: regular files directly inside the three output folders.

Against guessing and junk: every failure (unknown token at sign-in or as a bearer, a bad CSRF
token, a refused decision) is logged and counted per client address and per reviewer; a key with
too many failures in the window gets 429 with Retry-After, even with a right token. A date or
theme in a path that is not the partition's one spelling is 404 before anything is recorded, and
messages never show the server's file paths.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg2
import psycopg2.extensions
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shortvid_assets.domain.files import file_sha256
from shortvid_assets.review.app import catalog
from shortvid_assets.review.app.auth import SESSION_TTL_S, FailureLimiter, Reviewers, Signer
from shortvid_assets.review.app.templates import render
from shortvid_assets.review.decisions import ThemesUnreadable, submit_decision
from shortvid_assets.review.publication import publication_shown
from shortvid_assets.storage import generation_log, postgres, review_decisions
from shortvid_assets.storage.artifacts import Artifacts

logger = logging.getLogger(__name__)

SESSION_COOKIE = "shortvid_review_session"
LOGIN_CSRF_COOKIE = "shortvid_review_login_csrf"
MAX_NOTE_CHARS = 2000
# Failures (wrong tokens, bad CSRF tokens, refused decisions) a client address or a reviewer may have
# in the window before further attempts get 429: a person mistyping gets through, a script does not.
MAX_FAILURES = 10
FAILURE_WINDOW_S = 300
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on form posts.
    "referrer-policy": "same-origin",
}


@dataclass(frozen=True)
class ReviewAppSettings:
    """Everything the page needs: where the files are, the database, who may review, the signing key."""

    artifacts: Artifacts
    themes_file: Path
    database_url: str
    reviewers: Reviewers
    signer: Signer
    session_ttl_s: int = SESSION_TTL_S
    max_failures: int = MAX_FAILURES
    failure_window_s: float = FAILURE_WINDOW_S
    failure_clock: Callable[[], float] = field(default=time.monotonic)


@dataclass(frozen=True)
class Identity:
    reviewer: str
    session_cookie: str | None  # None when authenticated by a bearer token


class TooManyFailures(Exception):
    """A client address or reviewer with too many recent failures: answered 429 with Retry-After."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s


async def _too_many_failures(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TooManyFailures)
    return PlainTextResponse(
        f"Too many failed attempts; try again in {exc.retry_after_s} s.",
        status_code=429,
        headers={"retry-after": str(exc.retry_after_s), "cache-control": "no-store"},
    )


class _Database:
    """Opens one connection per request; the schema is ensured on the first successful one."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._schema_ready = False

    @contextlib.contextmanager
    def connect(self) -> Iterator[psycopg2.extensions.connection]:
        conn = postgres.connect(self.url)
        try:
            if not self._schema_ready:
                review_decisions.ensure_schema(conn)
                self._schema_ready = True
            yield conn
        finally:
            conn.close()


def _page(html: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    response = HTMLResponse(html, status_code=status, headers=headers)
    response.headers["cache-control"] = "no-store"
    return response


def create_app(settings: ReviewAppSettings) -> Starlette:
    """The review page as an ASGI app."""
    artifacts, reviewers, signer = settings.artifacts, settings.reviewers, settings.signer
    database = _Database(settings.database_url)
    limiter = FailureLimiter(settings.max_failures, settings.failure_window_s, settings.failure_clock)

    def address(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def keys(request: Request, reviewer: str | None = None) -> list[str]:
        return [f"address:{address(request)}", *([f"reviewer:{reviewer}"] if reviewer else [])]

    def refuse_if_blocked(request: Request, reviewer: str | None = None) -> None:
        wait = limiter.retry_after(*keys(request, reviewer))
        if wait:
            logger.warning(
                "review page: %s %s refused for %d s (too many failures)",
                request.method,
                request.url.path,
                wait,
            )
            raise TooManyFailures(wait)

    def failed(request: Request, what: str, reviewer: str | None = None) -> None:
        count = limiter.fail(*keys(request, reviewer))
        logger.warning(
            "review page: %s from %s%s (%d of %d failures allowed in %g s)",
            what,
            address(request),
            f" by {reviewer}" if reviewer else "",
            count,
            settings.max_failures,
            settings.failure_window_s,
        )

    def identity(request: Request) -> Identity | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            refuse_if_blocked(request)
            name = reviewers.reviewer_for(header[7:].strip())
            if name is None:
                failed(request, "an unknown bearer token")
                return None
            return Identity(reviewer=name, session_cookie=None)
        cookie = request.cookies.get(SESSION_COOKIE)
        session = signer.read_session(cookie)
        if session is None or not reviewers.still_valid(session):
            return None
        return Identity(reviewer=session.reviewer, session_cookie=cookie)

    def same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        if origin is None:  # not sent by every client; the CSRF token still has to match
            return True
        parts = urlsplit(origin)
        return parts.scheme == request.url.scheme and parts.netloc == request.headers.get("host", "")

    def csrf_ok(request: Request, who: Identity, form_token: str | None) -> bool:
        if who.session_cookie is None:  # bearer token: a browser never adds that header by itself
            return True
        return same_origin(request) and signer.check_csrf(who.session_cookie, form_token)

    def common(who: Identity) -> dict[str, object]:
        csrf = signer.csrf_token(who.session_cookie) if who.session_cookie else ""
        return {"reviewer": who.reviewer, "csrf_token": csrf}

    def to_login() -> Response:
        return RedirectResponse("/login", status_code=303)

    def unavailable(err: Exception, who: Identity | None) -> HTMLResponse:
        # The details (server address, socket folder) go to the server's log, never to the page.
        logger.error("review page: the review database is unavailable: %s", err)
        context = common(who) if who else {}
        return _page(
            render(
                "message.html",
                heading="The review database is unavailable",
                message="The page cannot reach its database; try again in a minute, or tell the operator.",
                **context,
            ),
            status=503,
        )

    # --- sign in / out -----------------------------------------------------------------------------

    async def login_form(request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        response = _page(render("login.html", login_csrf=token, error=None))
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )
        return response

    async def login(request: Request) -> Response:
        refuse_if_blocked(request)
        form = await request.form()
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        presented = str(form.get("csrf_token", ""))
        if not (expected and same_origin(request) and secrets.compare_digest(expected, presented)):
            return PlainTextResponse("The sign-in form expired; open /login again.", status_code=403)
        token = str(form.get("token", ""))
        name = reviewers.reviewer_for(token)
        if name is None:
            failed(request, "a sign-in with an unknown token")
            fresh = secrets.token_urlsafe(24)
            response = _page(render("login.html", login_csrf=fresh, error="Unknown token."), status=401)
            response.set_cookie(
                LOGIN_CSRF_COOKIE,
                fresh,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
            return response
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            signer.session_cookie(name, reviewers.fingerprint(token), ttl_s=settings.session_ttl_s),
            max_age=settings.session_ttl_s,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    async def logout(request: Request) -> Response:
        who = identity(request)
        form = await request.form()
        if who is not None and not csrf_ok(request, who, str(form.get("csrf_token", ""))):
            return PlainTextResponse("Invalid CSRF token.", status_code=403)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    # --- pages ---------------------------------------------------------------------------------------

    def _index_context() -> dict[str, object]:
        entries = catalog.list_videos(artifacts)
        awaiting = [e for e in entries if e.folder == "review"]
        decided = [e for e in entries if e.folder != "review"]
        cards = []
        rows = [{"entry": e, "publication": None} for e in decided]
        if awaiting or any(e.folder == "approved" for e in decided):
            with database.connect() as conn:
                # Whether and where each approved video was published (never its upload session).
                for row in rows:
                    if row["entry"].folder == "approved":
                        row["publication"] = publication_shown(conn, row["entry"].day, row["entry"].theme)
                for e in awaiting:
                    latest = review_decisions.latest_decision(conn, e.day, e.theme)
                    set_aside = review_decisions.set_aside_reasons(conn, [latest.id] if latest else [])
                    cards.append(
                        {
                            "entry": e,
                            "plan": catalog.read_script(artifacts, e.day, e.theme),
                            "cost": _cost_text(generation_log.logged_cost(conn, e.day, e.theme)),
                            "thumbnail": catalog.media_file(artifacts, e.day, e.theme, "jpg") is not None,
                            "latest": latest,
                            "set_aside": set_aside.get(latest.id) if latest else None,
                        }
                    )
        return {
            "awaiting": cards,
            "decided": rows,
        }

    async def index(request: Request) -> Response:
        who = identity(request)
        if who is None:
            return to_login()
        try:
            context = await run_in_threadpool(_index_context)
        except postgres.DatabaseUnavailable as err:
            return unavailable(err, who)
        return _page(render("index.html", **context, **common(who)))

    def _video_context(day: str, theme: str, recorded: int | None = None) -> dict[str, object] | None:
        entry = catalog.find_entry(artifacts, day, theme)
        if entry is None:
            return None
        video = catalog.media_file(artifacts, day, theme, "mp4")
        if video is None:
            return None
        sha256 = file_sha256(video)
        with database.connect() as conn:
            history = review_decisions.decision_history(conn, day, theme)
            cost = generation_log.logged_cost(conn, day, theme)
            set_aside = review_decisions.set_aside_reasons(conn, [d.id for d in history])
            publication = publication_shown(conn, day, theme, video_sha256=sha256)
        # `?recorded=N` confirms only a decision N that exists and is about this video.
        confirmed = next((d for d in history if d.id == recorded), None)
        return {
            "confirmed": confirmed,
            "set_aside": set_aside,
            "entry": entry,
            "plan": catalog.read_script(artifacts, day, theme),
            "cost": _cost_text(cost),
            "thumbnail": catalog.media_file(artifacts, day, theme, "jpg") is not None,
            "sha256": sha256,
            "history": history,
            "publication": publication,
        }

    def _not_found(who: Identity, day: str, theme: str) -> HTMLResponse:
        shown = f"{day} {theme}" if catalog.is_partition(day, theme) else "this address"
        return _page(
            render(
                "message.html",
                heading="No such video",
                message=f"There is no composed video for {shown} in the output folders "
                "(a video's address is /videos/YYYY-MM-DD/theme-slug).",
                **common(who),
            ),
            status=404,
        )

    async def video_page(request: Request) -> Response:
        who = identity(request)
        if who is None:
            return to_login()
        day, theme = request.path_params["day"], request.path_params["theme"]
        recorded = request.query_params.get("recorded", "")
        recorded_id = (
            int(recorded) if recorded.isascii() and recorded.isdigit() and len(recorded) < 19 else None
        )
        try:
            context = await run_in_threadpool(_video_context, day, theme, recorded_id)
        except postgres.DatabaseUnavailable as err:
            return unavailable(err, who)
        if context is None:
            return _not_found(who, day, theme)
        confirmed = context["confirmed"]
        flash = (
            f"Decision #{confirmed.id} recorded; the review sensor files the video within a minute."
            if confirmed is not None
            else None
        )
        return _page(render("video.html", **context, **common(who), flash=flash, error=None))

    async def decide(request: Request) -> Response:
        who = identity(request)
        if who is None:
            return PlainTextResponse("Sign in first: no valid session or bearer token.", status_code=401)
        refuse_if_blocked(request, who.reviewer)
        form = await request.form()
        if not csrf_ok(request, who, str(form.get("csrf_token", ""))):
            failed(request, "a decision with an invalid CSRF token", who.reviewer)
            return PlainTextResponse("Invalid CSRF token: reload the page and try again.", status_code=403)
        day, theme = request.path_params["day"], request.path_params["theme"]
        if not catalog.is_partition(day, theme):
            # Only the partition's one spelling is recorded (not ' 2026-11-20' or '20261120').
            failed(request, "a decision on a malformed video address", who.reviewer)
            return _not_found(who, day, theme)
        note = str(form.get("note", ""))
        sha256 = str(form.get("video_sha256", "")) or None

        def write() -> review_decisions.ReviewDecision:
            if len(note) > MAX_NOTE_CHARS:
                raise review_decisions.InvalidDecision(
                    f"The note is longer than {MAX_NOTE_CHARS} characters."
                )
            with database.connect() as conn:
                return submit_decision(
                    conn,
                    artifacts,
                    settings.themes_file,
                    partition_date=day,
                    theme=theme,
                    decision=str(form.get("decision", "")),
                    reviewer=who.reviewer,
                    note=note,
                    expected_sha256=sha256,
                )

        try:
            saved = await run_in_threadpool(write)
        except postgres.DatabaseUnavailable as err:
            return unavailable(err, who)
        except ThemesUnreadable as err:
            logger.error("review page: the themes config cannot be read: %s", err)
            message = (
                "The server's themes config cannot be read; tell the operator (details in the server log)."
            )
            return PlainTextResponse(message, status_code=503)
        except review_decisions.InvalidDecision as err:
            failed(request, f"a refused decision ({err})", who.reviewer)
            message = _without_paths(str(err), artifacts, settings.themes_file)
            if who.session_cookie is None:
                return PlainTextResponse(message, status_code=400)
            context = await run_in_threadpool(_video_context, day, theme)
            if context is None:
                return _page(
                    render("message.html", heading="Decision refused", message=message, **common(who)), 400
                )
            return _page(render("video.html", **context, **common(who), flash=None, error=message), 400)
        logger.info(
            "review page: decision #%s %s %s %s by %s", saved.id, day, theme, saved.decision, who.reviewer
        )
        target = f"/videos/{quote(day)}/{quote(theme)}?recorded={saved.id}"
        return RedirectResponse(target, status_code=303)

    async def media(request: Request) -> Response:
        if identity(request) is None:
            return PlainTextResponse("Sign in first.", status_code=401)
        day = request.path_params["day"]
        theme, _, ext = request.path_params["name"].rpartition(".")
        found = catalog.media_file(artifacts, day, theme, ext)
        if found is None:
            return PlainTextResponse("Not found.", status_code=404)
        return FileResponse(
            found, media_type=catalog.MEDIA_TYPES[ext], headers={"cache-control": "private, no-cache"}
        )

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/videos/{day}/{theme}", video_page, methods=["GET"]),
            Route("/videos/{day}/{theme}/decision", decide, methods=["POST"]),
            Route("/media/{day}/{name}", media, methods=["GET", "HEAD"]),
            Route("/healthz", healthz),
        ],
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={TooManyFailures: _too_many_failures},
    )

    return app


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _without_paths(message: str, artifacts: Artifacts, themes_file: Path) -> str:
    """`message` with the server's folders and files replaced by their role: reviewers see no paths."""
    places = {
        str(themes_file): "the themes config",
        str(artifacts.output_dir): "the output folder",
        str(artifacts.data_dir): "the data folder",
    }
    for path, role in sorted(places.items(), key=lambda item: -len(item[0])):
        if path and path != ".":
            message = message.replace(path, role)
    return message


def _cost_text(cost: float | None) -> str:
    return "n/a" if cost is None else f"${cost:.4f}"
