"""Protects the review page: sign-in by token, CSRF-safe decisions written through the shared
validation, the script/hashtags/cost/history it shows, and that it serves nothing but the videos
and thumbnails inside the output folders (path traversal, planted links), with HTTP ranges."""

from __future__ import annotations

import os

import pytest

from shortvid_assets.domain.files import file_sha256
from shortvid_assets.review.app.auth import ReviewAppConfigError, Reviewers, Signer
from shortvid_assets.storage import postgres, review_decisions

from .conftest import DAY, MAYA, OMAR, THEME, VIDEO_BYTES, add_video, csrf_of, make_client, sign_in

DETAIL = f"/videos/{DAY}/{THEME}"
DECIDE = f"{DETAIL}/decision"


def rows(space) -> list[review_decisions.ReviewDecision]:
    conn = postgres.connect(space.db_url)
    try:
        review_decisions.ensure_schema(conn)
        return review_decisions.list_decisions(conn)
    finally:
        conn.close()


# --- authentication ---------------------------------------------------------------------------------


def test_everything_but_the_sign_in_page_needs_a_reviewer(client) -> None:
    assert client.get("/").headers["location"] == "/login"
    assert client.get(DETAIL).headers["location"] == "/login"
    assert client.get(f"/media/{DAY}/{THEME}.mp4").status_code == 401
    assert client.post(DECIDE, data={"decision": "approved"}).status_code == 401
    assert client.get("/login").status_code == 200


def test_a_wrong_token_is_refused_and_a_right_one_names_the_reviewer(client) -> None:
    page = client.get("/login")
    import re

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    wrong = client.post("/login", data={"token": "guess", "csrf_token": csrf})
    assert wrong.status_code == 401 and "Unknown token" in wrong.text
    assert "shortvid_review_session" not in wrong.cookies
    sign_in(client, OMAR)
    home = client.get("/")
    assert home.status_code == 200
    assert 'id="reviewer">omar<' in home.text


def test_sign_in_without_the_login_csrf_cookie_is_refused(space) -> None:
    client = make_client(space)
    response = client.post("/login", data={"token": MAYA, "csrf_token": "anything"})
    assert response.status_code == 403
    assert client.get("/").headers["location"] == "/login"


def test_a_forged_or_revoked_session_is_not_accepted(space) -> None:
    client = make_client(space)
    sign_in(client)
    cookie = client.cookies["shortvid_review_session"]
    forged = cookie[:-4] + ("0000" if not cookie.endswith("0000") else "1111")
    other = make_client(space)
    other.cookies.set("shortvid_review_session", forged)
    assert other.get("/").status_code == 303
    # Maya's token removed from the configuration: her session ends even though it is signed.
    revoked = make_client(space, tokens=f"omar:{OMAR}")
    revoked.cookies.set("shortvid_review_session", cookie)
    assert revoked.get("/").status_code == 303


def test_session_cookie_is_http_only_and_same_site_strict(space) -> None:
    client = make_client(space)
    page = client.get("/login")
    import re

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    response = client.post("/login", data={"token": MAYA, "csrf_token": csrf})
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "No reviewer tokens"),
        ("maya", "not name:token"),
        ("maya:", "not name:token"),
        (":tok", "not name:token"),
        (f"maya:{MAYA},omar:{MAYA}", "share a token"),
        ("bad name:tok", "may hold only"),
    ],
)
def test_malformed_token_configuration_is_refused(value: str, message: str) -> None:
    with pytest.raises(ReviewAppConfigError, match=message):
        Reviewers.parse(value)


def test_token_parsing_and_constant_time_lookup() -> None:
    reviewers = Reviewers.parse(f" maya:{MAYA} , omar:{OMAR},")
    assert reviewers.reviewer_for(MAYA) == "maya"
    assert reviewers.reviewer_for(OMAR) == "omar"
    assert reviewers.reviewer_for("tok3") is None
    assert reviewers.reviewer_for("") is None
    with pytest.raises(ReviewAppConfigError, match="16 bytes"):
        Signer(b"short")


# --- the pages ----------------------------------------------------------------------------------------


def test_list_shows_the_video_awaiting_review_with_thumbnail_hashtags_and_cost(client) -> None:
    sign_in(client)
    page = client.get("/").text
    assert "Awaiting review (1)" in page
    assert f'src="/media/{DAY}/{THEME}.jpg"' in page
    assert "#coffee #tiny #mug" in page
    assert "cost n/a" in page
    assert "MiniCup &lt;b&gt;in 6 seconds&lt;/b&gt;" in page  # escaped, never markup


