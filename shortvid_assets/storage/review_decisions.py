"""Review decisions in PostgreSQL (REVIEW-3, REVIEW-4): the schema, writes, reads, and the sensor's feed.

`review_decisions` is an append-only log: a reviewer changes their mind by inserting a new
decision, and the latest decision of a partition (date × theme) is the one that counts. Any
SQL client may insert rows; the triggers installed by `ensure_schema` keep the columns the
sensor relies on trustworthy.

A decision judges one render: `video_sha256` is the SHA-256 of the MP4 the reviewer saw. A
partition re-rendered later (new script, new voice) gets a new file in output/review/, and a
decision about the older render must not approve the new one unseen: `review_status` applies
only the latest decision whose hash matches the current file (or that has no hash, as rows
typed by hand in a SQL client may). A byte-identical re-render keeps its decision, which is
right: the reviewer saw exactly those bytes.

`shortvid_assets.review.decisions.submit_decision` is the one validation every writer in
shortvid goes through (CLI, review page) before `record_decision` stores a row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import psycopg2
import psycopg2.extensions
import psycopg2.extras
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shortvid_assets.domain.dates import InvalidDate, parse_day
from shortvid_assets.domain.text_fields import control_characters, printable
from shortvid_assets.storage import postgres

DECISIONS = ("approved", "rejected")
Decision = Literal["approved", "rejected"]

# Any constants: serialise concurrent schema migrations, and review sensor ticks, across processes.
_SCHEMA_LOCK_KEY = 0x5F5D_0001
SENSOR_LOCK_KEY = 0x5F5D_0002
# No shortvid partition is older; the table refuses dates before it (typos such as 0226-11-24).
EARLIEST_DAY = dt.date(2000, 1, 1)

_COLUMNS = "id, partition_date, theme, video_path, video_sha256, decision, reviewer, note, decided_at, created_xid::text"
_THEME_SLUG = re.compile(r"^[a-z0-9-]{1,64}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class InvalidDecision(ValueError):
    """A review decision with a value the table would not accept."""


class InvalidCursor(ValueError):
    """A sensor cursor that `read_new_decisions` did not produce."""


class ReviewDecision(BaseModel):
    """One row of `review_decisions`."""

    model_config = ConfigDict(frozen=True)

    id: int
    partition_date: dt.date
    theme: str
    video_path: str | None
    video_sha256: str | None = Field(description="SHA-256 of the MP4 the decision judges; None: any render.")
    decision: Decision
    reviewer: str
    note: str | None
    decided_at: dt.datetime
    created_xid: int = Field(description="Top-level id of the transaction that inserted the row.")


class DecisionCursor(BaseModel):
    """Where `read_new_decisions` stopped: a snapshot's xmin and the rows at or above it already read."""

    model_config = ConfigDict(extra="forbid")

    xmin: int = Field(ge=0)
    seen: list[int] = Field(default_factory=list)

    def serialize(self) -> str:
        return json.dumps({"xmin": self.xmin, "seen": sorted(self.seen)}, separators=(",", ":"))

    @classmethod
    def parse(cls, cursor: str | None) -> DecisionCursor:
        if cursor is None or cursor == "":
            return cls(xmin=0)
        try:
            return cls.model_validate_json(cursor)
        except ValidationError as err:
            raise InvalidCursor(
                f"Review cursor {cursor[:80]!r} is not one read_new_decisions produced ({err.error_count()} "
                "errors); reset the sensor's cursor to start from the first decision again."
            ) from None


# Each statement checks for itself, so the DDL is safe to re-run on any older version of the table.
_TABLE_DDL = """
CREATE TABLE IF NOT EXISTS review_decisions (
    id bigserial PRIMARY KEY,
    partition_date date NOT NULL,
    theme text NOT NULL,
    video_path text,
    video_sha256 text,
    decision text NOT NULL,
    reviewer text NOT NULL,
    note text,
    decided_at timestamptz NOT NULL DEFAULT now(),
    created_xid xid8 NOT NULL DEFAULT pg_current_xact_id()
)
"""

