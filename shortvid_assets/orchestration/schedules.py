"""Daily schedules (TREND-5): the day's trends, then that day's video for every theme.

Both target the latest complete UTC day (the daily partitions are UTC), whatever time zone
they tick in. Configuration, read when the code location loads:
- SHORTVID_SCHEDULE_TIMEZONE: IANA zone the crons are read in (default UTC).
- SHORTVID_TRENDS_CRON (default "0 1 * * *") and SHORTVID_VIDEO_CRON (default "0 3 * * *").
- SHORTVID_SCHEDULES: both start stopped, so a development instance never runs on its own;
  "on" starts both, or a comma-separated list of schedule names starts those. The UI's toggle
  overrides the default either way.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta

import dagster as dg
from dagster._utils.schedules import is_valid_cron_string

from shortvid_assets import settings
from shortvid_assets.orchestration.jobs import daily_trends_job, daily_video_job
from shortvid_assets.partitions import daily_partitions, date_theme_key, theme_partitions

TRENDS_SCHEDULE = "daily_trends_schedule"
VIDEO_SCHEDULE = "daily_video_schedule"
DEFAULT_TRENDS_CRON = "0 1 * * *"
DEFAULT_VIDEO_CRON = "0 3 * * *"


class InvalidScheduleConfig(settings.SettingError):
    """A schedule environment variable with a value the schedules cannot use."""


def last_complete_day(scheduled: datetime) -> str:
    """The latest UTC day that has ended at `scheduled` (the newest daily partition)."""
    return (scheduled.astimezone(UTC) - timedelta(days=1)).date().isoformat()


def started_schedules(value: str | None) -> set[str]:
    """Names of the schedules SHORTVID_SCHEDULES starts: "on" means all, a list names some."""
    value = (value or "").strip().lower()
    if value in {"1", "on", "true", "yes", "all"}:
        return {TRENDS_SCHEDULE, VIDEO_SCHEDULE}
    if value in {"", "0", "off", "false", "no"}:
        return set()
    names = {name.strip() for name in value.split(",") if name.strip()}
    unknown = names - {TRENDS_SCHEDULE, VIDEO_SCHEDULE}
    if unknown:
        raise InvalidScheduleConfig(
            f"SHORTVID_SCHEDULES names unknown schedules {sorted(unknown)}: use on, off, or a list of "
            f"{TRENDS_SCHEDULE}, {VIDEO_SCHEDULE}"
        )
    return names


def _checked(timezone: str, crons: dict[str, str]) -> None:
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidScheduleConfig(
            f"SHORTVID_SCHEDULE_TIMEZONE={timezone!r} is not an IANA time zone name (e.g. Europe/Paris)"
        ) from None
    for variable, cron in crons.items():
        if not is_valid_cron_string(cron):
            raise InvalidScheduleConfig(f"{variable}={cron!r} is not a cron expression (e.g. '0 3 * * *')")


def _scheduled_day(context: dg.ScheduleEvaluationContext) -> str | dg.SkipReason:
    """The latest complete UTC day at the tick, or why there is none to make yet."""
    day = last_complete_day(context.scheduled_execution_time)
    if date.fromisoformat(day) < daily_partitions.start.date():
        return dg.SkipReason(f"{day} is before the first daily partition ({daily_partitions.start:%Y-%m-%d})")
    return day


def build_daily_schedules(
    *,
    timezone: str = "UTC",
    trends_cron: str = DEFAULT_TRENDS_CRON,
    video_cron: str = DEFAULT_VIDEO_CRON,
    started: Collection[str] = (),
) -> tuple[dg.ScheduleDefinition, dg.ScheduleDefinition]:
    """The daily trends and video schedules for a time zone, crons and default statuses."""
    _checked(timezone, {"SHORTVID_TRENDS_CRON": trends_cron, "SHORTVID_VIDEO_CRON": video_cron})

    def status(name: str) -> dg.DefaultScheduleStatus:
        return dg.DefaultScheduleStatus.RUNNING if name in started else dg.DefaultScheduleStatus.STOPPED

    def daily(name: str, job, cron: str):
        return dg.schedule(
            name=name, job=job, cron_schedule=cron, execution_timezone=timezone, default_status=status(name)
        )

    @daily(TRENDS_SCHEDULE, daily_trends_job, trends_cron)
    def trends_schedule(context: dg.ScheduleEvaluationContext):
        """Collects and analyzes the trends of the latest complete UTC day."""
        day = _scheduled_day(context)
        if isinstance(day, dg.SkipReason):
            return day
        return dg.RunRequest(run_key=day, partition_key=day)

    @daily(VIDEO_SCHEDULE, daily_video_job, video_cron)
    def video_schedule(context: dg.ScheduleEvaluationContext):
        """The latest complete UTC day's video for every theme, once that day's trend report is in."""
        day = _scheduled_day(context)
        if isinstance(day, dg.SkipReason):
            return day
        themes = context.instance.get_dynamic_partitions(theme_partitions.name)
        if not themes:
            return dg.SkipReason("no themes yet: the themes sensor or `shortvid themes sync` adds them")
        if day not in context.instance.get_materialized_partitions(dg.AssetKey("trend_report")):
            return dg.SkipReason(
                f"no trend report for {day} yet: run {daily_trends_job.name} for it, then "
                f"`shortvid backfill --from {day} --to {day} --missing` makes the videos"
            )
        return [
            dg.RunRequest(run_key=f"{day}|{theme}", partition_key=date_theme_key(day, theme))
            for theme in sorted(themes)
        ]

    return trends_schedule, video_schedule


daily_trends_schedule, daily_video_schedule = build_daily_schedules(
    timezone=settings.text("SHORTVID_SCHEDULE_TIMEZONE", "UTC"),
    trends_cron=settings.text("SHORTVID_TRENDS_CRON", DEFAULT_TRENDS_CRON),
    video_cron=settings.text("SHORTVID_VIDEO_CRON", DEFAULT_VIDEO_CRON),
    started=started_schedules(settings.text("SHORTVID_SCHEDULES")),
)
