"""Publishing starts by itself after an approval (when enabled), and our videos' performance is read daily.

Why a sensor and not an automation condition: the sensor reads `review_status` materializations and
asks for a publish run only where the status is `approved`, keyed by that materialization, so each
approval applied leads to one run. An eager automation condition on `published_video` would fire after
every `review_status` (pending and rejected too) and those runs would fail by design; it also needs the
automation daemon and cannot be switched off per deployment by one variable. The sensor starts
RUNNING only when `SHORTVID_PUBLISH` names a platform, skips every tick while publishing is off, and
its toggle in the UI stops it at any time. `published_video` re-checks the decision in Postgres: the
sensor only proposes, the asset decides.

On its first tick (no cursor) the sensor looks back one day only: turning publishing on does not
upload every video approved in the past; publish those by materializing `published_video`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import dagster as dg
from pydantic import BaseModel, ConfigDict

from shortvid_assets import clock, settings
from shortvid_assets.orchestration.schedules import last_complete_day
from shortvid_assets.partitions import date_theme_key
from shortvid_assets.resources.publishing import Publisher

PUBLISH_SENSOR = "publish_after_approval_sensor"
PERFORMANCE_SCHEDULE = "video_performance_schedule"
DEFAULT_PERFORMANCE_CRON = "30 0 * * *"
FIRST_TICK_LOOKBACK = timedelta(days=1)
MAX_RECORDS_PER_TICK = 200


class PublishSensorCursor(BaseModel):
    """The last review_status materialization the sensor has read (its event storage id)."""

    model_config = ConfigDict(extra="forbid")

    after_storage_id: int

    @classmethod
    def parse(cls, cursor: str | None) -> PublishSensorCursor | None:
        if not cursor:
            return None
        try:
            return cls.model_validate_json(cursor)
        except ValueError:
            raise ValueError(
                f"publish sensor cursor {cursor[:80]!r} is not one this sensor wrote: reset the sensor's cursor"
            ) from None


@dataclass(frozen=True)
class ReviewOutcome:
    """One review_status materialization: which video, what status, which render, when."""

    storage_id: int
    day: str
    theme: str
    status: str
    sha256: str | None
    timestamp: float


@dataclass(frozen=True)
class PublishRun:
    day: str
    theme: str
    storage_id: int
    sha256: str

    @property
    def run_key(self) -> str:
        """One run per approval applied (its materialization), never per partition alone."""
        return f"publish-{self.day}|{self.theme}-{self.storage_id}"

    @property
    def tags(self) -> dict[str, str]:
        return {"shortvid/review_status_event": str(self.storage_id), "shortvid/video_sha256": self.sha256}


def plan_publish_runs(outcomes: list[ReviewOutcome], *, not_before: float | None) -> list[PublishRun]:
    """The publish runs for newly applied review outcomes: the newest per video, only approved renders.

    A video approved and then rejected within the same batch gets no run (its newest outcome counts);
    `not_before` (a POSIX time) drops older outcomes on a first tick.
    """
    newest: dict[tuple[str, str], ReviewOutcome] = {}
    for outcome in sorted(outcomes, key=lambda o: o.storage_id):
        if not_before is not None and outcome.timestamp < not_before:
            continue
        newest[(outcome.day, outcome.theme)] = outcome
    return [
        PublishRun(o.day, o.theme, o.storage_id, o.sha256)
        for o in sorted(newest.values(), key=lambda o: o.storage_id)
        if o.status == "approved" and o.sha256
    ]


def _outcome(record: dg.EventLogRecord) -> ReviewOutcome | None:
    materialization = record.asset_materialization
    if materialization is None or materialization.partition is None:
        return None
    day, _, theme = materialization.partition.partition("|")  # date × theme keys read "<date>|<theme>"
    if not theme:
        return None
    metadata = materialization.metadata
    status = metadata.get("status")
    sha = metadata.get("video_sha256")
    return ReviewOutcome(
        storage_id=record.storage_id,
        day=day,
        theme=theme,
        status=str(status.value) if status is not None else "",
        sha256=str(sha.value) if sha is not None else None,
        timestamp=record.timestamp,
    )


def publishing_on() -> bool:
    """Whether SHORTVID_PUBLISH names a platform (the sensor and schedule then start RUNNING)."""
    return (settings.text("SHORTVID_PUBLISH", "off") or "off").lower() != "off"


def build_publish_sensor(publish_job: dg.JobDefinition | dg.UnresolvedAssetJobDefinition, *, enabled: bool):
    """The sensor launching `publish_job` (published_video) for each approval applied by review_status."""

    @dg.sensor(
        name=PUBLISH_SENSOR,
        job=publish_job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING if enabled else dg.DefaultSensorStatus.STOPPED,
    )
    def publish_after_approval_sensor(context: dg.SensorEvaluationContext, publisher: Publisher):
        """Asks for a published_video run for every video whose approval review_status has just applied."""
        if not publisher.enabled:
            return dg.SkipReason("publishing is off (SHORTVID_PUBLISH=off): no video is uploaded")
        cursor = PublishSensorCursor.parse(context.cursor)
        not_before = None
        if cursor is None:
            not_before = (clock.now() - FIRST_TICK_LOOKBACK).timestamp()
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey("review_status"),
                after_storage_id=cursor.after_storage_id if cursor else None,
            ),
            limit=MAX_RECORDS_PER_TICK,
            ascending=True,
        ).records
        if not records:
            return dg.SkipReason("no review outcomes since the last tick")
        outcomes = [o for o in (_outcome(r) for r in records) if o is not None]
        runs = plan_publish_runs(outcomes, not_before=not_before)
        next_cursor = PublishSensorCursor(
            after_storage_id=max(r.storage_id for r in records)
        ).model_dump_json()
        if not runs:
            context.update_cursor(next_cursor)
            return dg.SkipReason(f"{len(outcomes)} review outcomes, none a new approval")
        context.log.info(
            f"publishing {len(runs)} approved videos: {', '.join(f'{r.day}|{r.theme}' for r in runs)}"
        )
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(run_key=r.run_key, partition_key=date_theme_key(r.day, r.theme), tags=r.tags)
                for r in runs
            ],
            cursor=next_cursor,
        )

    return publish_after_approval_sensor


def build_performance_schedule(performance_job, *, cron: str, enabled: bool) -> dg.ScheduleDefinition:
    """Reads our published videos' statistics for the latest complete UTC day, once a day."""

    @dg.schedule(
        name=PERFORMANCE_SCHEDULE,
        job=performance_job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING if enabled else dg.DefaultScheduleStatus.STOPPED,
    )
    def video_performance_schedule(context: dg.ScheduleEvaluationContext):
        """The latest complete UTC day's performance snapshot of every published video."""
        scheduled = context.scheduled_execution_time or clock.now()
        day = last_complete_day(scheduled)
        return dg.RunRequest(run_key=f"performance-{day}", partition_key=day)

    return video_performance_schedule
