"""Protects what reviewers see of publishing: for an approved video, the review page and `shortvid review
list` say whether and where it was published (platform, status, the video's id and link once published),
with every value escaped; the upload session URI, a credential, never appears; and a database where
publishing never ran (no `publications` table) reads as "not published" instead of breaking either."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from click.testing import CliRunner

from shortvid_assets.cli import main
from shortvid_assets.domain.files import file_sha256
from shortvid_assets.storage import postgres, publications, review_decisions

from .conftest import THEME, VIDEO_BYTES, make_client, sign_in

# A resumable-upload session: whoever holds it may upload to the channel. Never shown anywhere.
SESSION = "https://upload.example/upload/youtube/v3/videos?uploadType=resumable&upload_id=SECRET-SESSION-42"
STARTED = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
# Days other than the workspace's video awaiting review (DAY).
PUBLISHED_DAY, UPLOADING_DAY, UNPUBLISHED_DAY = "2026-11-21", "2026-11-20", "2026-11-19"


def file_video(space, folder: str, day: str, data: bytes = VIDEO_BYTES) -> str:
    """Put a video in output/<folder>/ as the review sensor files it; its SHA-256."""
    video = space.paths.artifacts.review_file(folder, day, THEME, "mp4")
    video.parent.mkdir(parents=True, exist_ok=True)
    video.write_bytes(data)
    return file_sha256(video)


def publish(space, day: str, sha: str, *, remote_id: str | None = None, url: str | None = None) -> None:
    """A publication of the video of `day`: uploading (session stored) or, with `remote_id`, published."""
    conn = postgres.connect(space.db_url)
    try:
        publications.ensure_schema(conn)
        row, _ = publications.claim_publication(
            conn, partition_date=day, theme=THEME, platform="youtube", video_sha256=sha, decision_id=None,
            marker=f"shortvid:{sha[:16]}",
        )  # fmt: skip
        row = publications.record_session(
            conn, row.id, session_uri=SESSION, total_bytes=len(VIDEO_BYTES), started_at=STARTED
        )
        if remote_id is not None:
            row = publications.complete_publication(
                conn, row.id, remote_id=remote_id, url=url, published_at=STARTED
            )
            with conn.cursor() as cur:  # a row that kept its session (typed by hand, or an older version)
                cur.execute("UPDATE publications SET session_uri = %s WHERE id = %s", (SESSION, row.id))
            conn.commit()
    finally:
        conn.close()


def decide(space, day: str, decision: str, sha: str) -> None:
    conn = postgres.connect(space.db_url)
    try:
        review_decisions.ensure_schema(conn)
        review_decisions.record_decision(
            conn, partition_date=day, theme=THEME, decision=decision, reviewer="maya",
            video_path=space.paths.artifacts.review_file("approved", day, THEME, "mp4"), video_sha256=sha,
        )  # fmt: skip
    finally:
        conn.close()


def table_exists(space) -> bool:
    conn = postgres.connect(space.db_url)
    try:
        with postgres.transaction(conn) as cur:
            cur.execute("SELECT to_regclass('publications') IS NOT NULL")
            return cur.fetchone()[0]
    finally:
        conn.close()


def review_list(space) -> str:
    env = {name: None for name in os.environ if name.startswith(("SHORTVID_", "DAGSTER_"))} | {
        "SHORTVID_HOME": str(space.root / "home"),
        "SHORTVID_DATABASE_URL": space.db_url,
        "SHORTVID_OUTPUT_DIR": space.paths.output_dir,
        "SHORTVID_DATA_DIR": space.paths.data_dir,
        "SHORTVID_THEMES_FILE": space.paths.themes_file,
    }
    result = CliRunner().invoke(main, ["review", "list"], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def publication_cell(index: str, day: str) -> str:
    """The Publication cell of a decided video's row on the index page."""
    row = index[index.index(f'data-partition="{day}|{THEME}"') :].split("</tr>")[0]
    return row.split('<td class="publication">')[1].split("</td>")[0]


@pytest.fixture
def filed(space) -> dict[str, str]:
    """Three approved videos (published, uploading, never published) and their hashes."""
    return {
        day: file_video(space, "approved", day, VIDEO_BYTES + day.encode())
        for day in (PUBLISHED_DAY, UPLOADING_DAY, UNPUBLISHED_DAY)
    }


