"""Protects the review-decisions store: an idempotent, migrating schema; validated writes; the
latest decision of a partition; and the sensor's read, which must return every committed
decision exactly once even when transactions commit out of id order."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
import pytest

from shortvid_assets.storage import postgres
from shortvid_assets.storage.review_decisions import (
    NEW_DECISIONS_SQL,
    NEW_PARTITIONS_SQL,
    DecisionCursor,
    InvalidCursor,
    InvalidDecision,
    ReviewDecision,
    decision_history,
    ensure_schema,
    latest_decision,
    list_decisions,
    read_new_decisions,
    read_new_partitions,
    record_decision,
    sensor_tick_lock,
    set_aside_decisions,
    set_aside_reasons,
)

Conn = psycopg2.extensions.connection
DAY = dt.date(2025, 3, 14)


def _record(
    conn: Conn, decision: str = "approved", *, theme: str = "coffee", day: dt.date = DAY, **kw
) -> ReviewDecision:
    return record_decision(
        conn,
        partition_date=day,
        theme=theme,
        decision=decision,
        reviewer=kw.pop("reviewer", "ana"),
        note=kw.pop("note", None),
        video_path=kw.pop("video_path", f"output/review/{day}/{theme}.mp4"),
    )


def _count(conn: Conn) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM review_decisions")
        (count,) = cur.fetchone()
    conn.rollback()
    return count


def _schema(conn: Conn) -> tuple[set[str], set[str], set[str]]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'review_decisions'"
        )
        columns = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'review_decisions'")
        indexes = {r[0] for r in cur.fetchall()}
        cur.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'review_decisions'::regclass AND NOT tgisinternal"
        )
        triggers = {r[0] for r in cur.fetchall()}
    conn.rollback()
    return columns, indexes, triggers


ALL_COLUMNS = {
    "id",
    "partition_date",
    "theme",
    "video_path",
    "video_sha256",
    "decision",
    "reviewer",
    "note",
    "decided_at",
    "created_xid",
}


# --- schema ---------------------------------------------------------------------------------------


def test_ensure_schema_is_idempotent(review_db_url: str) -> None:
    conn = postgres.connect(review_db_url)
    try:
        ensure_schema(conn)
        first = _schema(conn)
        row = _record(conn)
        ensure_schema(conn)
        assert _schema(conn) == first
        columns, indexes, triggers = first
        assert columns == ALL_COLUMNS
        assert {"review_decisions_created_xid_idx", "review_decisions_partition_idx"} <= indexes
        assert triggers == {"review_decisions_stamp_xid", "review_decisions_append_only"}
        assert latest_decision(conn, DAY, "coffee") == row
    finally:
        conn.close()


def test_ensure_schema_from_two_connections_at_once(review_db_url: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        conn = postgres.connect(review_db_url)
        try:
            ensure_schema(conn)
        except BaseException as err:
            errors.append(err)
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    conn = postgres.connect(review_db_url)
    try:
        assert _schema(conn)[0] == ALL_COLUMNS
    finally:
        conn.close()


def test_ensure_schema_on_a_current_schema_does_not_wait_for_open_transactions(
    review_conn: Conn, review_db_url: str
) -> None:
    writer = postgres.connect(review_db_url)
    checker = postgres.connect(review_db_url, options="-c lock_timeout=1000")
    try:
        with writer.cursor() as cur:  # a reviewer's insert left uncommitted
            cur.execute(
                "INSERT INTO review_decisions (partition_date, theme, decision, reviewer) "
                "VALUES ('2025-03-14', 'coffee', 'approved', 'ana')"
            )
        started = time.monotonic()
        ensure_schema(checker)  # would raise LockNotAvailable if it took a table lock
        assert time.monotonic() - started < 1.0
        writer.commit()
    finally:
        writer.close()
        checker.close()


def test_ensure_schema_migrates_an_older_table(review_db_url: str) -> None:
    conn = postgres.connect(review_db_url)
    try:
        with conn.cursor() as cur:  # the first version: no video path, no writer's xid, no checks
            cur.execute(
                "CREATE TABLE review_decisions (id bigserial PRIMARY KEY, partition_date date NOT NULL, "
                "theme text NOT NULL, decision text NOT NULL, reviewer text NOT NULL, note text, "
                "decided_at timestamptz NOT NULL DEFAULT now())"
            )
            cur.execute(
                "INSERT INTO review_decisions (partition_date, theme, decision, reviewer, note) "
                "VALUES ('2025-03-13', 'tea', 'rejected', 'bo', 'too dark')"
            )
        conn.commit()

        ensure_schema(conn)

        assert _schema(conn)[0] == ALL_COLUMNS
        old = latest_decision(conn, "2025-03-13", "tea")
        assert old is not None
        assert (old.decision, old.reviewer, old.note, old.video_path, old.video_sha256) == (
            "rejected",
            "bo",
            "too dark",
            None,
            None,
        )
        new = _record(conn, "approved")
        assert new.video_path == "output/review/2025-03-14/coffee.mp4"
        rows, _ = read_new_decisions(conn, None)
        assert [r.id for r in rows] == [old.id, new.id]
        with pytest.raises(psycopg2.errors.CheckViolation), conn.cursor() as cur:
            cur.execute(
                "INSERT INTO review_decisions (partition_date, theme, decision, reviewer) "
                "VALUES ('2025-03-13', 'tea', 'maybe', 'bo')"
            )
        conn.rollback()
    finally:
        conn.close()


# --- writes and reads ------------------------------------------------------------------------------


def test_record_latest_list_and_history(review_conn: Conn) -> None:
    first = _record(review_conn, "rejected", note="logo too small", reviewer="  ana  ")
    assert first.reviewer == "ana"
    assert first.note == "logo too small"
    assert first.partition_date == DAY
    assert first.decided_at.tzinfo is not None
    second = _record(review_conn, "approved", reviewer="bo")
    other_theme = _record(review_conn, "approved", theme="tea")
    other_day = _record(review_conn, "rejected", day=DAY + dt.timedelta(days=1))

    assert latest_decision(review_conn, DAY, "coffee") == second
    assert latest_decision(review_conn, DAY.isoformat(), "tea") == other_theme
    assert latest_decision(review_conn, DAY, "unknown-theme") is None
    assert decision_history(review_conn, DAY, "coffee") == [first, second]

    assert list_decisions(review_conn) == [other_day, other_theme, second, first]
    assert list_decisions(review_conn, partition_date=DAY) == [other_theme, second, first]
    assert list_decisions(review_conn, theme="coffee") == [other_day, second, first]
    assert list_decisions(review_conn, partition_date=DAY, theme="coffee", limit=1) == [second]


def test_latest_decision_prefers_later_decided_at_over_higher_id(review_conn: Conn) -> None:
    early = _record(review_conn, "approved")
    later_by_clock = _record(review_conn, "rejected")
    with review_conn.cursor() as cur:  # a decision entered afterwards for an earlier time
        cur.execute(
            "INSERT INTO review_decisions (partition_date, theme, decision, reviewer, decided_at) "
            "VALUES (%s, 'coffee', 'approved', 'cy', %s) RETURNING id",
            (DAY, early.decided_at - dt.timedelta(hours=1)),
        )
    review_conn.commit()
    assert latest_decision(review_conn, DAY, "coffee") == later_by_clock


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"decision": "maybe"}, "approved, rejected"),
        ({"decision": "APPROVED"}, "approved, rejected"),
        ({"reviewer": ""}, "reviewer is empty"),
        ({"reviewer": "   "}, "reviewer is empty"),
        ({"theme": ""}, "theme is empty"),
        ({"video_path": ""}, "video path is empty"),
        ({"partition_date": "14/03/2025"}, "YYYY-MM-DD"),
        ({"video_sha256": "ABC"}, "64 lowercase hex"),
        # The review page against junk: control characters are refused, never stored (NUL was a 500).
        ({"reviewer": "ana\x00"}, r"reviewer's name contains control characters \(\\x00\)"),
        ({"reviewer": "ana\nlegit row"}, r"control characters \(\\n\)"),
        ({"note": "ok\x00"}, r"note contains control characters \(\\x00\)"),
        ({"note": "ok\x1b[2J"}, r"note contains control characters \(\\x1b\)"),
        ({"theme": "Bad Slug"}, "not a theme slug"),
        ({"partition_date": "0226-11-24"}, "before 2000-01-01"),
    ],
)
def test_invalid_decisions_are_rejected_and_nothing_is_written(
    review_conn: Conn, changes: dict, message: str
) -> None:
    kwargs = {
        "partition_date": DAY,
        "theme": "coffee",
        "decision": "approved",
        "reviewer": "ana",
        "note": None,
        "video_path": "output/review/x.mp4",
    } | changes
    with pytest.raises(InvalidDecision, match=message):
        record_decision(review_conn, **kwargs)
    assert _count(review_conn) == 0


def test_the_table_itself_rejects_bad_rows_from_any_sql_client(review_conn: Conn) -> None:
    for decision, reviewer in [("maybe", "ana"), ("approved", "  ")]:
        with pytest.raises(psycopg2.errors.CheckViolation), review_conn.cursor() as cur:
            cur.execute(
                "INSERT INTO review_decisions (partition_date, theme, decision, reviewer) VALUES (%s, 'coffee', %s, %s)",
                (DAY, decision, reviewer),
            )
        review_conn.rollback()
    assert _count(review_conn) == 0


@pytest.mark.parametrize(
    ("theme", "day", "reviewer", "note"),
    [
        ("Coffee Mugs", DAY, "ana", None),  # not a slug: no partition key can hold it
        ("coffee", dt.date(226, 11, 24), "ana", None),  # a typo'd year before any partition
        ("coffee", DAY, "ana\x1b[31m", None),  # a terminal escape in a name
        ("coffee", DAY, "ana\r#9 forged", None),
        ("coffee", DAY, "ana", "fine\x07bell"),
    ],
)
def test_review_gate_the_table_refuses_what_the_sensor_could_not_apply_from_any_sql_client(
    review_conn: Conn, theme: str, day: dt.date, reviewer: str, note: str | None
) -> None:
    with pytest.raises(psycopg2.errors.CheckViolation), review_conn.cursor() as cur:
        cur.execute(
            "INSERT INTO review_decisions (partition_date, theme, decision, reviewer, note) "
            "VALUES (%s, %s, 'approved', %s, %s)",
            (day, theme, reviewer, note),
        )
    review_conn.rollback()
    assert _count(review_conn) == 0


def test_review_gate_a_note_keeps_its_line_breaks_and_tabs(review_conn: Conn) -> None:
    row = _record(review_conn, note="first line\r\nsecond\tcolumn")
    assert row.note == "first line\nsecond\tcolumn"


def test_review_gate_set_aside_decisions_are_recorded_once_with_their_reason(review_conn: Conn) -> None:
    first, second = _record(review_conn), _record(review_conn, theme="gone")
    set_aside_decisions(review_conn, {second.id: "theme 'gone' is not in the themes config"})
    set_aside_decisions(review_conn, {second.id: "another reason", first.id: "date outside"})
    assert set_aside_reasons(review_conn, [first.id, second.id, 999]) == {
        second.id: "theme 'gone' is not in the themes config",
        first.id: "date outside",
    }
    assert set_aside_reasons(review_conn, []) == {}


def test_review_gate_only_one_tick_holds_the_sensor_lock(review_conn: Conn, review_db_url: str) -> None:
    other = postgres.connect(review_db_url)
    try:
        with sensor_tick_lock(review_conn) as held:
            assert held
            with sensor_tick_lock(other) as held_too:
                assert not held_too
        with sensor_tick_lock(other) as held_after:
            assert held_after
    finally:
        other.close()


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"reviewer": "ana\x85"}, "U+0085"),  # C1 control
        ({"reviewer": "ana\u202egro"}, "U+202E"),  # bidi override ("Trojan Source")
        ({"note": "ok\u2028#9 forged"}, "U+2028"),  # line separator
    ],
)
def test_decision_text_follows_the_one_control_character_rule_of_the_domain(
    review_conn: Conn, changes: dict, named: str
) -> None:
    """The rule is `domain.text_fields`' (what the themes file and the CLI use), not a copy of its own."""
    kwargs = {"reviewer": "ana", "note": None} | changes
    with pytest.raises(InvalidDecision, match=re.escape(f"control characters ({named})")):
        _record(review_conn, **kwargs)
    assert (
        _record(review_conn, reviewer="Zoë 日本 مرحبا", note="line one\n\tline two").reviewer
        == "Zoë 日本 مرحبا"
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"theme": "bad\x1b[2Jslug"}, "not a theme slug"),
        ({"day": "2025-03-14\x1b[1A"}, "YYYY-MM-DD"),
        ({"day": "20250314"}, "YYYY-MM-DD"),  # date.fromisoformat takes it; the domain's parser does not
    ],
)
def test_refusal_messages_print_what_was_typed_with_control_characters_escaped(
    review_conn: Conn, changes: dict, message: str
) -> None:
    with pytest.raises(InvalidDecision, match=message) as refused:
        _record(review_conn, **changes)
    assert "\x1b" not in str(refused.value)
    assert _count(review_conn) == 0