_ADD_COLUMNS = {
    "video_path": "ALTER TABLE review_decisions ADD COLUMN IF NOT EXISTS video_path text",
    "video_sha256": "ALTER TABLE review_decisions ADD COLUMN IF NOT EXISTS video_sha256 text",
    "note": "ALTER TABLE review_decisions ADD COLUMN IF NOT EXISTS note text",
    "decided_at": (
        "ALTER TABLE review_decisions ADD COLUMN IF NOT EXISTS decided_at timestamptz NOT NULL DEFAULT now()"
    ),
    # Rows older than this column get the migrating transaction's id: a reader sees them once.
    "created_xid": (
        "ALTER TABLE review_decisions ADD COLUMN IF NOT EXISTS created_xid xid8 NOT NULL "
        "DEFAULT pg_current_xact_id()"
    ),
}

# NOT VALID: enforced for every new row without failing on rows an older version let through.
_CONSTRAINTS = {
    "review_decisions_decision_check": (
        "ALTER TABLE review_decisions ADD CONSTRAINT review_decisions_decision_check "
        "CHECK (decision IN ('approved', 'rejected')) NOT VALID"
    ),
    "review_decisions_reviewer_check": (
        "ALTER TABLE review_decisions ADD CONSTRAINT review_decisions_reviewer_check "
        "CHECK (btrim(reviewer) <> '') NOT VALID"
    ),
    "review_decisions_video_sha256_check": (
        "ALTER TABLE review_decisions ADD CONSTRAINT review_decisions_video_sha256_check "
        "CHECK (video_sha256 ~ '^[0-9a-f]{64}$') NOT VALID"
    ),
    # What the sensor could otherwise only set aside: a theme that cannot be a partition key, a
    # date before any partition, and text that would forge lines where it is printed.
    "review_decisions_theme_check": (
        "ALTER TABLE review_decisions ADD CONSTRAINT review_decisions_theme_check "
        "CHECK (theme ~ '^[a-z0-9-]{1,64}$') NOT VALID"
    ),
    "review_decisions_partition_date_check": (
        "ALTER TABLE review_decisions ADD CONSTRAINT review_decisions_partition_date_check "
        f"CHECK (partition_date >= DATE '{EARLIEST_DAY.isoformat()}') NOT VALID"
    ),
    "review_decisions_reviewer_control_check": (
        "ALTER TABLE review_decisions ADD CONSTRAINT review_decisions_reviewer_control_check "
        "CHECK (reviewer !~ '[\\x01-\\x1f\\x7f-\\x9f]') NOT VALID"
    ),
    "review_decisions_note_control_check": (
        "ALTER TABLE review_decisions ADD CONSTRAINT review_decisions_note_control_check "
        "CHECK (note !~ '[\\x01-\\x08\\x0b-\\x1f\\x7f-\\x9f]') NOT VALID"
    ),
}

_INDEXES = {
    # The sensor's scan: rows written by transactions at or above a snapshot's xmin.
    "review_decisions_created_xid_idx": (
        "CREATE INDEX IF NOT EXISTS review_decisions_created_xid_idx ON review_decisions (created_xid)"
    ),
    # The latest decision of a partition, and a partition's history.
    "review_decisions_partition_idx": (
        "CREATE INDEX IF NOT EXISTS review_decisions_partition_idx "
        "ON review_decisions (partition_date, theme, decided_at DESC, id DESC)"
    ),
}

_FUNCTIONS = """
CREATE OR REPLACE FUNCTION review_decisions_stamp_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The sensor's exactly-once read depends on this being the inserting transaction's id.
    NEW.created_xid := pg_current_xact_id();
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION review_decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'review_decisions is append-only: insert a new decision instead of updating row %', OLD.id
        USING ERRCODE = 'restrict_violation';
END $$;
"""

