"""Sensors: keep theme partitions in sync with the config; apply human review decisions."""

from collections import defaultdict

import dagster as dg

from shortvid_assets import review_store
from shortvid_assets.jobs import review_status_job
from shortvid_assets.partitions import date_theme_key, theme_partitions
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase


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


@dg.sensor(job=review_status_job, minimum_interval_seconds=15, default_status=dg.DefaultSensorStatus.RUNNING)
def review_decisions_sensor(context: dg.SensorEvaluationContext, review_db: ReviewDatabase):
    """Launches a review_status run for every video with new decisions in Postgres.

    `read_new_decisions` returns each committed decision exactly once across ticks (see its
    docstring for why a plain max-id cursor would lose late commits). Decisions for the same
    video in one tick become one run keyed by the newest id: the run applies the latest
    decision and every decision stays in the table's history. A tick that cannot reach
    Postgres fails and keeps its cursor, so nothing is lost while the database is down.
    """
    with review_db.connection() as conn:
        decisions, cursor = review_store.read_new_decisions(conn, context.cursor)
    if not decisions:
        context.update_cursor(cursor)
        return dg.SkipReason("no new review decisions")
    by_video: dict[tuple[str, str], list] = defaultdict(list)
    for decision in decisions:
        by_video[(decision.partition_date.isoformat(), decision.theme)].append(decision)
    requests = [
        dg.RunRequest(
            run_key=f"review-decision-{max(d.id for d in batch)}",
            partition_key=date_theme_key(day, theme),
            tags={"shortvid/decision_ids": ",".join(str(d.id) for d in batch)},
        )
        for (day, theme), batch in sorted(by_video.items())
    ]
    return dg.SensorResult(run_requests=requests, cursor=cursor)
