"""The one Definitions object of the shortvid code location."""

from __future__ import annotations

import dagster as dg

from shortvid_assets.assets import content, media, review, trends
from shortvid_assets.jobs import daily_trends_job, daily_video_job, review_status_job
from shortvid_assets.resources import build_resources
from shortvid_assets.schedules import daily_trends_schedule, daily_video_schedule
from shortvid_assets.sensors import review_decisions_sensor, themes_sensor

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([trends, content, media, review]),
    asset_checks=dg.load_asset_checks_from_modules([trends, content, media, review]),
    jobs=[daily_trends_job, daily_video_job, review_status_job],
    schedules=[daily_trends_schedule, daily_video_schedule],
    sensors=[themes_sensor, review_decisions_sensor],
    resources=build_resources(),
)
