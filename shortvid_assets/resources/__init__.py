"""One resource per external system; the deployment picks implementations by environment variables."""

from __future__ import annotations

from shortvid_assets import settings
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.resources.script_writers import TemplateScriptWriter
from shortvid_assets.resources.trend_sources import SampleTrendSource
from shortvid_assets.resources.video_format import VideoFormat
from shortvid_assets.resources.visuals import ProceduralVisuals
from shortvid_assets.resources.voices import OfflineVoice


def build_resources() -> dict[str, object]:
    """The resources the environment asks for; offline implementations unless configured otherwise."""
    return {
        "youtube_source": SampleTrendSource(),
        "tiktok_source": SampleTrendSource(),
        "script_writer": TemplateScriptWriter(),
        "voice": OfflineVoice(),
        "visuals": ProceduralVisuals(),
        "video_format": VideoFormat.from_env(),
        "paths": ShortvidPaths.from_env(),
        "review_db": ReviewDatabase(url=settings.database_url()),
    }