def test_decisions_are_append_only(review_conn: Conn) -> None:
    row = _record(review_conn, "approved")
    with pytest.raises(psycopg2.errors.RestrictViolation, match="append-only"), review_conn.cursor() as cur:
        cur.execute("UPDATE review_decisions SET decision = 'rejected' WHERE id = %s", (row.id,))
    review_conn.rollback()
    assert latest_decision(review_conn, DAY, "coffee") == row


def test_created_xid_is_the_writers_transaction_even_when_a_client_supplies_one(review_conn: Conn) -> None:
    with review_conn.cursor() as cur:
        cur.execute(
            "INSERT INTO review_decisions (partition_date, theme, decision, reviewer, created_xid) "
            "VALUES (%s, 'coffee', 'approved', 'ana', '1') RETURNING created_xid::text, pg_current_xact_id()::text",
            (DAY,),
        )
        stored, writer = cur.fetchone()
    review_conn.commit()
    assert stored == writer != "1"


# --- the sensor's exactly-once read -----------------------------------------------------------------


def test_a_decision_that_commits_late_is_read_exactly_once(review_conn: Conn, review_db_url: str) -> None:
    slow = postgres.connect(review_db_url)
    fast = postgres.connect(review_db_url)
    try:
        with slow.cursor() as cur:  # A takes the lower id and stays uncommitted
            cur.execute(
                "INSERT INTO review_decisions (partition_date, theme, video_path, decision, reviewer) "
                "VALUES (%s, 'coffee', 'a.mp4', 'approved', 'ana') RETURNING id",
                (DAY,),
            )
            (a_id,) = cur.fetchone()
        b = _record(fast, "rejected", theme="tea", reviewer="bo")
        assert a_id < b.id

        rows, cursor = read_new_decisions(review_conn, None)
        assert [r.id for r in rows] == [b.id]

        slow.commit()
        rows, cursor = read_new_decisions(review_conn, cursor)
        assert [(r.id, r.decision, r.video_path) for r in rows] == [(a_id, "approved", "a.mp4")]

        rows, cursor = read_new_decisions(review_conn, cursor)
        assert rows == []
        rows, _ = read_new_decisions(review_conn, cursor)
        assert rows == []
    finally:
        slow.close()
        fast.close()