_TRIGGERS = {
    "review_decisions_stamp_xid": (
        "CREATE OR REPLACE TRIGGER review_decisions_stamp_xid BEFORE INSERT ON review_decisions "
        "FOR EACH ROW EXECUTE FUNCTION review_decisions_stamp_xid()"
    ),
    "review_decisions_append_only": (
        "CREATE OR REPLACE TRIGGER review_decisions_append_only BEFORE UPDATE ON review_decisions "
        "FOR EACH ROW EXECUTE FUNCTION review_decisions_append_only()"
    ),
}


# Decisions the sensor could not apply (theme not in the config, date outside the partitions),
# with the reason: `review_decisions` is append-only, so the verdict lives beside it.
_SET_ASIDE_DDL = """
CREATE TABLE IF NOT EXISTS review_decisions_set_aside (
    decision_id bigint PRIMARY KEY,
    reason text NOT NULL,
    set_aside_at timestamptz NOT NULL DEFAULT now()
)
"""


def _missing_schema_parts(cur: psycopg2.extensions.cursor) -> list[str]:
    """The DDL statements still needed; empty when the schema is current."""
    cur.execute(
        "SELECT to_regclass('review_decisions') IS NOT NULL, to_regclass('review_decisions_set_aside') IS NOT NULL"
    )
    has_table, has_set_aside = cur.fetchone()
    set_aside = [] if has_set_aside else [_SET_ASIDE_DDL]
    if not has_table:
        return [
            _TABLE_DDL,
            _FUNCTIONS,
            *_CONSTRAINTS.values(),
            *_INDEXES.values(),
            *_TRIGGERS.values(),
            *set_aside,
        ]
    cur.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'review_decisions'::regclass "
        "AND attnum > 0 AND NOT attisdropped"
    )
    columns = {row[0] for row in cur.fetchall()}
    cur.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'review_decisions'::regclass")
    constraints = {row[0] for row in cur.fetchall()}
    cur.execute(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'review_decisions'::regclass"
    )
    indexes = {row[0] for row in cur.fetchall()}
    cur.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'review_decisions'::regclass AND NOT tgisinternal"
    )
    triggers = {row[0] for row in cur.fetchall()}
    missing = [ddl for name, ddl in _ADD_COLUMNS.items() if name not in columns]
    missing += [ddl for name, ddl in _CONSTRAINTS.items() if name not in constraints]
    missing += [ddl for name, ddl in _INDEXES.items() if name not in indexes]
    if set(_TRIGGERS) - triggers:
        missing += [_FUNCTIONS, *(ddl for name, ddl in _TRIGGERS.items() if name not in triggers)]
    return missing + set_aside


def ensure_schema(conn: psycopg2.extensions.connection) -> None:
    """Create or migrate `review_decisions`; a no-op that takes no table lock when it is current.

    Checking the catalog first matters: `ALTER TABLE` and `CREATE INDEX IF NOT EXISTS` lock the
    table even when they change nothing, and would wait behind any reviewer's open transaction.
    """
    with postgres.transaction(conn) as cur:
        if not _missing_schema_parts(cur):
            return
    # The lock is taken before the migrating transaction begins: a transaction that began before
    # another process's migration committed may still read the old catalog (cached lookups).
    with postgres.advisory_lock(conn, _SCHEMA_LOCK_KEY), postgres.transaction(conn) as cur:
        for ddl in _missing_schema_parts(cur):  # again: another process may have migrated meanwhile
            cur.execute(ddl)


def _row_to_decision(row: tuple) -> ReviewDecision:
    keys = ReviewDecision.model_fields.keys()
    return ReviewDecision.model_validate(dict(zip(keys, row, strict=True)))


class NewDecision(BaseModel):
    """A decision ready to insert: every value checked the way the table's constraints check it."""

    model_config = ConfigDict(frozen=True)

    partition_date: dt.date
    theme: str
    decision: Decision
    reviewer: str
    note: str | None
    video_path: str
    video_sha256: str | None