def test_video_page_shows_player_script_hashtags_cost_and_sends_security_headers(client, space) -> None:
    conn = postgres.connect(space.db_url)
    try:
        with conn.cursor() as cur:  # the generation log's table, as the content stage writes it
            cur.execute("CREATE TABLE generation_log (id bigserial, date date, theme text, cost_usd numeric)")
            cur.execute(
                "INSERT INTO generation_log (date, theme, cost_usd) VALUES (%s, %s, 0.0100), (%s, %s, 0.0023)",
                (DAY, THEME, DAY, THEME),
            )
        conn.commit()
    finally:
        conn.close()
    sign_in(client)
    response = client.get(DETAIL)
    page = response.text
    assert '<video id="player" controls' in page and f'src="/media/{DAY}/{THEME}.mp4"' in page
    assert "Ever lost your mug?" in page and "Coffee that fits in your pocket." in page
    assert "a pocket" in page and "Tiny!" in page
    assert '<span id="cost">$0.0123</span>' in page
    assert 'id="no-history"' in page
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_unknown_video_page_is_404(client) -> None:
    sign_in(client)
    assert client.get(f"/videos/{DAY}/nosuch").status_code == 404
    assert client.get("/videos/2026-13-40/minicup").status_code == 404


# --- decisions ------------------------------------------------------------------------------------------


def test_approve_writes_one_decision_by_the_tokens_reviewer_for_the_watched_render(client, space) -> None:
    sign_in(client)
    csrf, sha = csrf_of(client)
    response = client.post(
        DECIDE,
        data={
            "decision": "approved",
            "note": "great <hook>",
            "csrf_token": csrf,
            "video_sha256": sha,
            "reviewer": "someone-else",
        },
        headers={"origin": "http://127.0.0.1:8765"},
    )
    assert response.status_code == 303
    (saved,) = rows(space)
    assert (saved.decision, saved.reviewer, saved.note) == ("approved", "maya", "great <hook>")
    assert saved.video_sha256 == sha == file_sha256(space.video())
    assert saved.video_path == str(space.video())
    assert response.headers["location"] == f"{DETAIL}?recorded={saved.id}"
    page = client.get(response.headers["location"]).text
    assert f"Decision #{saved.id} recorded" in page
    assert "great &lt;hook&gt;" in page and "this render" in page


def test_history_lists_every_decision_and_a_changed_mind(client, space) -> None:
    sign_in(client)
    for decision in ("approved", "rejected"):
        csrf, sha = csrf_of(client)
        client.post(DECIDE, data={"decision": decision, "csrf_token": csrf, "video_sha256": sha})
    page = client.get(DETAIL).text
    assert page.count('<span class="badge approved">approved</span>') == 1
    assert page.count('<span class="badge rejected">rejected</span>') == 1
    assert [r.decision for r in rows(space)] == ["rejected", "approved"]


@pytest.mark.parametrize(
    ("csrf", "origin"),
    [(None, None), ("wrong", None), ("from-page", "http://evil.example")],
)
def test_decisions_without_a_valid_csrf_token_or_from_another_origin_are_refused(client, space, csrf, origin):
    sign_in(client)
    token, sha = csrf_of(client)
    data = {"decision": "approved", "video_sha256": sha}
    if csrf:
        data["csrf_token"] = token if csrf == "from-page" else csrf
    headers = {"origin": origin} if origin else {}
    response = client.post(DECIDE, data=data, headers=headers)
    assert response.status_code == 403
    assert rows(space) == []


def test_a_csrf_token_of_another_session_is_refused(space) -> None:
    maya, omar = make_client(space), make_client(space)
    sign_in(maya, MAYA)
    sign_in(omar, OMAR)
    token, sha = csrf_of(maya)
    response = omar.post(DECIDE, data={"decision": "approved", "csrf_token": token, "video_sha256": sha})
    assert response.status_code == 403
    assert rows(space) == []


def test_a_decision_on_a_render_replaced_meanwhile_is_refused(client, space) -> None:
    sign_in(client)
    csrf, sha = csrf_of(client)
    add_video(space.paths, data=VIDEO_BYTES + b"re-rendered")
    response = client.post(DECIDE, data={"decision": "approved", "csrf_token": csrf, "video_sha256": sha})
    assert response.status_code == 400
    assert "re-rendered since you opened it" in response.text
    assert rows(space) == []


@pytest.mark.parametrize(
    ("url", "decision", "message"),
    [
        (DECIDE, "maybe", "is not one of approved, rejected"),
        (f"/videos/{DAY}/ghost/decision", "approved", "unknown theme &#39;ghost&#39;"),
        (f"/videos/2026-11-20/{THEME}/decision", "approved", "no composed video for 2026-11-20"),
        (f"/videos/2099-01-01/{THEME}/decision", "approved", "outside the daily partitions"),
    ],
)
def test_bad_decisions_get_the_shared_validations_message_and_nothing_is_written(
    client, space, url, decision, message
) -> None:
    add_video(space.paths, theme="ghost")  # a video whose theme is not in the config
    sign_in(client)
    csrf, _ = csrf_of(client)
    response = client.post(url, data={"decision": decision, "csrf_token": csrf})
    assert response.status_code == 400
    assert message in response.text
    assert rows(space) == []


