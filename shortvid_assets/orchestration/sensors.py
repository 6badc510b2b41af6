"""Sensors: keep theme partitions in sync with the config; apply human review decisions."""

import dagster as dg
import psycopg2

from shortvid_assets import clock, settings
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
    def review_decisions_sensor(
        context: dg.SensorEvaluationContext, review_db: ReviewDatabase, paths: ShortvidPaths
    ):
        """Launches a review_status run for every video with new decisions in Postgres.

        Exactly once: `read_new_partitions` returns each committed decision once across ticks, also
        when reviewers' transactions commit out of id order (see `read_new_decisions` for why a
        max-id cursor would lose late commits), and the new cursor is saved only with the tick's
        run requests. Several decisions for one video in a tick become one run, keyed by the set
        of decisions it applies (`queue.ReviewRun.run_key`); the run applies the latest decision
        and every decision stays in the table's history. A later decision gets a new run key, so
        it is never dropped as a duplicate; a tick evaluated again from the same stored cursor asks
        for the same keys (launched once) unless a late commit joined a video's set, which then
        gets a new key and is launched too.

        One bad row never blocks the others: decisions about a theme not in the config or a date
        outside the daily partitions are set aside in the same tick (logged with ids and reason,
        recorded in `review_decisions_set_aside`), and the tick goes on with the rest. A theme that
        is in the config but has no partition yet gets it in the same tick.

        A tick that cannot reach Postgres raises: Dagster keeps the old cursor, and the next tick
        reads the same decisions. A tick that finds another daemon's tick holding the sensor's
        advisory lock skips without moving the cursor. At most `queue.MAX_RUNS_PER_TICK` runs are
        asked per tick; the other videos wait in the cursor for the next ticks.
        """
        state = queue.ReviewSensorCursor.parse(context.cursor)
        themes = paths.themes()
        partitions = queue.Partitions(
            themes=set(themes), first_day=settings.start_date(), last_day=clock.yesterday()
        )
        try:
            with review_db.connection() as conn, review_decisions.sensor_tick_lock(conn) as held:
                if not held:
                    return dg.SkipReason(
                        "another review sensor tick holds the lock in PostgreSQL (a second daemon on this "
                        "database?); this tick skipped and kept its cursor"
                    )
                new, read_cursor = review_decisions.read_new_partitions(conn, state.read)
                runs, next_state, set_aside = queue.plan_review_runs(
                    state, new, read_cursor, queue.MAX_RUNS_PER_TICK, partitions
                )
                for entry in set_aside:
                    context.log.warning(entry.log_line)
                _record_set_aside(context, conn, set_aside)
        except psycopg2.Error as err:
            reason = " ".join(str(err).split()) or type(err).__name__
            raise postgres.DatabaseUnavailable(
                f"The review sensor lost PostgreSQL at {postgres.describe_url(review_db.resolved_url())} while "
                f"reading decisions: {reason}. The cursor was not moved; the next tick reads the same decisions."
            ) from None
        requests = [
            dg.RunRequest(run_key=r.run_key, partition_key=date_theme_key(r.day, r.theme), tags=r.tags)
            for r in runs
        ]
        cursor = next_state.model_dump_json()
        set_aside_text = f"; {len(set_aside)} videos' decisions set aside (see the log)" if set_aside else ""
        if not requests:
            context.update_cursor(cursor)
            return dg.SkipReason(f"no new review decisions to apply{set_aside_text}")
        waiting = (
            f"; {len(next_state.pending)} more videos wait for the next ticks" if next_state.pending else ""
        )
        context.log.info(f"{len(requests)} videos with new review decisions{waiting}{set_aside_text}")
        # A theme added to the config since the themes sensor last ran gets its partition with the run.
        missing = missing_theme_partitions(context.instance, {r.theme for r in runs})
        return dg.SensorResult(
            run_requests=requests,
            cursor=cursor,
            dynamic_partitions_requests=[theme_partitions.build_add_request(missing)] if missing else None,
        )

    return review_decisions_sensor


def _record_set_aside(context: dg.SensorEvaluationContext, conn, set_aside: list[queue.SetAside]) -> None:
    """Record set-aside decisions for `review list` and the page; a failure here never blocks the tick."""
    reasons = {decision_id: entry.reason for entry in set_aside for decision_id in entry.ids}
    try:
        review_decisions.set_aside_decisions(conn, reasons)
    except psycopg2.Error as err:
        context.log.warning(
            f"could not record {len(reasons)} set-aside review decisions ({' '.join(str(err).split())}); "
            "they stay set aside in this tick's log"
        )