def check_new_decision(
    *,
    partition_date: dt.date | str,
    theme: str,
    decision: str,
    reviewer: str,
    note: str | None = None,
    video_path: str | Path,
    video_sha256: str | None = None,
) -> NewDecision:
    """The row `record_decision` would insert, or InvalidDecision saying what is wrong; needs no database."""
    if decision not in DECISIONS:
        raise InvalidDecision(
            f"Decision {decision!r} is not one of {', '.join(DECISIONS)}; pass one of those."
        )
    if not reviewer or not reviewer.strip():
        raise InvalidDecision("The reviewer is empty; say who decided (a name or e-mail).")
    if not theme or not theme.strip():
        raise InvalidDecision("The theme is empty; pass the theme slug of the video's partition.")
    if not str(video_path).strip():
        raise InvalidDecision("The video path is empty; pass the path of the video this decision judges.")
    if video_sha256 is not None and not _SHA256.match(video_sha256):
        raise InvalidDecision(
            f"video_sha256 {video_sha256[:80]!r} is not 64 lowercase hex digits (a SHA-256)."
        )
    if not _THEME_SLUG.match(theme):
        raise InvalidDecision(
            f"theme {printable(theme[:64])!r} is not a theme slug (a-z, 0-9 and -, at most 64 characters)."
        )
    if bad := control_characters(reviewer):
        raise InvalidDecision(
            f"The reviewer's name contains control characters ({', '.join(bad)}); write it on one line "
            "without them."
        )
    if note is not None:
        note = note.replace("\r\n", "\n")
        if bad := control_characters(note, allow_newlines=True):
            raise InvalidDecision(
                f"The note contains control characters ({', '.join(bad)}); only tabs and line breaks "
                "may be used."
            )
    try:
        day = parse_day(partition_date)
    except InvalidDate as err:
        raise InvalidDecision(f"Partition date: {err}.") from None
    if day < EARLIEST_DAY:
        raise InvalidDecision(f"Partition date {day} is before {EARLIEST_DAY}: no video has it.")
    return NewDecision(
        partition_date=day,
        theme=theme,
        decision=decision,
        reviewer=reviewer.strip(),
        note=note,
        video_path=str(video_path),
        video_sha256=video_sha256,
    )


def record_decision(
    conn: psycopg2.extensions.connection,
    *,
    partition_date: dt.date | str,
    theme: str,
    decision: str,
    reviewer: str,
    note: str | None = None,
    video_path: str | Path,
    video_sha256: str | None = None,
) -> ReviewDecision:
    """Check one decision (`check_new_decision`), insert it and return the stored row.

    `review.decisions.submit_decision` validates it against the themes and the output folders first.
    """
    row = check_new_decision(
        partition_date=partition_date,
        theme=theme,
        decision=decision,
        reviewer=reviewer,
        note=note,
        video_path=video_path,
        video_sha256=video_sha256,
    )
    with postgres.transaction(conn) as cur:
        cur.execute(
            "INSERT INTO review_decisions "
            "(partition_date, theme, video_path, video_sha256, decision, reviewer, note) "
            f"VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
            (
                row.partition_date,
                row.theme,
                row.video_path,
                row.video_sha256,
                row.decision,
                row.reviewer,
                row.note,
            ),
        )
        return _row_to_decision(cur.fetchone())


def latest_decision(
    conn: psycopg2.extensions.connection,
    partition_date: dt.date | str,
    theme: str,
    *,
    video_sha256: str | None = None,
) -> ReviewDecision | None:
    """The decision that counts for a partition: the latest `decided_at`, then the highest id.

    With `video_sha256`, only decisions about that render (or about no render in particular)
    count: the decision to apply to the file that is there now.
    """
    with postgres.transaction(conn) as cur:
        cur.execute(
            f"SELECT {_COLUMNS} FROM review_decisions WHERE partition_date = %(date)s AND theme = %(theme)s "
            "AND (%(sha)s::text IS NULL OR video_sha256 IS NULL OR video_sha256 = %(sha)s::text) "
            "ORDER BY decided_at DESC, id DESC LIMIT 1",
            {"date": partition_date, "theme": theme, "sha": video_sha256},
        )
        row = cur.fetchone()
    return _row_to_decision(row) if row else None


