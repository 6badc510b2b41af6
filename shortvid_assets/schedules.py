"""Daily schedules (TREND-5): trends first, then a video for every theme.

Both start stopped so a development instance never runs on its own; set
SHORTVID_SCHEDULES=on (or flip them in the UI) in production.
"""

import os
from datetime import timedelta

import dagster as dg

from shortvid_assets.jobs import daily_trends_job, daily_video_job
from shortvid_assets.partitions import date_theme_key, theme_partitions

TIMEZONE = os.environ.get("SHORTVID_SCHEDULE_TIMEZONE", "UTC")
_STATUS = (
    dg.DefaultScheduleStatus.RUNNING
    if os.environ.get("SHORTVID_SCHEDULES", "").lower() in {"1", "on", "true"}
    else dg.DefaultScheduleStatus.STOPPED
)

daily_trends_schedule = dg.build_schedule_from_partitioned_job(
    daily_trends_job, hour_of_day=1, minute_of_hour=0, default_status=_STATUS
)


@dg.schedule(
    job=daily_video_job,
    cron_schedule=os.environ.get("SHORTVID_VIDEO_CRON", "0 3 * * *"),
    execution_timezone=TIMEZONE,
    default_status=_STATUS,
)
def daily_video_schedule(context: dg.ScheduleEvaluationContext):
    """Yesterday's video for every theme, once that day's trends are in."""
    day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    themes = context.instance.get_dynamic_partitions(theme_partitions.name)
    if not themes:
        return dg.SkipReason("no themes yet: the themes sensor or `shortvid themes sync` adds them")
    return [
        dg.RunRequest(run_key=f"{day}|{theme}", partition_key=date_theme_key(day, theme))
        for theme in sorted(themes)
    ]
