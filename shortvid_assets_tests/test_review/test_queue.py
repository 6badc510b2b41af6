"""Protects the review sensor's pure planner: which runs a tick asks for, under which keys, what
waits in the cursor, and which decisions are set aside (with the reason) so they never block the
others — as tables of cases, without Postgres or Dagster."""

from __future__ import annotations

import datetime as dt

import pytest

from shortvid_assets.review.queue import Partitions, ReviewRun, ReviewSensorCursor, plan_review_runs
from shortvid_assets.storage.review_decisions import InvalidCursor, PartitionDecisions

DAY = dt.date(2026, 11, 24)


def batch(theme: str, *ids: int) -> PartitionDecisions:
    return PartitionDecisions(
        partition_date=DAY, theme=theme, count=len(ids), max_id=max(ids), ids=sorted(ids, reverse=True)
    )


@pytest.mark.parametrize(
    ("pending", "new", "limit", "launched", "waiting"),
    [
        ([], [], 10, [], []),
        ([], [batch("a", 1)], 10, [("a", 1, 1)], []),
        # Oldest newest-id first; the rest wait in the cursor.
        ([], [batch("b", 5), batch("a", 3), batch("c", 9)], 2, [("a", 3, 1), ("b", 5, 1)], ["c"]),
        # A queued video merges with new decisions on it: one run, every decision counted.
        ([(DAY.isoformat(), "a", 4, 2, [4, 2])], [batch("a", 7)], 10, [("a", 7, 3)], []),
        # A cursor from before ids were queued (4-tuples) still plans.
        ([(DAY.isoformat(), "a", 4, 2)], [], 10, [("a", 4, 2)], []),
    ],
)
def test_plan_review_runs(pending, new, limit, launched, waiting):
    runs, cursor, _ = plan_review_runs(ReviewSensorCursor(pending=pending), new, "read-2", limit)
    assert [(r.theme, r.newest_id, r.count) for r in runs] == launched
    assert [entry[1] for entry in cursor.pending] == waiting
    assert cursor.read == "read-2"


def test_a_late_commit_read_from_the_same_cursor_gets_a_new_run_key():
    """The same stored cursor evaluated twice, with an older id committing in between."""
    first, _, _ = plan_review_runs(ReviewSensorCursor(read="c0"), [batch("a", 5, 6)], "c1", 10)
    again, _, _ = plan_review_runs(ReviewSensorCursor(read="c0"), [batch("a", 4, 5, 6)], "c1", 10)
    assert first[0].newest_id == again[0].newest_id == 6
    assert first[0].run_key != again[0].run_key
    assert again[0].tags["shortvid/decision_ids"] == "4,5,6"


def test_the_same_decisions_always_get_the_same_run_key():
    runs_1, _, _ = plan_review_runs(ReviewSensorCursor(read="c0"), [batch("a", 5, 6)], "c1", 10)
    runs_2, _, _ = plan_review_runs(ReviewSensorCursor(read="c0"), [batch("a", 6, 5)], "c1", 10)
    assert runs_1[0].run_key == runs_2[0].run_key
    assert runs_1[0].run_key.startswith("review-decision-6-")


def test_queued_ids_stay_bounded():
    many = batch("a", *range(100, 160))
    _, cursor, _ = plan_review_runs(ReviewSensorCursor(), [batch("b", 1), many], "c", 1)
    _, cursor, _ = plan_review_runs(cursor, [batch("a", 200)], "c", 0)
    (queued,) = cursor.pending
    assert queued[:4] == (DAY.isoformat(), "a", 200, 61)
    assert len(queued[4]) == 20 and max(queued[4]) == 200


@pytest.mark.parametrize("raw", ["not json", '{"read": 1, "pending": "x"}', '{"unknown": 1}'])
def test_a_cursor_this_sensor_did_not_write_is_refused(raw):
    with pytest.raises(InvalidCursor, match="reset the sensor's cursor"):
        ReviewSensorCursor.parse(raw)


def test_a_read_cursor_from_before_the_queue_is_kept():
    old = '{"xmin":12,"seen":[3]}'
    assert ReviewSensorCursor.parse(old) == ReviewSensorCursor(read=old)


def test_a_review_run_tags_name_its_decisions():
    run = ReviewRun(DAY.isoformat(), "a", 9, 3, (9, 7, 2))
    assert run.tags == {
        "shortvid/decision_id": "9",
        "shortvid/decision_count": "3",
        "shortvid/decision_ids": "2,7,9",
    }


# --- the review gate: one bad row must not stop every later decision ---------------------------------

PARTITIONS = Partitions(themes={"a", "b"}, first_day=dt.date(2026, 1, 1), last_day=dt.date(2026, 12, 2))


def batch_on(day: dt.date, theme: str, *ids: int) -> PartitionDecisions:
    return PartitionDecisions(
        partition_date=day, theme=theme, count=len(ids), max_id=max(ids), ids=sorted(ids, reverse=True)
    )


@pytest.mark.parametrize(
    ("new", "launched", "set_aside"),
    [
        # A theme not (or no longer) in the config: set aside, the valid video still launches.
        ([batch("gone", 1), batch("a", 2)], ["a"], [("gone", (1,), "'gone' is not in the themes config")]),
        # A date before the first partition, and one after the last complete day.
        (
            [batch_on(dt.date(2019, 5, 1), "a", 3), batch("b", 4), batch_on(dt.date(2099, 1, 1), "a", 5)],
            ["b"],
            [
                ("a", (3,), "outside the daily partitions"),
                ("a", (5,), "outside the daily partitions"),
            ],
        ),
        # Every row bad: nothing launches, everything is set aside, nothing stays queued.
        ([batch("x", 7, 8)], [], [("x", (7, 8), "'x' is not in the themes config")]),
        ([batch("a", 9)], ["a"], []),
    ],
)
def test_review_gate_sets_aside_what_no_run_can_apply_and_plans_the_rest(new, launched, set_aside):
    runs, cursor, aside = plan_review_runs(ReviewSensorCursor(), new, "c1", 10, PARTITIONS)
    assert [r.theme for r in runs] == launched
    assert [(s.theme, s.ids) for s in aside] == [(theme, ids) for theme, ids, _ in set_aside]
    for entry, (_, _, reason) in zip(aside, set_aside, strict=True):
        assert reason in entry.reason
        assert all(f"#{i}" in entry.log_line for i in entry.ids) and entry.reason in entry.log_line
    assert cursor.pending == [] and cursor.read == "c1"


def test_review_gate_sets_aside_a_queued_video_whose_theme_left_the_config():
    _, cursor, _ = plan_review_runs(ReviewSensorCursor(), [batch("a", 1), batch("b", 2)], "c1", 1, PARTITIONS)
    assert [entry[1] for entry in cursor.pending] == ["b"]
    only_a = Partitions(themes={"a"}, first_day=PARTITIONS.first_day, last_day=PARTITIONS.last_day)
    runs, cursor, aside = plan_review_runs(cursor, [], "c2", 10, only_a)
    assert runs == [] and cursor.pending == []
    assert [(s.theme, s.ids, s.count) for s in aside] == [("b", (2,), 1)]


def test_review_gate_log_line_counts_ids_it_does_not_carry():
    many = batch("gone", *range(1, 31))
    _, _, (aside,) = plan_review_runs(ReviewSensorCursor(), [many], "c", 10, PARTITIONS)
    assert len(aside.ids) == 20 and aside.count == 30
    assert "and 10 older" in aside.log_line
