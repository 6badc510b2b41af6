"""The composition root: the one Definitions object of the shortvid code location.

It builds the resources the environment asks for, sets the executor once, and hands the sensor
its job. Nothing inside the package imports this module except the entry points (CLI, runtime).
"""

from collections.abc import Mapping

import dagster as dg

from shortvid_assets import settings
from shortvid_assets.assets import content, media, publishing, review, trends
from shortvid_assets.domain.costs import PriceTableError, load_price_table
from shortvid_assets.orchestration.executors import job_executor
from shortvid_assets.orchestration.jobs import (
    daily_trends_job,
    daily_video_job,
    publish_video_job,
    review_status_job,
    video_performance_job,
)
from shortvid_assets.orchestration.publishing import (
    DEFAULT_PERFORMANCE_CRON,
    build_performance_schedule,
    build_publish_sensor,
    publishing_on,
)
from shortvid_assets.orchestration.schedules import daily_trends_schedule, daily_video_schedule
from shortvid_assets.orchestration.sensors import build_review_decisions_sensor, themes_sensor
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.publishing import publisher_from_env
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.resources.script_writers import script_writer_from_env
from shortvid_assets.resources.style_classifiers import style_classifier_from_env
from shortvid_assets.resources.trend_sources import tiktok_source_from_env, youtube_source_from_env
from shortvid_assets.resources.video_format import VideoFormat
from shortvid_assets.resources.visuals import visuals_from_env
from shortvid_assets.resources.voices import voice_from_env
from shortvid_assets.storage import postgres

ASSET_MODULES = [trends, content, media, review, publishing]


def build_resources() -> dict[str, object]:
    """The resources the environment asks for; offline implementations unless configured otherwise.

    Every variable is checked here, once, before Dagster sees anything: a bad value, or a live source,
    writer, voice or visuals provider without its key, raises `SettingError` naming the variable.
    """
    settings.validate()
    trends.analysis_window_hours()  # read again at run time; a bad value is refused now
    if url := settings.database_url():
        try:
            postgres.describe_url(url)
        except postgres.InvalidDatabaseUrl as exc:
            raise settings.SettingError(f"SHORTVID_DATABASE_URL: {exc}") from None
    try:
        load_price_table()  # read again when a cost is computed; a bad SHORTVID_PRICE_TABLE is refused now
    except PriceTableError as exc:
        raise settings.SettingError(f"SHORTVID_PRICE_TABLE: {exc}") from None
    return {
        "youtube_source": youtube_source_from_env(),  # SHORTVID_YOUTUBE_SOURCE=sample|api
        "tiktok_source": tiktok_source_from_env(),  # SHORTVID_TIKTOK_SOURCE=sample|apify
        "style_classifier": style_classifier_from_env(),  # SHORTVID_STYLE_CLASSIFIER=rules|openai
        "script_writer": script_writer_from_env(),  # SHORTVID_SCRIPT_WRITER=template|openai
        "voice": voice_from_env(),  # SHORTVID_VOICE=offline|openai
        "visuals": visuals_from_env(),  # SHORTVID_VISUALS=procedural|pexels|openai
        "video_format": VideoFormat.from_env(),
        "paths": ShortvidPaths.from_env(),
        "review_db": ReviewDatabase(url=settings.database_url()),
        "publisher": publisher_from_env(),  # SHORTVID_PUBLISH=off|youtube|local
    }


def build_definitions(resources: Mapping[str, object] | None = None) -> dg.Definitions:
    """The code location, with the environment's resources unless others are given (tests)."""
    return dg.Definitions(
        assets=dg.load_assets_from_modules(ASSET_MODULES),
        asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
        jobs=[daily_trends_job, daily_video_job, review_status_job, publish_video_job, video_performance_job],
        schedules=[
            daily_trends_schedule,
            daily_video_schedule,
            build_performance_schedule(
                video_performance_job,
                cron=settings.text("SHORTVID_PERFORMANCE_CRON", DEFAULT_PERFORMANCE_CRON),
                enabled=publishing_on(),
            ),
        ],
        sensors=[
            themes_sensor,
            build_review_decisions_sensor(review_status_job),
            build_publish_sensor(publish_video_job, enabled=publishing_on()),
        ],
        resources=dict(resources) if resources is not None else build_resources(),
        executor=job_executor(),
    )


defs = build_definitions()


def load_job(name: str) -> dg.JobDefinition:
    """A job of the code location by name, with resources as the environment configures them now.

    Reconstructable across processes for `execute_job`; built afresh on each call, because `defs`
    was built when this module was first imported, perhaps under another environment.
    """
    return build_definitions().resolve_job_def(name)


def reconstructable_job(name: str):
    return dg.build_reconstructable_job(
        "shortvid_assets.definitions", "load_job", reconstructable_args=(name,)
    )
