"""Sensors: keep theme partitions in sync with the config; apply human review decisions."""

import json

import dagster as dg
import psycopg2
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shortvid_assets.orchestration.jobs import review_status_job
from shortvid_assets.partitions import date_theme_key, theme_partitions
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.storage import postgres, review_decisions


def missing_theme_partitions(instance: dg.DagsterInstance, paths: ShortvidPaths) -> list[str]:
    """Theme slugs in the config that have no partition yet."""
    known = set(instance.get_dynamic_partitions(theme_partitions.name))
    return sorted(set(paths.themes()) - known)


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def themes_sensor(context: dg.SensorEvaluationContext, paths: ShortvidPaths):
    """Adds a theme partition for every new slug in the themes file (RUN-4)."""
    new = missing_theme_partitions(context.instance, paths)
    if not new:
        return dg.SkipReason("every theme in the config has its partition")
    context.log.info(f"adding theme partitions: {', '.join(new)}")
    return dg.SensorResult(dynamic_partitions_requests=[theme_partitions.build_add_request(new)])


# A first tick on a long history may find thousands of videos: launch them over several ticks.
MAX_RUNS_PER_TICK = 100


class ReviewSensorCursor(BaseModel):
    """The review sensor's cursor: where the exactly-once read stopped, and videos read but not yet launched."""

    model_config = ConfigDict(extra="forbid")

    read: str | None = None
    pending: list[tuple[str, str, int, int]] = Field(
        default_factory=list, description="(date, theme, newest decision id, decisions) still to launch."
    )

    @classmethod
    def parse(cls, cursor: str | None) -> "ReviewSensorCursor":
        if not cursor:
            return cls()
        try:
            raw = json.loads(cursor)
        except ValueError:
            raw = None
        if isinstance(raw, dict) and "xmin" in raw:  # a cursor from before the pending queue
            return cls(read=cursor)
        try:
            return cls.model_validate(raw)
        except ValidationError:
            raise review_decisions.InvalidCursor(
                f"Review sensor cursor {cursor[:80]!r} is not one this sensor wrote; reset the sensor's "
                "cursor to start from the first decision again."
            ) from None


def plan_review_runs(
    previous: ReviewSensorCursor, new: list[review_decisions.PartitionDecisions], read_cursor: str, limit: int
) -> tuple[list[dg.RunRequest], ReviewSensorCursor]:
    """Merge new decisions into the queue, launch the oldest `limit` videos, keep the rest queued."""
    queue = {(day, theme): (max_id, count) for day, theme, max_id, count in previous.pending}
    for batch in new:
        key = (batch.partition_date.isoformat(), batch.theme)
        max_id, count = queue.get(key, (0, 0))
        queue[key] = (max(max_id, batch.max_id), count + batch.count)
    ordered = sorted(queue.items(), key=lambda item: item[1][0])
    ids_by_key = {(b.partition_date.isoformat(), b.theme): b.ids for b in new}
    requests = [
        dg.RunRequest(
            # The newest decision id, never the partition key: a later decision is a new run.
            run_key=f"review-decision-{max_id}",
            partition_key=date_theme_key(day, theme),
            tags={
                "shortvid/decision_id": str(max_id),
                "shortvid/decision_count": str(count),
                "shortvid/decision_ids": ",".join(
                    str(i) for i in sorted(ids_by_key.get((day, theme), [max_id]))
                ),
            },
        )
        for (day, theme), (max_id, count) in ordered[:limit]
    ]
    rest = [(day, theme, max_id, count) for (day, theme), (max_id, count) in ordered[limit:]]
    return requests, ReviewSensorCursor(read=read_cursor, pending=rest)


@dg.sensor(job=review_status_job, minimum_interval_seconds=15, default_status=dg.DefaultSensorStatus.RUNNING)
def review_decisions_sensor(context: dg.SensorEvaluationContext, review_db: ReviewDatabase):
    """Launches a review_status run for every video with new decisions in Postgres.

    Exactly once: `read_new_partitions` returns each committed decision once across ticks, also
    when reviewers' transactions commit out of id order (see `read_new_decisions` for why a
    max-id cursor would lose late commits), and the new cursor is saved only with the tick's
    run requests. Several decisions for one video in a tick become one run keyed by the newest
    id; the run applies the latest decision and every decision stays in the table's history.
    A later decision gets a new run key, so it is never dropped as a duplicate, and a tick
    evaluated twice from the same cursor asks for the same run keys, which Dagster launches
    once. A tick that cannot reach Postgres raises: Dagster keeps the old cursor, and the next
    tick reads the same decisions. At most MAX_RUNS_PER_TICK runs are asked per tick; the
    other videos wait in the cursor for the next ticks.
    """
    state = ReviewSensorCursor.parse(context.cursor)
    try:
        with review_db.connection() as conn:
            new, read_cursor = review_decisions.read_new_partitions(conn, state.read)
    except psycopg2.Error as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise postgres.DatabaseUnavailable(
            f"The review sensor lost PostgreSQL at {postgres.describe_url(review_db.resolved_url())} while "
            f"reading decisions: {reason}. The cursor was not moved; the next tick reads the same decisions."
        ) from None
    requests, next_state = plan_review_runs(state, new, read_cursor, MAX_RUNS_PER_TICK)
    cursor = next_state.model_dump_json()
    if not requests:
        context.update_cursor(cursor)
        return dg.SkipReason("no new review decisions")
    waiting = f"; {len(next_state.pending)} more videos wait for the next ticks" if next_state.pending else ""
    context.log.info(f"{len(requests)} videos with new review decisions{waiting}")
    return dg.SensorResult(run_requests=requests, cursor=cursor)
