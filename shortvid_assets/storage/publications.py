"""Publications in PostgreSQL: one row per video and platform, the record that makes publishing exactly-once.

A row is claimed (`claim_publication`) before anything is sent to the platform, holds the resumable
upload session URI as soon as the platform hands it out (`record_session`), and is completed with
the remote id (`complete_publication`) after the upload. A step killed anywhere in between finds
the row on re-execution: it resumes the stored session, or finds the remote video by its marker,
and never opens a second upload of a render whose first upload may have finished.

The unique key is (partition_date, theme, platform): one video per day, theme and platform. The row
also carries the SHA-256 of the render it uploads; a re-render of an already published partition is
never uploaded over it (`published_video` refuses, naming both hashes).

Status: `claimed` (row written, no session yet), `uploading` (session URI stored), `published`
(remote id known), `failed` (the attempt ended without a remote video: quota, upload limit, refused;
a later attempt may claim it again). The session URI is a credential to the upload: it is stored
here and nowhere else (never in logs or asset metadata).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import zlib
from collections.abc import Iterator
from typing import Any, Literal

import psycopg2
import psycopg2.extensions
from psycopg2.extras import Json
from pydantic import BaseModel, ConfigDict, Field

from shortvid_assets.storage import postgres

Status = Literal["claimed", "uploading", "published", "failed"]
STATUSES = ("claimed", "uploading", "published", "failed")
ACTIVE = ("claimed", "uploading", "published")  # attempts that count against the daily upload cap

# Any constant, distinct from the other tables': serialises concurrent schema creation across processes.
_SCHEMA_LOCK_KEY = 0x5F5D_0003
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

_TABLE_DDL = """
CREATE TABLE IF NOT EXISTS publications (
    id bigserial PRIMARY KEY,
    partition_date date NOT NULL,
    theme text NOT NULL,
    platform text NOT NULL,
    video_sha256 text NOT NULL CHECK (video_sha256 ~ '^[0-9a-f]{64}$'),
    decision_id bigint,
    marker text NOT NULL,
    status text NOT NULL CHECK (status IN ('claimed', 'uploading', 'published', 'failed')),
    remote_id text,
    url text,
    session_uri text,
    total_bytes bigint,
    privacy_status text,
    publish_at timestamptz,
    features jsonb NOT NULL DEFAULT '{}'::jsonb,
    quota_units jsonb NOT NULL DEFAULT '{}'::jsonb,
    attempts integer NOT NULL DEFAULT 1,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    upload_started_at timestamptz,
    published_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT publications_partition_platform_key UNIQUE (partition_date, theme, platform),
    CONSTRAINT publications_published_has_remote CHECK (status <> 'published' OR remote_id IS NOT NULL)
)
"""
_INDEX_DDL = (
    "CREATE UNIQUE INDEX IF NOT EXISTS publications_remote_idx ON publications (platform, remote_id) "
    "WHERE remote_id IS NOT NULL"
)

_COLUMNS = (
    "id, partition_date, theme, platform, video_sha256, decision_id, marker, status, remote_id, url, "
    "session_uri, total_bytes, privacy_status, publish_at, features, quota_units, attempts, error, "
    "created_at, upload_started_at, published_at, updated_at"
)


class InvalidPublication(ValueError):
    """A publication with a value the table would not accept."""


class Publication(BaseModel):
    """One row of `publications`."""

    model_config = ConfigDict(frozen=True)

    id: int
    partition_date: dt.date
    theme: str
    platform: str
    video_sha256: str
    decision_id: int | None
    marker: str
    status: Status
    remote_id: str | None
    url: str | None
    session_uri: str | None = Field(repr=False, description="The upload session: a credential, never shown")
    total_bytes: int | None
    privacy_status: str | None
    publish_at: dt.datetime | None
    features: dict[str, Any]
    quota_units: dict[str, int]
    attempts: int
    error: str | None
    created_at: dt.datetime
    upload_started_at: dt.datetime | None
    published_at: dt.datetime | None
    updated_at: dt.datetime


def ensure_schema(conn: psycopg2.extensions.connection) -> None:
    """Create `publications` and its index when missing; takes no table lock when they exist."""
    postgres.ensure_relations(
        conn, _SCHEMA_LOCK_KEY, ("publications", "publications_remote_idx"), (_TABLE_DDL, _INDEX_DDL)
    )


def _row(row: tuple | None) -> Publication | None:
    if row is None:
        return None
    return Publication.model_validate(dict(zip(Publication.model_fields, row, strict=True)))


def _date(value: dt.date | str) -> dt.date:
    try:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidPublication(f"date {value!r} is not a date; write it as YYYY-MM-DD") from None


def _merge_units(old: dict[str, int], new: dict[str, int] | None) -> dict[str, int]:
    merged = dict(old)
    for bucket, units in (new or {}).items():
        merged[bucket] = merged.get(bucket, 0) + int(units)
    return merged


def publication_for(
    conn: psycopg2.extensions.connection,
    partition_date: dt.date | str,
    theme: str,
    platform: str | None = None,
) -> Publication | None:
    """The publication of a video (on `platform`, or the newest on any); None when it was never published.

    Safe to call on a database where publishing never ran (no table yet): returns None.
    """
    with postgres.transaction(conn) as cur:
        cur.execute("SELECT to_regclass('publications') IS NOT NULL")
        if not cur.fetchone()[0]:
            return None
        cur.execute(
            f"SELECT {_COLUMNS} FROM publications WHERE partition_date = %(date)s AND theme = %(theme)s "
            "AND (%(platform)s::text IS NULL OR platform = %(platform)s::text) ORDER BY updated_at DESC, id DESC LIMIT 1",
            {"date": _date(partition_date), "theme": theme, "platform": platform},
        )
        return _row(cur.fetchone())


@contextlib.contextmanager
def publishing_lock(
    conn: psycopg2.extensions.connection, partition_date: dt.date | str, theme: str, platform: str
) -> Iterator[bool]:
    """Try to hold the one-publisher lock of a video (a session-level advisory lock); yields whether it did.

    The lock dies with its connection, so a killed step never leaves it behind.
    """
    key = 0x5F5D_0000_0000 + zlib.crc32(f"publish|{_date(partition_date)}|{theme}|{platform}".encode())
    autocommit = conn.autocommit
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (key,))
            locked = bool(cur.fetchone()[0])
        try:
            yield locked
        finally:
            if locked:
                with contextlib.suppress(psycopg2.Error), conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s)", (key,))
    finally:
        if conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            conn.autocommit = autocommit


def claim_publication(
    conn: psycopg2.extensions.connection,
    *,
    partition_date: dt.date | str,
    theme: str,
    platform: str,
    video_sha256: str,
    decision_id: int | None,
    marker: str,
    features: dict[str, Any] | None = None,
) -> tuple[Publication, bool]:
    """The partition's row, claimed for this render when there is none or the last attempt failed.

    Returns (row, claimed): `claimed` is False when a row already existed that this call must not
    overwrite (claimed, uploading or published, of this or another render); the caller decides from it.
    """
    if not _SHA256.match(video_sha256 or ""):
        raise InvalidPublication(f"video_sha256 {video_sha256!r} is not 64 lowercase hex digits (a SHA-256)")
    if not theme.strip() or not platform.strip() or not marker.strip():
        raise InvalidPublication("theme, platform and marker must not be empty")
    params = {
        "date": _date(partition_date),
        "theme": theme,
        "platform": platform,
        "sha": video_sha256,
        "decision": decision_id,
        "marker": marker,
        "features": Json(features or {}),
    }
    with postgres.transaction(conn) as cur:
        cur.execute(
            "INSERT INTO publications (partition_date, theme, platform, video_sha256, decision_id, marker, "
            "status, features) VALUES (%(date)s, %(theme)s, %(platform)s, %(sha)s, %(decision)s, %(marker)s, "
            "'claimed', %(features)s) "
            "ON CONFLICT ON CONSTRAINT publications_partition_platform_key DO UPDATE SET "
            "video_sha256 = EXCLUDED.video_sha256, decision_id = EXCLUDED.decision_id, marker = EXCLUDED.marker, "
            "status = 'claimed', features = EXCLUDED.features, session_uri = NULL, total_bytes = NULL, "
            "error = NULL, attempts = publications.attempts + 1, updated_at = now() "
            "WHERE publications.status = 'failed' "
            f"RETURNING {_COLUMNS}",
            params,
        )
        claimed = _row(cur.fetchone())
        if claimed is not None:
            return claimed, True
        cur.execute(
            f"SELECT {_COLUMNS} FROM publications WHERE partition_date = %(date)s AND theme = %(theme)s "
            "AND platform = %(platform)s",
            params,
        )
        return _row(cur.fetchone()), False


def restart_publication(
    conn: psycopg2.extensions.connection,
    publication_id: int,
    *,
    video_sha256: str,
    decision_id: int | None,
    marker: str,
    features: dict[str, Any] | None = None,
) -> Publication:
    """Claim a row again for a new attempt, after its old session was found to have left no remote video."""
    with postgres.transaction(conn) as cur:
        cur.execute(
            "UPDATE publications SET video_sha256 = %s, decision_id = %s, marker = %s, status = 'claimed', "
            "features = %s, session_uri = NULL, total_bytes = NULL, error = NULL, attempts = attempts + 1, "
            f"updated_at = now() WHERE id = %s AND status <> 'published' RETURNING {_COLUMNS}",
            (video_sha256, decision_id, marker, Json(features or {}), publication_id),
        )
        row = _row(cur.fetchone())
    if row is None:
        raise InvalidPublication(
            f"publication #{publication_id} is published or gone: it cannot be restarted"
        )
    return row


def record_session(
    conn: psycopg2.extensions.connection,
    publication_id: int,
    *,
    session_uri: str,
    total_bytes: int,
    started_at: dt.datetime,
    privacy_status: str | None = None,
    publish_at: dt.datetime | None = None,
    quota_units: dict[str, int] | None = None,
) -> Publication:
    """Store the upload session before any byte is sent; the row becomes `uploading`."""
    with postgres.transaction(conn) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM publications WHERE id = %s FOR UPDATE", (publication_id,))
        current = _row(cur.fetchone())
        if current is None or current.status == "published":
            raise InvalidPublication(f"publication #{publication_id} is published or gone: no new session")
        cur.execute(
            "UPDATE publications SET status = 'uploading', session_uri = %s, total_bytes = %s, "
            "upload_started_at = %s, privacy_status = %s, publish_at = %s, quota_units = %s, updated_at = now() "
            f"WHERE id = %s RETURNING {_COLUMNS}",
            (
                session_uri,
                total_bytes,
                started_at,
                privacy_status,
                publish_at,
                Json(_merge_units(current.quota_units, quota_units)),
                publication_id,
            ),
        )
        return _row(cur.fetchone())


def complete_publication(
    conn: psycopg2.extensions.connection,
    publication_id: int,
    *,
    remote_id: str,
    url: str,
    published_at: dt.datetime,
    privacy_status: str | None = None,
    quota_units: dict[str, int] | None = None,
) -> Publication:
    """Record the remote video; the row becomes `published` and its session URI is forgotten."""
    if not remote_id.strip():
        raise InvalidPublication("remote_id must not be empty")
    with postgres.transaction(conn) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM publications WHERE id = %s FOR UPDATE", (publication_id,))
        current = _row(cur.fetchone())
        if current is None:
            raise InvalidPublication(f"publication #{publication_id} does not exist")
        if current.status == "published" and current.remote_id != remote_id:
            raise InvalidPublication(
                f"publication #{publication_id} is already video {current.remote_id}, not {remote_id}"
            )
        cur.execute(
            "UPDATE publications SET status = 'published', remote_id = %s, url = %s, session_uri = NULL, "
            "published_at = coalesce(published_at, %s), privacy_status = coalesce(%s, privacy_status), "
            f"quota_units = %s, error = NULL, updated_at = now() WHERE id = %s RETURNING {_COLUMNS}",
            (
                remote_id,
                url,
                published_at,
                privacy_status,
                Json(_merge_units(current.quota_units, quota_units)),
                publication_id,
            ),
        )
        return _row(cur.fetchone())


def add_quota_units(
    conn: psycopg2.extensions.connection, publication_id: int, quota_units: dict[str, int]
) -> Publication:
    """Add units spent by a later call (a thumbnail, a marker search) to the row's total."""
    with postgres.transaction(conn) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM publications WHERE id = %s FOR UPDATE", (publication_id,))
        current = _row(cur.fetchone())
        if current is None:
            raise InvalidPublication(f"publication #{publication_id} does not exist")
        cur.execute(
            f"UPDATE publications SET quota_units = %s, updated_at = now() WHERE id = %s RETURNING {_COLUMNS}",
            (Json(_merge_units(current.quota_units, quota_units)), publication_id),
        )
        return _row(cur.fetchone())