def get_decision(conn: psycopg2.extensions.connection, decision_id: int) -> ReviewDecision | None:
    """One decision by id, or None."""
    with postgres.transaction(conn) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM review_decisions WHERE id = %s", (decision_id,))
        row = cur.fetchone()
    return _row_to_decision(row) if row else None


def list_decisions(
    conn: psycopg2.extensions.connection,
    *,
    partition_date: dt.date | str | None = None,
    theme: str | None = None,
    limit: int = 100,
) -> list[ReviewDecision]:
    """Decisions, newest first, optionally for one date and/or one theme."""
    with postgres.transaction(conn) as cur:
        cur.execute(
            f"SELECT {_COLUMNS} FROM review_decisions "
            "WHERE (%(date)s::date IS NULL OR partition_date = %(date)s::date) "
            "AND (%(theme)s::text IS NULL OR theme = %(theme)s::text) "
            "ORDER BY decided_at DESC, id DESC LIMIT %(limit)s",
            {"date": partition_date, "theme": theme, "limit": limit},
        )
        return [_row_to_decision(row) for row in cur.fetchall()]


def decision_history(
    conn: psycopg2.extensions.connection, partition_date: dt.date | str, theme: str
) -> list[ReviewDecision]:
    """Every decision of one partition, oldest first (the last one counts)."""
    with postgres.transaction(conn) as cur:
        cur.execute(
            f"SELECT {_COLUMNS} FROM review_decisions WHERE partition_date = %s AND theme = %s "
            "ORDER BY decided_at, id",
            (partition_date, theme),
        )
        return [_row_to_decision(row) for row in cur.fetchall()]


# The sensor's scan (an index range scan on created_xid); parameters `xmin` (text) and `seen` (ids).
_NEW_ROWS = (
    "FROM review_decisions WHERE created_xid >= %(xmin)s::text::xid8 AND NOT (id = ANY(%(seen)s::bigint[]))"
)
NEW_DECISIONS_SQL = f"SELECT {_COLUMNS} {_NEW_ROWS} ORDER BY id"
# The same rows folded per partition in the server, so a first tick on a long history moves one
# row per video to Python, not one per decision.
MAX_IDS_PER_PARTITION = 20
NEW_PARTITIONS_SQL = (
    "SELECT partition_date, theme, count(*), max(id), "
    f"(array_agg(id ORDER BY id DESC))[1:{MAX_IDS_PER_PARTITION}] "
    f"{_NEW_ROWS} GROUP BY partition_date, theme ORDER BY max(id)"
)


class PartitionDecisions(BaseModel):
    """The new decisions of one partition found by one read: how many, and the newest ids."""

    model_config = ConfigDict(frozen=True)

    partition_date: dt.date
    theme: str
    count: int = Field(ge=1)
    max_id: int
    ids: list[int] = Field(description=f"The newest ids, at most {MAX_IDS_PER_PARTITION}, newest first.")


def _read_since(
    conn: psycopg2.extensions.connection, cursor: str | None, query: str
) -> tuple[list[tuple], str]:
    """Run `query` over the rows committed since `cursor` in one snapshot; its rows and the next cursor."""
    previous = DecisionCursor.parse(cursor)
    with postgres.transaction(conn, snapshot_read=True) as cur:
        # The first statement fixes the transaction's snapshot; the SELECTs below see the same one.
        cur.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
        xmin = int(cur.fetchone()[0])
        cur.execute(query, {"xmin": str(previous.xmin), "seen": previous.seen})
        rows = cur.fetchall()
        # Rows at or above the new xmin may include some read before this call: keep them all.
        cur.execute("SELECT id FROM review_decisions WHERE created_xid >= %s::text::xid8", (str(xmin),))
        seen = [row[0] for row in cur.fetchall()]
    return rows, DecisionCursor(xmin=xmin, seen=seen).serialize()