def test_a_transaction_that_started_before_a_read_and_inserts_after_it_is_not_lost(
    review_conn: Conn, review_db_url: str
) -> None:
    _, cursor = read_new_decisions(review_conn, None)
    slow = postgres.connect(review_db_url)
    try:
        with slow.cursor() as cur:
            cur.execute("SELECT pg_current_xact_id()")  # the writer has its xid already
        middle = _record(review_conn, "approved", theme="tea")
        rows, cursor = read_new_decisions(review_conn, cursor)
        assert [r.id for r in rows] == [middle.id]
        with slow.cursor() as cur:
            cur.execute(
                "INSERT INTO review_decisions (partition_date, theme, decision, reviewer) "
                "VALUES (%s, 'coffee', 'rejected', 'bo') RETURNING id",
                (DAY,),
            )
            (late_id,) = cur.fetchone()
        slow.commit()
        rows, cursor = read_new_decisions(review_conn, cursor)
        assert [r.id for r in rows] == [late_id]
        assert read_new_decisions(review_conn, cursor)[0] == []
    finally:
        slow.close()


def test_rolled_back_decisions_never_appear(review_conn: Conn, review_db_url: str) -> None:
    other = postgres.connect(review_db_url)
    try:
        with other.cursor() as cur:
            cur.execute(
                "INSERT INTO review_decisions (partition_date, theme, decision, reviewer) "
                "VALUES (%s, 'coffee', 'approved', 'ana')",
                (DAY,),
            )
        rows, cursor = read_new_decisions(review_conn, None)
        assert rows == []
        other.rollback()
        kept = _record(review_conn, "rejected")
        rows, cursor = read_new_decisions(review_conn, cursor)
        assert [r.id for r in rows] == [kept.id]
    finally:
        other.close()


