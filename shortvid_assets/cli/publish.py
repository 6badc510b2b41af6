"""`shortvid publish`: get the YouTube refresh token (`auth`) and see what was published (`list`)."""

from __future__ import annotations

import os
import secrets
import stat
import webbrowser
from pathlib import Path

import click

from shortvid_assets import settings
from shortvid_assets.cli.common import UserError, database, filter_date, listing_limit
from shortvid_assets.clients.google_oauth import (
    TOKEN_URL,
    LoopbackReceiver,
    OAuthError,
    build_consent_url,
    exchange_code,
    new_pkce_pair,
    parse_authorization_response,
    publish_scopes,
)
from shortvid_assets.domain.text_fields import printable
from shortvid_assets.storage import publications


@click.group()
def publish() -> None:
    """Publishing approved videos: OAuth setup and the publications record."""


def _clean(text: object) -> str:
    """A value from the table with control characters escaped (a hand-written row must not forge lines)."""
    return printable(str(text if text is not None else ""))


def _write_env_file(path: Path, refresh_token: str) -> None:
    """Append the refresh token to an env file readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "a") as handle:
        handle.write(f"YOUTUBE_OAUTH_REFRESH_TOKEN={refresh_token}\n")
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


@publish.command()
@click.option("--client-id", default=None, help="OAuth client id (default: YOUTUBE_OAUTH_CLIENT_ID).")
@click.option("--analytics/--no-analytics", default=True, show_default=True,
              help="Also ask for yt-analytics.readonly (retention in video_performance).")  # fmt: skip
@click.option("--paste", is_flag=True,
              help="Paste the redirected URL (or the code) instead of catching it on a local port: for a "
                   "machine without a browser.")  # fmt: skip
@click.option("--port", default=0, help="Loopback port for the redirect (0: any free port).")
@click.option("--timeout", "timeout_s", default=300.0, show_default=True, help="Seconds to wait for consent.")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Append YOUTUBE_OAUTH_REFRESH_TOKEN=... to this file (mode 600) instead of printing it.")  # fmt: skip
def auth(
    client_id: str | None, analytics: bool, paste: bool, port: int, timeout_s: float, env_file: Path | None
) -> None:
    """Walk through Google's consent screen and get the refresh token shortvid uploads with.

    Needs an OAuth client of type "Desktop app" (Google Cloud console > APIs & Services > Credentials) with
    the YouTube Data API v3 (and YouTube Analytics API) enabled; YOUTUBE_OAUTH_CLIENT_SECRET set.
    """
    client_id = client_id or settings.text("YOUTUBE_OAUTH_CLIENT_ID")
    client_secret = settings.text("YOUTUBE_OAUTH_CLIENT_SECRET")
    if not client_id or not client_secret:
        raise UserError(
            "set YOUTUBE_OAUTH_CLIENT_ID and YOUTUBE_OAUTH_CLIENT_SECRET to your OAuth client's (type Desktop "
            "app, from the Google Cloud console), then run `shortvid publish auth` again"
        )
    token_url = settings.text("SHORTVID_GOOGLE_TOKEN_URL", TOKEN_URL)
    scopes = publish_scopes(analytics=analytics)
    verifier, challenge = new_pkce_pair()
    state = secrets.token_urlsafe(16)
    try:
        if paste:
            redirect_uri = f"http://127.0.0.1:{port or 8085}/"
            url = build_consent_url(
                client_id, redirect_uri=redirect_uri, scopes=scopes, state=state, code_challenge=challenge
            )
            click.echo(
                f"Open this URL in a browser, allow access, then copy the address it redirects to:\n{url}\n"
            )
            pasted = click.prompt("Redirected URL (or the code)", hide_input=True)
            code = parse_authorization_response(pasted, expected_state=state)
        else:
            with LoopbackReceiver(port) as receiver:
                redirect_uri = receiver.redirect_uri
                url = build_consent_url(
                    client_id, redirect_uri=redirect_uri, scopes=scopes, state=state, code_challenge=challenge
                )
                click.echo(f"Opening Google's consent page (or open it yourself):\n{url}\n")
                webbrowser.open(url)
                code = receiver.wait(state, timeout_s)
        granted = exchange_code(
            client_id,
            client_secret,
            code,
            redirect_uri=redirect_uri,
            code_verifier=verifier,
            token_url=token_url,
        )
    except (ValueError, TimeoutError, OAuthError) as exc:
        raise UserError(str(exc)) from None
    missing = [scope for scope in scopes if scope not in granted.scopes]
    click.echo(f"Granted scopes: {' '.join(granted.scopes) or '(not reported)'}")
    if missing and granted.scopes:
        click.echo(f"Not granted: {' '.join(missing)} (video_performance reports without Analytics)")
    token = granted.refresh_token.get_secret_value()
    if env_file is not None:
        _write_env_file(env_file, token)
        click.echo(f"Refresh token appended to {env_file} as YOUTUBE_OAUTH_REFRESH_TOKEN (mode 600).")
    else:
        click.echo("Set this in the environment shortvid runs in (it is shown once, keep it secret):")
        click.echo(f"YOUTUBE_OAUTH_REFRESH_TOKEN={token}")
    click.echo("Then SHORTVID_PUBLISH=youtube turns publishing on.")


@publish.command("list")
@click.option("--date", "day", default=None, help="Only this partition date (YYYY-MM-DD).")
@click.option("--theme", default=None)
@click.option("--status", type=click.Choice(publications.STATUSES), default=None)
@click.option("--limit", default=50, show_default=True)
def publish_list(day: str | None, theme: str | None, status: str | None, limit: int) -> None:
    """List publications, newest partition first: status, remote id, link, quota units."""
    day = filter_date(day)
    with database(publications.ensure_schema) as conn:
        rows = publications.list_publications(conn, status=status, theme=theme, limit=listing_limit(limit))
    rows = [row for row in rows if day is None or row.partition_date.isoformat() == day]
    if not rows:
        click.echo("nothing published yet")
    for row in rows:
        units = ",".join(f"{bucket}={n}" for bucket, n in sorted(row.quota_units.items())) or "-"
        line = (
            f"{row.partition_date} {_clean(row.theme):16} {row.platform:8} {row.status:10} "
            f"{_clean(row.remote_id or '-'):14} {_clean(row.url or '')} sha {row.video_sha256[:12]} quota {units}"
        )
        if row.error:
            line += f"  [{_clean(row.error)[:200]}]"
        click.echo(line)
