"""Protects `shortvid publish`: `auth` walks a person through Google's consent (PKCE, offline access, the
loopback redirect or a pasted code) to a refresh token shown once or written to a private env file, and
refuses missing client settings in one line; `list` shows the publications record."""

from __future__ import annotations

import stat
from urllib.parse import parse_qs, urlsplit

import httpx
from click.testing import CliRunner

from shortvid_assets.cli import main
from shortvid_assets.storage import postgres, publications
from shortvid_assets_tests.fakes.youtube_publish import SCOPE_ANALYTICS, SCOPE_READONLY, SCOPE_UPLOAD

from .conftest import CLIENT_ID, CLIENT_SECRET


def env_for(fake, **extra):
    return {
        "YOUTUBE_OAUTH_CLIENT_ID": CLIENT_ID,
        "YOUTUBE_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "SHORTVID_GOOGLE_TOKEN_URL": fake.token_url,
        **extra,
    }


def test_auth_with_a_pasted_code_prints_the_refresh_token_once(fake):
    scopes = (SCOPE_UPLOAD, SCOPE_READONLY, SCOPE_ANALYTICS)
    fake.grant_code("4/0AbCdEf", redirect_uri="http://127.0.0.1:8123/", scopes=scopes, code_challenge=None)
    out = CliRunner().invoke(
        main, ["publish", "auth", "--paste", "--port", "8123"], input="4/0AbCdEf\n", env=env_for(fake)
    )
    assert out.exit_code == 0, out.output
    consent = next(
        line for line in out.output.splitlines() if line.startswith("https://accounts.google.com/")
    )
    query = parse_qs(urlsplit(consent).query)
    assert query["access_type"] == ["offline"] and query["code_challenge_method"] == ["S256"]
    assert query["scope"][0].split() == list(scopes) and query["redirect_uri"] == ["http://127.0.0.1:8123/"]
    assert out.output.count("YOUTUBE_OAUTH_REFRESH_TOKEN=1//fake-refresh-") == 1
    assert CLIENT_SECRET not in out.output


def test_auth_catches_the_redirect_and_writes_a_private_env_file(fake, tmp_path, monkeypatch):
    def browser(url: str) -> bool:  # the person consents; Google redirects to the loopback port
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        fake.grant_code("4/loop", redirect_uri=query["redirect_uri"], scopes=tuple(query["scope"].split()),
                        code_challenge=query["code_challenge"])  # fmt: skip
        httpx.get(query["redirect_uri"], params={"code": "4/loop", "state": query["state"]}, timeout=10)
        return True

    monkeypatch.setattr("webbrowser.open", browser)
    env_file = tmp_path / "publish.env"
    out = CliRunner().invoke(
        main, ["publish", "auth", "--no-analytics", "--env-file", str(env_file)], env=env_for(fake)
    )
    assert out.exit_code == 0, out.output
    assert env_file.read_text().startswith("YOUTUBE_OAUTH_REFRESH_TOKEN=1//fake-refresh-")
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "1//fake-refresh-" not in out.output
    assert SCOPE_ANALYTICS not in fake.refresh_tokens[env_file.read_text().split("=", 1)[1].strip()]


def test_auth_without_a_client_or_with_a_foreign_redirect_refuses_in_one_line(fake):
    out = CliRunner().invoke(
        main,
        ["publish", "auth", "--paste"],
        env={"YOUTUBE_OAUTH_CLIENT_ID": "", "YOUTUBE_OAUTH_CLIENT_SECRET": ""},
    )
    assert out.exit_code == 2 and "YOUTUBE_OAUTH_CLIENT_ID" in out.output
    pasted = "http://127.0.0.1:8085/?code=4/x&state=forged\n"
    out = CliRunner().invoke(main, ["publish", "auth", "--paste"], input=pasted, env=env_for(fake))
    assert out.exit_code == 2 and "state does not match" in out.output
    assert fake.token_calls() == []


def test_list_shows_status_link_and_quota(db_url):
    conn = postgres.connect(db_url)
    try:
        publications.ensure_schema(conn)
        row, _ = publications.claim_publication(conn, partition_date="2026-11-24", theme="minicup", platform="youtube",
                                                video_sha256="c" * 64, decision_id=1, marker="shortvid:cccccccccccccccc")  # fmt: skip
        publications.complete_publication(conn, row.id, remote_id="vid42", url="https://www.youtube.com/shorts/vid42",
                                          published_at=row.created_at, quota_units={"videos.insert": 1})  # fmt: skip
    finally:
        conn.close()
    out = CliRunner().invoke(main, ["publish", "list"], env={"SHORTVID_DATABASE_URL": db_url})
    assert out.exit_code == 0, out.output
    assert (
        "minicup" in out.output
        and "published" in out.output
        and "https://www.youtube.com/shorts/vid42" in out.output
    )
    assert "videos.insert=1" in out.output
    empty = CliRunner().invoke(
        main, ["publish", "list", "--status", "failed"], env={"SHORTVID_DATABASE_URL": db_url}
    )
    assert "nothing published yet" in empty.output
