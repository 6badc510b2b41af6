"""How videos are rendered: size, encoding, captions font, music, loudness (VIDEO-2, COMP-2..5)."""

from __future__ import annotations

import os

import dagster as dg


class VideoFormat(dg.ConfigurableResource):
    """Output format and styling of composed videos, from SHORTVID_VIDEO_* variables by default."""

    width: int = 1080
    height: int = 1920
    fps: int = 30
    preset: str = "veryfast"
    crf: int = 21
    font_path: str | None = None
    music_path: str | None = None
    music_volume: float = 0.15
    loudness_lufs: float = -14.0
    thumbnail_at_s: float = 1.0
    render_timeout_s: float = 900.0

    @classmethod
    def from_env(cls) -> VideoFormat:
        env = os.environ
        return cls(
            width=int(env.get("SHORTVID_VIDEO_WIDTH", 1080)),
            height=int(env.get("SHORTVID_VIDEO_HEIGHT", 1920)),
            preset=env.get("SHORTVID_VIDEO_PRESET", "veryfast"),
            font_path=env.get("SHORTVID_FONT") or None,
            music_path=env.get("SHORTVID_MUSIC") or None,
            music_volume=float(env.get("SHORTVID_MUSIC_VOLUME", 0.15)),
            loudness_lufs=float(env.get("SHORTVID_LOUDNESS_LUFS", -14.0)),
            thumbnail_at_s=float(env.get("SHORTVID_THUMBNAIL_AT_S", 1.0)),
        )