def test_two_decisions_for_one_partition_in_one_read_come_in_id_order(review_conn: Conn) -> None:
    first = _record(review_conn, "approved")
    second = _record(review_conn, "rejected", reviewer="bo")
    rows, _ = read_new_decisions(review_conn, None)
    assert rows == [first, second]


def test_cursor_round_trips_and_bad_cursors_are_refused(review_conn: Conn) -> None:
    _record(review_conn)
    _, cursor = read_new_decisions(review_conn, None)
    parsed = DecisionCursor.parse(cursor)
    assert parsed.serialize() == cursor
    assert parsed.xmin > 0
    assert json.loads(cursor) == {"xmin": parsed.xmin, "seen": parsed.seen}
    assert DecisionCursor.parse(None) == DecisionCursor.parse("") == DecisionCursor(xmin=0)

    again, next_cursor = read_new_decisions(review_conn, cursor)
    assert again == []
    assert DecisionCursor.parse(next_cursor).xmin >= parsed.xmin

    for bad in ["42", "not json", '{"xmin": -1}', '{"xmin": 1, "seen": ["x"]}', '{"xmin": 1, "extra": 2}']:
        with pytest.raises(InvalidCursor, match="reset the sensor's cursor"):
            read_new_decisions(review_conn, bad)


def test_read_refuses_a_connection_inside_a_transaction(review_conn: Conn) -> None:
    with review_conn.cursor() as cur:
        cur.execute("SELECT 1")
    with pytest.raises(RuntimeError, match="inside a transaction"):
        read_new_decisions(review_conn, None)
    review_conn.rollback()
    assert read_new_decisions(review_conn, None)[0] == []