def test_bearer_token_clients_decide_without_a_session_and_bad_tokens_are_refused(client, space) -> None:
    bad = client.post(DECIDE, data={"decision": "rejected"}, headers={"authorization": "Bearer nope"})
    assert bad.status_code == 401
    ok = client.post(
        DECIDE, data={"decision": "rejected", "note": "api"}, headers={"authorization": f"Bearer {OMAR}"}
    )
    assert ok.status_code == 303
    (saved,) = rows(space)
    assert (saved.reviewer, saved.decision, saved.note) == ("omar", "rejected", "api")
    empty = client.post(
        f"/videos/{DAY}/ghost/decision",
        data={"decision": "rejected"},
        headers={"authorization": f"Bearer {OMAR}"},
    )
    assert empty.status_code == 400 and "unknown theme" in empty.text


# --- media: only the output folders, never anything else -----------------------------------------------


def test_video_is_served_whole_and_by_range(client) -> None:
    sign_in(client)
    whole = client.get(f"/media/{DAY}/{THEME}.mp4")
    assert whole.status_code == 200 and whole.content == VIDEO_BYTES
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    part = client.get(f"/media/{DAY}/{THEME}.mp4", headers={"range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == VIDEO_BYTES[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(VIDEO_BYTES)}"
    tail = client.get(f"/media/{DAY}/{THEME}.mp4", headers={"range": f"bytes={len(VIDEO_BYTES) + 5}-"})
    assert tail.status_code == 416
    thumb = client.get(f"/media/{DAY}/{THEME}.jpg")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"


def test_a_decided_video_is_served_from_its_new_folder(client, space) -> None:
    sign_in(client)
    target = space.video("approved")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(space.video(), target)
    assert client.get(f"/media/{DAY}/{THEME}.mp4").content == VIDEO_BYTES


@pytest.mark.parametrize(
    "url",
    [
        "/media/../../etc/passwd",
        "/media/..%2F..%2Fetc/passwd",
        f"/media/{DAY}/..%2F..%2Fthemes.yaml",
        f"/media/{DAY}/..%2F..%2Fdata%2Fvideo_script%2F{DAY}%2F{THEME}.json",
        f"/media/{DAY}/%2E%2E%2Fsecret.mp4",
        "/media/..%2Fsecret/x.mp4",
        f"/media/{DAY}/{THEME}.json",
        f"/media/{DAY}/{THEME}.MP4",
        f"/media/{DAY}/{THEME}",
        f"/media/{DAY}/.mp4",
        "/media/2026-11-24%2F..%2F..%2Fsecret/x.mp4",
        f"/media/{DAY}/leak.mp4",
        "/media/%2Fetc%2Fpasswd/x.jpg",
        f"/media/{DAY}/{THEME}.mp4%00.jpg",
    ],
)
def test_path_traversal_never_reaches_a_file_outside_the_output_folders(client, space, url: str) -> None:
    secret = space.root / "secret.mp4"
    secret.write_bytes(b"TOP SECRET")
    # A link planted in an output folder that points outside it.
    leak = space.paths.artifacts.review_file("review", DAY, "leak", "mp4")
    leak.symlink_to(secret)
    sign_in(client)
    response = client.get(url)
    assert response.status_code in (404, 405), (url, response.status_code)
    assert b"TOP SECRET" not in response.content
    assert b"themes:" not in response.content and b"root:" not in response.content


def test_the_composed_video_in_the_data_folder_is_not_served(client, space) -> None:
    inside_data = space.paths.artifacts.per_theme("composed_video", DAY, "other", "mp4")
    inside_data.parent.mkdir(parents=True)
    inside_data.write_bytes(b"data-folder video")
    sign_in(client)
    assert client.get(f"/media/{DAY}/other.mp4").status_code == 404


def test_review_serve_refuses_to_start_without_tokens(space) -> None:
    from click.testing import CliRunner

    from shortvid_assets.cli import main

    env = {"SHORTVID_REVIEW_TOKENS": "", "SHORTVID_DATABASE_URL": space.db_url}
    out = CliRunner().invoke(main, ["review", "serve"], env=env)
    assert out.exit_code == 2
    assert "No reviewer tokens: set SHORTVID_REVIEW_TOKENS" in out.output
    bad = CliRunner().invoke(main, ["review", "serve"], env={**env, "SHORTVID_REVIEW_TOKENS": "maya"})
    assert bad.exit_code == 2 and "entry 1 is not name:token" in bad.output
