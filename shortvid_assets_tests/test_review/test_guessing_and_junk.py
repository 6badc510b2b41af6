"""Protects the review page against guessing and junk: failed sign-ins and bearer guesses are logged
and limited per client address and per reviewer (429 with Retry-After), weak tokens refuse to start,
control characters are refused (never a 500), only a partition's one spelling is recorded,
`?recorded=N` confirms only a real decision about the video, the index lists only what it serves,
and no message shows a server path. Also: each video's language, and script text marked for any
script's direction."""

from __future__ import annotations

import json
import logging
import re

import pytest
from click.testing import CliRunner

from shortvid_assets.cli import main
from shortvid_assets.review.app.auth import MAKE_TOKEN, ReviewAppConfigError, Reviewers
from shortvid_assets.storage import postgres, review_decisions

from .conftest import DAY, MAYA, OMAR, PLAN, THEME, add_video, client_of, csrf_of, make_client, sign_in

DETAIL = f"/videos/{DAY}/{THEME}"
DECIDE = f"{DETAIL}/decision"
WINDOW_S = 300


class FakeClock:
    """Monotonic seconds the test moves by hand: no sleeping, no dependence on timing."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def rows(space) -> list[review_decisions.ReviewDecision]:
    conn = postgres.connect(space.db_url)
    try:
        review_decisions.ensure_schema(conn)
        return review_decisions.list_decisions(conn)
    finally:
        conn.close()


def login_csrf(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)[1]


def try_token(client, token: str):
    return client.post("/login", data={"token": token, "csrf_token": login_csrf(client)})


# --- guessing ---------------------------------------------------------------------------------------------


def test_guessing_sign_in_failures_are_logged_and_limited_per_address_with_retry_after(space, caplog) -> None:
    clock = FakeClock()
    client = make_client(space, max_failures=3, failure_window_s=WINDOW_S, failure_clock=clock)
    with caplog.at_level(logging.WARNING, logger="shortvid_assets.review.app"):
        for _ in range(3):
            assert try_token(client, "guess").status_code == 401
        clock.now += 10
        blocked = try_token(client, MAYA)  # even the right token, while the address is blocked
    assert blocked.status_code == 429
    assert blocked.headers["retry-after"] == str(WINDOW_S - 10)
    assert "shortvid_review_session" not in blocked.cookies
    failures = [r.getMessage() for r in caplog.records if "unknown token" in r.getMessage()]
    assert len(failures) == 3 and all("from testclient" in line for line in failures)
    # Another address is not held up by this one.
    assert try_token(client_of(client.app, "10.0.0.2"), MAYA).status_code == 303
    clock.now += WINDOW_S
    assert try_token(client, MAYA).status_code == 303


def test_guessing_bearer_token_failures_are_logged_and_limited_too(space, caplog) -> None:
    clock = FakeClock()
    client = make_client(space, max_failures=3, failure_window_s=WINDOW_S, failure_clock=clock)
    with caplog.at_level(logging.WARNING, logger="shortvid_assets.review.app"):
        for guess in ("a", "b", "c"):
            response = client.post(
                DECIDE, data={"decision": "approved"}, headers={"authorization": f"Bearer {guess}"}
            )
            assert response.status_code == 401
    assert sum("unknown bearer token from testclient" in r.getMessage() for r in caplog.records) == 3
    blocked = client.get("/", headers={"authorization": f"Bearer {OMAR}"})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) == WINDOW_S
    assert rows(space) == []


def test_guessing_failures_are_also_limited_per_reviewer_across_addresses(space) -> None:
    clock = FakeClock()
    first = make_client(
        space, max_failures=4, failure_window_s=WINDOW_S, failure_clock=clock, address="10.0.0.1"
    )
    app = first.app
    for client in (first, client_of(app, "10.0.0.2")):
        sign_in(client, MAYA)
        for _ in range(2):  # forged form posts with maya's session
            assert (
                client.post(DECIDE, data={"decision": "approved", "csrf_token": "forged"}).status_code == 403
            )
    # Maya now has 4 failures, though neither address has more than 2: her next decision waits.
    third = client_of(app, "10.0.0.3")
    sign_in(third, MAYA)
    csrf, sha = csrf_of(third)
    refused = third.post(DECIDE, data={"decision": "approved", "csrf_token": csrf, "video_sha256": sha})
    assert refused.status_code == 429 and "retry-after" in refused.headers
    # Omar, from an address maya used, decides as usual.
    omar = client_of(app, "10.0.0.1")
    sign_in(omar, OMAR)
    csrf, sha = csrf_of(omar)
    ok = omar.post(DECIDE, data={"decision": "rejected", "csrf_token": csrf, "video_sha256": sha})
    assert ok.status_code == 303
    assert [(r.reviewer, r.decision) for r in rows(space)] == [("omar", "rejected")]


@pytest.mark.parametrize(
    "token",
    ["a", "guess", "maya-token-0123456789", "0123456789abcdef0123456789abcde", "a" * 200],
)
def test_guessing_weak_tokens_refuse_to_start_and_say_how_to_make_one(token: str) -> None:
    with pytest.raises(ReviewAppConfigError, match="weaker than 128 bits") as refused:
        Reviewers.parse(f"maya:{token}")
    assert MAKE_TOKEN in str(refused.value)
    assert repr(token) not in str(refused.value)  # the secret is never echoed


def test_guessing_review_serve_refuses_a_weak_token_with_the_command_that_makes_one(
    space, monkeypatch
) -> None:
    import uvicorn

    served = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: served.append(args))  # never listen here
    env = {"SHORTVID_REVIEW_TOKENS": f"maya:{MAYA},omar:short", "SHORTVID_DATABASE_URL": space.db_url}
    out = CliRunner().invoke(main, ["review", "serve"], env=env)
    assert out.exit_code == 2
    assert "the token of 'omar' is weaker than 128 bits" in out.output
    assert "secrets.token_hex(16)" in out.output
    assert served == []


# --- junk -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "note", ["nul\x00byte", "bell\x07", "escape \x1b[2J", "carriage\rreturn", "c1\x85inside"]
)
def test_junk_control_characters_in_a_note_are_refused_with_400_and_nothing_is_recorded(
    client, space, note
) -> None:
    sign_in(client)
    csrf, sha = csrf_of(client)
    response = client.post(
        DECIDE, data={"decision": "approved", "note": note, "csrf_token": csrf, "video_sha256": sha}
    )
    assert response.status_code == 400
    assert "control characters" in response.text
    bearer = client.post(
        DECIDE, data={"decision": "approved", "note": note}, headers={"authorization": f"Bearer {OMAR}"}
    )
    assert bearer.status_code == 400 and "control characters" in bearer.text
    assert rows(space) == []


def test_junk_a_multi_line_note_keeps_its_lines(client, space) -> None:
    sign_in(client)
    csrf, sha = csrf_of(client)
    note = "first line\r\nsecond line\ttabbed"
    response = client.post(
        DECIDE, data={"decision": "approved", "note": note, "csrf_token": csrf, "video_sha256": sha}
    )
    assert response.status_code == 303
    assert rows(space)[0].note == "first line\nsecond line\ttabbed"


@pytest.mark.parametrize(
    "day",
    [
        "%202026-11-24",
        "20261124",
        "2026-11-24%0A",
        "2026-11-24%20",
        "%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-11-24",
        "2026-11-4",
        "2026-11-24%00",
    ],
)
def test_junk_a_decision_on_a_non_canonical_date_path_is_404_and_records_nothing(client, space, day) -> None:
    sign_in(client)
    csrf, sha = csrf_of(client)
    response = client.post(
        f"/videos/{day}/{THEME}/decision",
        data={"decision": "approved", "csrf_token": csrf, "video_sha256": sha},
    )
    assert response.status_code == 404
    bearer = client.post(
        f"/videos/{day}/{THEME}/decision",
        data={"decision": "approved"},
        headers={"authorization": f"Bearer {OMAR}"},
    )
    assert bearer.status_code == 404
    assert rows(space) == []
    assert client.get(f"/videos/{day}/{THEME}").status_code == 404


@pytest.mark.parametrize("csrf", ["é", "ß\x00", "ünïcode-" * 8])
def test_junk_a_non_ascii_or_nul_csrf_token_is_refused_not_a_500(client, space, csrf) -> None:
    sign_in(client)
    response = client.post(DECIDE, data={"decision": "approved", "csrf_token": csrf})
    assert response.status_code == 403
    assert rows(space) == []


def test_junk_recorded_confirms_only_a_real_decision_about_this_video(client, space) -> None:
    sign_in(client)
    assert "recorded" not in client.get(f"{DETAIL}?recorded=424242").text
    assert "recorded" not in client.get(f"{DETAIL}?recorded=99999999999999999999999").text
    csrf, sha = csrf_of(client)
    done = client.post(DECIDE, data={"decision": "approved", "csrf_token": csrf, "video_sha256": sha})
    decision_id = int(done.headers["location"].rsplit("=", 1)[1])
    assert f"Decision #{decision_id} recorded" in client.get(done.headers["location"]).text
    # The same id on another video's page confirms nothing.
    add_video(space.paths, day="2026-11-23")
    assert "recorded" not in client.get(f"/videos/2026-11-23/{THEME}?recorded={decision_id}").text


def test_junk_the_index_lists_only_videos_whose_media_it_serves(client, space) -> None:
    outside = space.root / "elsewhere.mp4"
    outside.write_bytes(b"not a reviewed video")
    review = space.video().parent
    (review / f"2026-11-23_{THEME}.mp4").symlink_to(outside)  # a link to a file outside the folders
    (review / "2026-11-22_linked.mp4").symlink_to(space.video())  # a link inside the folder
    (review / "2026-11-21_folder.mp4").mkdir()
    sign_in(client)
    page = client.get("/").text
    assert "Awaiting review (1)" in page
    for day, theme in ((("2026-11-23", THEME)), ("2026-11-22", "linked"), ("2026-11-21", "folder")):
        assert f"/videos/{day}/{theme}" not in page
        assert client.get(f"/videos/{day}/{theme}").status_code == 404
        assert client.get(f"/media/{day}/{theme}.mp4").status_code == 404


def test_junk_messages_never_show_server_paths(client, space) -> None:
    sign_in(client)
    csrf, sha = csrf_of(client)
    unknown = client.post(f"/videos/{DAY}/ghost/decision", data={"decision": "approved", "csrf_token": csrf})
    assert unknown.status_code == 400 and "unknown theme" in unknown.text
    # A broken themes config is the operator's problem: the reviewer sees no file name.
    (space.root / "themes.yaml").write_text("themes:\n  - slug: Bad Slug\n")
    broken = client.post(DECIDE, data={"decision": "approved", "csrf_token": csrf, "video_sha256": sha})
    assert broken.status_code == 503 and "themes config" in broken.text
    # A database that is down: no socket folder, host or database name on the page.
    down = make_client(space, db_url=f"postgresql://postgres@/nodb?host={space.root}/no-such-socket-dir")
    sign_in(down)
    page = down.get("/")
    assert page.status_code == 503 and "unavailable" in page.text
    for response in (unknown, broken, page):
        assert str(space.root) not in response.text and "/tmp" not in response.text
    assert rows(space) == []


def test_junk_control_characters_in_a_reviewer_name_are_refused_by_the_cli_and_escaped_in_listings(
    space,
) -> None:
    env = {
        "SHORTVID_DATABASE_URL": space.db_url,
        "SHORTVID_OUTPUT_DIR": space.paths.output_dir,
        "SHORTVID_DATA_DIR": space.paths.data_dir,
        "SHORTVID_THEMES_FILE": space.paths.themes_file,
    }
    runner = CliRunner()
    refused = runner.invoke(
        main, ["review", "approve", DAY, THEME, "--by", "maya\n#99 2026-11-24 forged"], env=env
    )
    assert refused.exit_code == 2 and "control characters" in refused.output
    assert rows(space) == []
    # A row from before the table refused them is printed with its control characters escaped.
    conn = postgres.connect(space.db_url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            for check in ("reviewer_control_check", "note_control_check"):
                cur.execute(f"ALTER TABLE review_decisions DROP CONSTRAINT review_decisions_{check}")
            cur.execute(
                "INSERT INTO review_decisions (partition_date, theme, decision, reviewer, note) "
                "VALUES (%s, %s, 'approved', %s, %s)",
                (DAY, THEME, "omar\n#77 2026-11-24 minicup rejected by boss", "ok\x1b[2J"),
            )
    finally:
        conn.close()
    listing = runner.invoke(main, ["review", "list"], env=env)
    assert listing.exit_code == 0, listing.output
    assert len(listing.output.splitlines()) == 1
    assert "omar\\n#77" in listing.output and "ok\\x1b[2J" in listing.output and "\x1b" not in listing.output


# --- every script, its language shown -----------------------------------------------------------------------

ARABIC_PLAN = PLAN | {
    "language": "ar",
    "title": "كوب صغير",
    "hook_text": "هل فقدت كوبك؟",
    "voiceover_script": "قهوة في جيبك.",
    "cta_text": "اطلبه الآن",
    "hashtags": ["قهوة", "كوب", "صغير", "مكتب", "جيب"],
}


def test_review_page_shows_each_videos_language_and_marks_script_text_for_its_direction(
    client, space
) -> None:
    other = "2026-11-23"
    add_video(space.paths, day=other)
    script = space.paths.artifacts.per_theme("video_script", other, THEME, "json")
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(json.dumps(ARABIC_PLAN, ensure_ascii=False))
    sign_in(client)
    index = client.get("/").text
    assert "language ar" in index and "language en" in index
    assert '<strong lang="ar" dir="auto">كوب صغير</strong>' in index
    page = client.get(f"/videos/{other}/{THEME}").text
    assert '<span id="language">ar</span>' in page
    assert '<span lang="ar" dir="auto" id="hook">هل فقدت كوبك؟</span>' in page
    assert '<span lang="ar" dir="auto" id="voiceover">قهوة في جيبك.</span>' in page
    assert 'id="hashtags" lang="ar" dir="auto">#قهوة' in page
    assert "font-family:system-ui" in page and "sans-serif" in page  # the system's fonts for any script
    english = client.get(DETAIL).text
    assert '<span lang="en" dir="auto" id="hook">Ever lost your mug?</span>' in english


def test_review_page_shows_a_set_aside_decision_as_not_applicable_with_its_reason(client, space) -> None:
    conn = postgres.connect(space.db_url)
    try:
        review_decisions.ensure_schema(conn)
        row = review_decisions.record_decision(
            conn, partition_date=DAY, theme=THEME, decision="approved", reviewer="sql", video_path="x.mp4"
        )
        review_decisions.set_aside_decisions(
            conn, {row.id: "date 2026-11-24 is outside the daily partitions"}
        )
    finally:
        conn.close()
    sign_in(client)
    page = client.get(DETAIL).text
    history_row = re.search(rf'<tr id="decision-{row.id}">(.*?)</tr>', page, re.S)[1]
    assert "not applicable" in history_row and "outside the daily partitions" in history_row
    assert "not applicable" in client.get("/").text