def test_read_of_new_rows_among_a_thousand_is_fast_and_uses_the_xid_index(review_conn: Conn) -> None:
    with review_conn.cursor() as cur:
        for chunk in range(4):  # several writer transactions, like several reviewers
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO review_decisions (partition_date, theme, video_path, decision, reviewer) VALUES %s",
                [
                    (
                        DAY - dt.timedelta(days=i % 30),
                        f"theme-{i % 7}",
                        f"v{i}.mp4",
                        ("approved", "rejected")[i % 2],
                        "ana",
                    )
                    for i in range(chunk * 250, (chunk + 1) * 250)
                ],
            )
            review_conn.commit()
        cur.execute("ANALYZE review_decisions")
    review_conn.commit()

    everything, cursor = read_new_decisions(review_conn, None)
    assert len(everything) == 1000
    assert [r.id for r in everything] == sorted(r.id for r in everything)

    new = _record(review_conn, "approved", theme="fresh")
    started = time.perf_counter()
    rows, cursor = read_new_decisions(review_conn, cursor)
    elapsed = time.perf_counter() - started
    assert [r.id for r in rows] == [new.id]
    assert elapsed < 0.5

    state = DecisionCursor.parse(cursor)
    with review_conn.cursor() as cur:
        cur.execute("EXPLAIN " + NEW_DECISIONS_SQL, {"xmin": str(state.xmin), "seen": state.seen})
        plan = "\n".join(r[0] for r in cur.fetchall())
    review_conn.rollback()
    assert "review_decisions_created_xid_idx" in plan, plan