def fail_publication(
    conn: psycopg2.extensions.connection,
    publication_id: int,
    *,
    error: str,
    quota_units: dict[str, int] | None = None,
) -> Publication:
    """Mark an attempt that ended without a remote video (quota, upload limit, refused); a later one may retry."""
    with postgres.transaction(conn) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM publications WHERE id = %s FOR UPDATE", (publication_id,))
        current = _row(cur.fetchone())
        if current is None:
            raise InvalidPublication(f"publication #{publication_id} does not exist")
        if current.status == "published":
            return current
        cur.execute(
            "UPDATE publications SET status = 'failed', error = %s, session_uri = NULL, quota_units = %s, "
            f"updated_at = now() WHERE id = %s RETURNING {_COLUMNS}",
            (error[:2000], Json(_merge_units(current.quota_units, quota_units)), publication_id),
        )
        return _row(cur.fetchone())


def uploads_started_on(
    conn: psycopg2.extensions.connection, platform: str, day: dt.date, *, excluding: int | None = None
) -> int:
    """Uploads started on `day` (UTC) on `platform` that count against the daily cap: not failed ones.

    `excluding` leaves out one row (an attempt being restarted is not a second upload of the day).
    """
    with postgres.transaction(conn) as cur:
        cur.execute(
            "SELECT count(*) FROM publications WHERE platform = %s AND status = ANY(%s) "
            "AND (upload_started_at AT TIME ZONE 'UTC')::date = %s AND id IS DISTINCT FROM %s",
            (platform, list(ACTIVE), day, excluding),
        )
        return int(cur.fetchone()[0])


