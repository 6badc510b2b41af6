"""Protects the `publications` table, the record that makes publishing exactly-once: an idempotent schema,
one row per (date, theme, platform), a claim that never overwrites a live or finished attempt, the session
stored before the upload and forgotten after it, quota units summed, the daily cap's count, the one-publisher
lock, and `publication_for` on a database where publishing never ran."""

from __future__ import annotations

import datetime as dt

import psycopg2
import pytest

from shortvid_assets.storage import postgres, publications

DAY = "2026-11-24"
SHA_A = "a" * 64
SHA_B = "b" * 64
STARTED = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def conn(review_db_url):
    connection = postgres.connect(review_db_url)
    publications.ensure_schema(connection)
    yield connection
    connection.close()


def claim(conn, theme="minicup", sha=SHA_A, platform="youtube"):
    return publications.claim_publication(
        conn, partition_date=DAY, theme=theme, platform=platform, video_sha256=sha, decision_id=7,
        marker=f"shortvid:{sha[:16]}", features={"hook_pattern": "question"},
    )  # fmt: skip


def test_schema_is_idempotent_and_publication_for_needs_no_table(review_db_url):
    connection = postgres.connect(review_db_url)
    try:
        assert publications.publication_for(connection, DAY, "minicup") is None  # no table yet
        publications.ensure_schema(connection)
        publications.ensure_schema(connection)
        assert publications.publication_for(connection, DAY, "minicup") is None
    finally:
        connection.close()


def test_a_row_goes_claimed_uploading_published_and_forgets_its_session(conn):
    row, claimed = claim(conn)
    assert claimed and row.status == "claimed" and row.attempts == 1
    row = publications.record_session(
        conn, row.id, session_uri="https://upload/x?upload_id=1", total_bytes=1000, started_at=STARTED,
        privacy_status="private", quota_units={"videos.insert": 1},
    )  # fmt: skip
    assert (row.status, row.session_uri, row.total_bytes) == (
        "uploading",
        "https://upload/x?upload_id=1",
        1000,
    )
    assert "upload_id" not in repr(row)  # the session URI is a credential
    row = publications.complete_publication(
        conn, row.id, remote_id="vid123", url="https://www.youtube.com/shorts/vid123", published_at=STARTED
    )
    row = publications.add_quota_units(conn, row.id, {"default": 50})
    assert row.status == "published" and row.remote_id == "vid123" and row.session_uri is None
    assert row.quota_units == {"videos.insert": 1, "default": 50}
    assert publications.publication_for(conn, DAY, "minicup") == row
    assert publications.published_videos(conn, "youtube") == [row]


@pytest.mark.parametrize("status", ["claimed", "uploading", "published"])
def test_a_second_claim_never_overwrites_a_live_or_finished_attempt(conn, status):
    row, _ = claim(conn)
    if status != "claimed":
        row = publications.record_session(conn, row.id, session_uri="s", total_bytes=1, started_at=STARTED)
    if status == "published":
        row = publications.complete_publication(conn, row.id, remote_id="v1", url="u", published_at=STARTED)
    again, claimed = claim(conn, sha=SHA_B)
    assert not claimed
    assert (again.id, again.status, again.video_sha256) == (row.id, status, SHA_A)


def test_a_failed_attempt_may_be_claimed_again_and_counts_its_attempts(conn):
    row, _ = claim(conn)
    failed = publications.fail_publication(
        conn, row.id, error="quotaExceeded", quota_units={"videos.insert": 1}
    )
    assert failed.status == "failed" and failed.error == "quotaExceeded"
    again, claimed = claim(conn, sha=SHA_B)
    assert claimed and again.id == row.id and again.attempts == 2 and again.video_sha256 == SHA_B
    assert again.quota_units == {"videos.insert": 1}  # what the failed attempt spent stays counted


def test_one_row_per_video_and_platform_and_one_row_per_remote_video(conn):
    claim(conn, platform="youtube")
    claim(conn, platform="local")
    claim(conn, theme="tinytea")
    assert len(publications.list_publications(conn)) == 3
    with pytest.raises(psycopg2.errors.UniqueViolation), postgres.transaction(conn) as cur:
        cur.execute(
            "INSERT INTO publications (partition_date, theme, platform, video_sha256, marker, status) "
            "VALUES (%s, 'minicup', 'youtube', %s, 'm', 'claimed')",
            (DAY, SHA_B),
        )
    first = publications.publication_for(conn, DAY, "minicup", "youtube")
    second = publications.publication_for(conn, DAY, "tinytea", "youtube")
    publications.complete_publication(conn, first.id, remote_id="same", url="u", published_at=STARTED)
    with pytest.raises(psycopg2.errors.UniqueViolation):
        publications.complete_publication(conn, second.id, remote_id="same", url="u", published_at=STARTED)


def test_the_daily_cap_counts_started_uploads_but_not_failed_ones(conn):
    for theme in ("a", "b", "c"):
        row, _ = claim(conn, theme=theme)
        publications.record_session(conn, row.id, session_uri="s", total_bytes=1, started_at=STARTED)
        if theme == "c":
            publications.fail_publication(conn, row.id, error="uploadLimitExceeded")
    assert publications.uploads_started_on(conn, "youtube", STARTED.date()) == 2
    assert publications.uploads_started_on(conn, "youtube", STARTED.date() + dt.timedelta(days=1)) == 0
    assert publications.uploads_started_on(conn, "local", STARTED.date()) == 0
    first = publications.publication_for(conn, DAY, "a")
    assert publications.uploads_started_on(conn, "youtube", STARTED.date(), excluding=first.id) == 1


def test_only_one_connection_holds_a_videos_publishing_lock(conn, review_db_url):
    other = postgres.connect(review_db_url)
    try:
        with publications.publishing_lock(conn, DAY, "minicup", "youtube") as first:
            with publications.publishing_lock(other, DAY, "minicup", "youtube") as second:
                assert first and not second
            with publications.publishing_lock(other, DAY, "tinytea", "youtube") as elsewhere:
                assert elsewhere
        with publications.publishing_lock(other, DAY, "minicup", "youtube") as after:
            assert after
    finally:
        other.close()


def test_bad_values_are_refused_in_one_line(conn):
    with pytest.raises(publications.InvalidPublication, match="SHA-256"):
        claim(conn, sha="xyz")
    with pytest.raises(publications.InvalidPublication, match="YYYY-MM-DD"):
        publications.publication_for(conn, "24/11/2026", "minicup")
