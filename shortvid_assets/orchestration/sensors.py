"""Sensors: keep theme partitions in sync with the config; apply human review decisions."""

import dagster as dg
import psycopg2

from shortvid_assets.partitions import date_theme_key, missing_theme_partitions, theme_partitions
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.review import queue
from shortvid_assets.storage import postgres, review_decisions


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def themes_sensor(context: dg.SensorEvaluationContext, paths: ShortvidPaths):
    """Adds a theme partition for every new slug in the themes file (RUN-4)."""
    new = missing_theme_partitions(context.instance, paths.themes())
    if not new:
        return dg.SkipReason("every theme in the config has its partition")
    context.log.info(f"adding theme partitions: {', '.join(new)}")
    return dg.SensorResult(dynamic_partitions_requests=[theme_partitions.build_add_request(new)])


def build_review_decisions_sensor(review_job) -> dg.SensorDefinition:
    """The review sensor, launching `review_job` (the review_status job) for videos with new decisions."""

    @dg.sensor(job=review_job, minimum_interval_seconds=15, default_status=dg.DefaultSensorStatus.RUNNING)
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
        tick reads the same decisions. At most `queue.MAX_RUNS_PER_TICK` runs are asked per tick; the
        other videos wait in the cursor for the next ticks.
        """
        state = queue.ReviewSensorCursor.parse(context.cursor)
        try:
            with review_db.connection() as conn:
                new, read_cursor = review_decisions.read_new_partitions(conn, state.read)
        except psycopg2.Error as err:
            reason = " ".join(str(err).split()) or type(err).__name__
            raise postgres.DatabaseUnavailable(
                f"The review sensor lost PostgreSQL at {postgres.describe_url(review_db.resolved_url())} while "
                f"reading decisions: {reason}. The cursor was not moved; the next tick reads the same decisions."
            ) from None
        runs, next_state = queue.plan_review_runs(state, new, read_cursor, queue.MAX_RUNS_PER_TICK)
        requests = [
            dg.RunRequest(run_key=r.run_key, partition_key=date_theme_key(r.day, r.theme), tags=r.tags)
            for r in runs
        ]
        cursor = next_state.model_dump_json()
        if not requests:
            context.update_cursor(cursor)
            return dg.SkipReason("no new review decisions")
        waiting = (
            f"; {len(next_state.pending)} more videos wait for the next ticks" if next_state.pending else ""
        )
        context.log.info(f"{len(requests)} videos with new review decisions{waiting}")
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    return review_decisions_sensor
