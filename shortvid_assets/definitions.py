"""The one Definitions object of the shortvid code location."""

from collections.abc import Mapping

import dagster as dg

from shortvid_assets.assets import content, media, review, trends
from shortvid_assets.orchestration.executors import job_executor
from shortvid_assets.orchestration.jobs import daily_trends_job, daily_video_job, review_status_job
from shortvid_assets.orchestration.schedules import daily_trends_schedule, daily_video_schedule
from shortvid_assets.orchestration.sensors import review_decisions_sensor, themes_sensor
from shortvid_assets.resources import build_resources

ASSET_MODULES = [trends, content, media, review]


def build_definitions(resources: Mapping[str, object] | None = None) -> dg.Definitions:
    """The code location, with the environment's resources unless others are given (tests)."""
    return dg.Definitions(
        assets=dg.load_assets_from_modules(ASSET_MODULES),
        asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
        jobs=[daily_trends_job, daily_video_job, review_status_job],
        schedules=[daily_trends_schedule, daily_video_schedule],
        sensors=[themes_sensor, review_decisions_sensor],
        resources=dict(resources) if resources is not None else build_resources(),
        executor=job_executor(),
    )


defs = build_definitions()