# --- renders: a decision judges the bytes it names -------------------------------------------------

SHA_A, SHA_B = "a" * 64, "b" * 64


def test_latest_decision_for_a_render_ignores_decisions_about_other_renders(review_conn: Conn) -> None:
    old_render = _record(review_conn, "approved")
    record_decision(
        review_conn,
        partition_date=DAY,
        theme="coffee",
        decision="rejected",
        reviewer="bo",
        video_path="x.mp4",
        video_sha256=SHA_A,
    )
    on_a = latest_decision(review_conn, DAY, "coffee", video_sha256=SHA_A)
    assert on_a is not None and on_a.decision == "rejected" and on_a.video_sha256 == SHA_A
    # A new render (B) has no decision of its own: only the hash-less one (any render) counts.
    assert latest_decision(review_conn, DAY, "coffee", video_sha256=SHA_B) == old_render
    assert latest_decision(review_conn, DAY, "coffee") == on_a


def test_the_table_refuses_a_malformed_hash_from_any_sql_client(review_conn: Conn) -> None:
    with pytest.raises(psycopg2.errors.CheckViolation), review_conn.cursor() as cur:
        cur.execute(
            "INSERT INTO review_decisions (partition_date, theme, decision, reviewer, video_sha256) "
            "VALUES (%s, 'coffee', 'approved', 'ana', 'not-a-hash')",
            (DAY,),
        )
    review_conn.rollback()
    assert _count(review_conn) == 0


# --- the grouped read the sensor uses ---------------------------------------------------------------


def test_read_new_partitions_folds_decisions_per_video_exactly_once(
    review_conn: Conn, review_db_url: str
) -> None:
    a1 = _record(review_conn, "approved")
    a2 = _record(review_conn, "rejected", reviewer="bo")
    t1 = _record(review_conn, "approved", theme="tea")
    groups, cursor = read_new_partitions(review_conn, None)
    assert [(g.theme, g.count, g.max_id, g.ids) for g in groups] == [
        ("coffee", 2, a2.id, [a2.id, a1.id]),
        ("tea", 1, t1.id, [t1.id]),
    ]
    assert read_new_partitions(review_conn, cursor)[0] == []

    slow = postgres.connect(review_db_url)
    try:
        with slow.cursor() as cur:  # takes the lower id, commits after a later one was read
            cur.execute(
                "INSERT INTO review_decisions (partition_date, theme, decision, reviewer) "
                "VALUES (%s, 'coffee', 'approved', 'cy') RETURNING id",
                (DAY,),
            )
            (late_id,) = cur.fetchone()
        fresh = _record(review_conn, "rejected", theme="tea")
        groups, cursor = read_new_partitions(review_conn, cursor)
        assert [(g.theme, g.ids) for g in groups] == [("tea", [fresh.id])]
        slow.commit()
        groups, cursor = read_new_partitions(review_conn, cursor)
        assert [(g.theme, g.ids) for g in groups] == [("coffee", [late_id])]
        assert read_new_partitions(review_conn, cursor)[0] == []
    finally:
        slow.close()


