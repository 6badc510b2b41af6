"""One resource per external system; the deployment picks implementations by environment variables."""

from __future__ import annotations

from shortvid_assets import settings
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.resources.script_writers import script_writer_from_env
from shortvid_assets.resources.style_classifiers import style_classifier_from_env
from shortvid_assets.resources.trend_sources import tiktok_source_from_env, youtube_source_from_env
from shortvid_assets.resources.video_format import VideoFormat
from shortvid_assets.resources.visuals import visuals_from_env
from shortvid_assets.resources.voices import voice_from_env


def build_resources() -> dict[str, object]:
    """The resources the environment asks for; offline implementations unless configured otherwise."""
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
    }