def test_the_page_shows_where_each_approved_video_was_published_and_never_its_session(space, filed) -> None:
    publish(
        space, PUBLISHED_DAY, filed[PUBLISHED_DAY], remote_id="abc123XYZ", url="https://youtu.be/abc123XYZ"
    )
    publish(space, UPLOADING_DAY, "b" * 64)  # an upload of another render, still going
    client = make_client(space)
    sign_in(client)
    index = client.get("/").text
    row = publication_cell(index, PUBLISHED_DAY)
    assert (
        'published</span> on youtube: <a href="https://youtu.be/abc123XYZ" rel="noopener noreferrer">abc123XYZ</a>'
        in row
    )
    row = publication_cell(index, UPLOADING_DAY)
    assert row == '<span class="badge uploading">uploading</span> on youtube'
    row = publication_cell(index, UNPUBLISHED_DAY)
    assert row == '<span class="muted">not published</span>'

    published = client.get(f"/videos/{PUBLISHED_DAY}/{THEME}").text
    assert 'id="publication"' in published and 'href="https://youtu.be/abc123XYZ"' in published
    assert "another render" not in published
    uploading = client.get(f"/videos/{UPLOADING_DAY}/{THEME}").text
    assert "uploading</span> on youtube" in uploading and "(another render)" in uploading
    assert "not published" in client.get(f"/videos/{UNPUBLISHED_DAY}/{THEME}").text
    for page in (index, published, uploading):
        assert "SECRET-SESSION" not in page and "upload_id" not in page and "upload.example" not in page


def test_review_list_shows_each_approvals_publication_and_never_its_session(space, filed) -> None:
    publish(
        space, PUBLISHED_DAY, filed[PUBLISHED_DAY], remote_id="abc123XYZ", url="https://youtu.be/abc123XYZ"
    )
    publish(space, UPLOADING_DAY, filed[UPLOADING_DAY])
    for day, sha in filed.items():
        decide(space, day, "approved", sha)
    decide(space, UNPUBLISHED_DAY, "rejected", filed[UNPUBLISHED_DAY])
    lines = {line.split()[1] + " " + line.split()[3]: line for line in review_list(space).splitlines()}
    assert lines[f"{PUBLISHED_DAY} approved"].endswith(
        "[published on youtube: abc123XYZ https://youtu.be/abc123XYZ]"
    )
    assert lines[f"{UPLOADING_DAY} approved"].endswith("[uploading on youtube]")
    assert lines[f"{UNPUBLISHED_DAY} approved"].endswith("[not published]")
    assert "[" not in lines[f"{UNPUBLISHED_DAY} rejected"]  # only approvals say it
    assert "SECRET-SESSION" not in "".join(lines.values()) and "upload_id" not in "".join(lines.values())


def test_published_values_are_escaped_and_only_a_web_address_becomes_a_link(space, filed) -> None:
    publish(space, PUBLISHED_DAY, filed[PUBLISHED_DAY], remote_id='x"><script>alert(1)</script>\x1b[2J',
            url="javascript:alert(1)")  # fmt: skip
    decide(space, PUBLISHED_DAY, "approved", filed[PUBLISHED_DAY])
    client = make_client(space)
    sign_in(client)
    for page in (client.get("/").text, client.get(f"/videos/{PUBLISHED_DAY}/{THEME}").text):
        assert "<script>alert" not in page and "javascript:" not in page
        assert "x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    listed = review_list(space)
    assert "\x1b" not in listed and 'x"><script>alert(1)</script>\\x1b[2J' in listed
    assert "javascript:" not in listed


def test_without_a_publications_table_the_page_and_the_list_say_not_published(space, filed) -> None:
    decide(space, PUBLISHED_DAY, "approved", filed[PUBLISHED_DAY])
    client = make_client(space)
    sign_in(client)
    index = client.get("/")
    page = client.get(f"/videos/{PUBLISHED_DAY}/{THEME}")
    assert index.status_code == page.status_code == 200
    assert "not published" in index.text and "not published" in page.text
    assert review_list(space).rstrip().endswith("[not published]")
    assert not table_exists(space)  # reading never creates the publishing table