def read_new_decisions(
    conn: psycopg2.extensions.connection, cursor: str | None
) -> tuple[list[ReviewDecision], str]:
    """Decisions committed since `cursor` (all of them for None), each exactly once, in id order.

    Why not "ids above the last one seen": ids come from a sequence at insert time, but
    transactions commit in any order, so id 7 can commit after id 8 was read and would be
    skipped for ever.

    What is done instead: every row records the top-level id of the transaction that wrote it
    (`created_xid`, stamped by a trigger). Each read runs in one REPEATABLE READ READ ONLY
    transaction, so the snapshot from `pg_current_snapshot()` and the rows it sees agree. A
    snapshot's `xmin` is the oldest transaction still running when it was taken: every
    transaction below it had already committed or aborted, so no row with `created_xid < xmin`
    can become visible later — those rows were all visible to that snapshot and were returned
    by that read or an earlier one. The cursor therefore keeps just that `xmin` and the ids of
    the rows it saw at or above it. The next read returns visible rows with
    `created_xid >= previous xmin` whose id is not in that set: exactly the rows committed
    since. The set stays small — only rows from transactions at or above the oldest running
    one — unless a writing transaction is left open for a long time. The scan uses the index
    on `created_xid`, so its cost follows the new rows, not the table's size.

    A read that fails (server down, connection lost) raises before a cursor is returned, so
    the caller keeps its old cursor and the next read returns the same rows again.

    Returns the decisions and the new cursor (JSON; pass it back next time).
    """
    rows, next_cursor = _read_since(conn, cursor, NEW_DECISIONS_SQL)
    return [_row_to_decision(row) for row in rows], next_cursor


def read_new_partitions(
    conn: psycopg2.extensions.connection, cursor: str | None
) -> tuple[list[PartitionDecisions], str]:
    """The same exactly-once read as `read_new_decisions`, folded to one entry per partition.

    Entries come oldest first (by their newest id). This is what the sensor uses: it needs one
    run per video, and the run itself reads the decision that counts.
    """
    rows, next_cursor = _read_since(conn, cursor, NEW_PARTITIONS_SQL)
    keys = PartitionDecisions.model_fields.keys()
    return [PartitionDecisions.model_validate(dict(zip(keys, row, strict=True))) for row in rows], next_cursor


# --- decisions the sensor set aside, and the sensor's tick lock -----------------------------------


def set_aside_decisions(conn: psycopg2.extensions.connection, reasons: dict[int, str]) -> None:
    """Record decisions the sensor cannot apply, with the reason; a decision set aside once stays so."""
    if not reasons:
        return
    with postgres.transaction(conn) as cur:
        psycopg2.extras.execute_values(
            cur,
            "INSERT INTO review_decisions_set_aside (decision_id, reason) VALUES %s "
            "ON CONFLICT (decision_id) DO NOTHING",
            sorted(reasons.items()),
        )


def set_aside_reasons(conn: psycopg2.extensions.connection, ids: list[int]) -> dict[int, str]:
    """Why each of `ids` was set aside by the sensor (ids it applied or has not met yet are absent)."""
    if not ids:
        return {}
    with postgres.transaction(conn) as cur:
        cur.execute(
            "SELECT decision_id, reason FROM review_decisions_set_aside WHERE decision_id = ANY(%s::bigint[])",
            (list(ids),),
        )
        return dict(cur.fetchall())


@contextlib.contextmanager
def sensor_tick_lock(conn: psycopg2.extensions.connection) -> Iterator[bool]:
    """Try to hold the review sensor's tick lock for this session: True if held, False if another holds it.

    A Postgres advisory lock, so two daemons (two Dagster instances sharing this database) never
    evaluate the review sensor at the same time; the one that finds it taken skips its tick.
    """
    autocommit = conn.autocommit
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (SENSOR_LOCK_KEY,))
            held = bool(cur.fetchone()[0])
        try:
            yield held
        finally:
            if held:
                with contextlib.suppress(psycopg2.Error), conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s)", (SENSOR_LOCK_KEY,))
    finally:
        with contextlib.suppress(psycopg2.Error):
            conn.autocommit = autocommit