def test_read_new_partitions_caps_the_ids_it_carries(review_conn: Conn) -> None:
    from shortvid_assets.storage.review_decisions import MAX_IDS_PER_PARTITION

    with review_conn.cursor() as cur:
        cur.execute(
            "INSERT INTO review_decisions (partition_date, theme, decision, reviewer) "
            "SELECT %s, 'coffee', 'approved', 'ana' FROM generate_series(1, 500)",
            (DAY,),
        )
    review_conn.commit()
    (group,), _ = read_new_partitions(review_conn, None)
    assert group.count == 500
    assert len(group.ids) == MAX_IDS_PER_PARTITION and group.ids[0] == group.max_id


def test_many_interleaved_writers_each_decision_read_exactly_once(
    review_conn: Conn, review_db_url: str
) -> None:
    """Writers commit in random order while a reader polls: the union of reads is every committed id, once."""
    import random

    rng = random.Random(7)
    writers = [postgres.connect(review_db_url) for _ in range(4)]
    committed: list[int] = []
    read_ids: list[int] = []
    cursor = None
    try:
        open_ids: dict[int, list[int]] = {i: [] for i in range(len(writers))}
        for step in range(120):
            w = rng.randrange(len(writers))
            action = rng.random()
            if action < 0.6:
                with writers[w].cursor() as cur:
                    cur.execute(
                        "INSERT INTO review_decisions (partition_date, theme, decision, reviewer) "
                        "VALUES (%s, %s, 'approved', 'ana') RETURNING id",
                        (DAY, f"t{step % 5}"),
                    )
                    open_ids[w].append(cur.fetchone()[0])
            elif action < 0.85:
                writers[w].commit()
                committed += open_ids[w]
                open_ids[w] = []
            else:
                writers[w].rollback()
                open_ids[w] = []
            if step % 3 == 0:
                rows, cursor = read_new_decisions(review_conn, cursor)
                read_ids += [r.id for r in rows]
        for w, conn in enumerate(writers):
            conn.commit()
            committed += open_ids[w]
        rows, cursor = read_new_decisions(review_conn, cursor)
        read_ids += [r.id for r in rows]
    finally:
        for conn in writers:
            conn.close()
    assert len(read_ids) == len(set(read_ids)), "a decision was read twice"
    assert sorted(read_ids) == sorted(committed), "a committed decision was lost"
    assert len(committed) > 20


def test_first_read_of_a_large_history_folds_it_in_the_server(review_conn: Conn) -> None:
    with review_conn.cursor() as cur:
        cur.execute(
            "INSERT INTO review_decisions (partition_date, theme, decision, reviewer) "
            "SELECT DATE '2025-01-01' + (i % 50), 'theme-' || (i % 4), 'approved', 'ana' "
            "FROM generate_series(1, 50000) AS i"
        )
        cur.execute("ANALYZE review_decisions")
    review_conn.commit()
    started = time.perf_counter()
    groups, cursor = read_new_partitions(review_conn, None)
    elapsed = time.perf_counter() - started
    assert len(groups) == 100  # (i % 50, i % 4) takes lcm(50, 4) = 100 distinct values
    assert sum(g.count for g in groups) == 50000
    assert elapsed < 5.0
    assert read_new_partitions(review_conn, cursor)[0] == []
    state = DecisionCursor.parse(cursor)
    with review_conn.cursor() as cur:
        cur.execute("EXPLAIN " + NEW_PARTITIONS_SQL, {"xmin": str(state.xmin), "seen": state.seen})
        plan = "\n".join(r[0] for r in cur.fetchall())
    review_conn.rollback()
    assert "review_decisions_created_xid_idx" in plan, plan