def list_publications(
    conn: psycopg2.extensions.connection,
    *,
    status: Status | None = None,
    platform: str | None = None,
    theme: str | None = None,
    limit: int = 100,
) -> list[Publication]:
    """Publications, newest partition first, optionally by status, platform and theme."""
    with postgres.transaction(conn) as cur:
        cur.execute(
            f"SELECT {_COLUMNS} FROM publications WHERE (%(status)s::text IS NULL OR status = %(status)s::text) "
            "AND (%(platform)s::text IS NULL OR platform = %(platform)s::text) "
            "AND (%(theme)s::text IS NULL OR theme = %(theme)s::text) "
            "ORDER BY partition_date DESC, theme, platform LIMIT %(limit)s",
            {"status": status, "platform": platform, "theme": theme, "limit": limit},
        )
        return [_row(row) for row in cur.fetchall()]


def published_videos(conn: psycopg2.extensions.connection, platform: str) -> list[Publication]:
    """Every published video on `platform`, oldest first: what `video_performance` reads back."""
    with postgres.transaction(conn) as cur:
        cur.execute(
            f"SELECT {_COLUMNS} FROM publications WHERE platform = %s AND status = 'published' "
            "ORDER BY published_at, id",
            (platform,),
        )
        return [_row(row) for row in cur.fetchall()]
