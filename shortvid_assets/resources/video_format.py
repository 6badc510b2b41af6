"""How videos are rendered: size, encoding, caption style, music, loudness (VIDEO-2, COMP-2..5)."""

from __future__ import annotations

import os

import dagster as dg

from shortvid_assets.domain.captions import CaptionStyle

# Output sizes by aspect ratio (SHORTVID_VIDEO_ASPECT); 9:16 is the default (VIDEO-2).
ASPECT_SIZES = {"9:16": (1080, 1920), "16:9": (1920, 1080), "1:1": (1080, 1080), "4:5": (1080, 1350)}
# x264 preset chosen from benchmarks/render.py: the fastest that keeps 1080x1920 at a reasonable size.
DEFAULT_PRESET = "veryfast"


def _size_from_env(env: os._Environ[str] | dict[str, str]) -> tuple[int, int]:
    """SHORTVID_VIDEO_SIZE=WxH, else SHORTVID_VIDEO_ASPECT, else SHORTVID_VIDEO_WIDTH/HEIGHT, else 1080x1920."""
    size = env.get("SHORTVID_VIDEO_SIZE", "").strip().lower()
    if size:
        try:
            w, h = (int(v) for v in size.split("x"))
        except ValueError:
            raise ValueError(f"SHORTVID_VIDEO_SIZE={size!r} is not WIDTHxHEIGHT such as 720x1280") from None
        return w, h
    aspect = env.get("SHORTVID_VIDEO_ASPECT", "").strip()
    if aspect:
        if aspect not in ASPECT_SIZES:
            raise ValueError(f"SHORTVID_VIDEO_ASPECT={aspect!r} is not one of {', '.join(ASPECT_SIZES)}")
        return ASPECT_SIZES[aspect]
    return int(env.get("SHORTVID_VIDEO_WIDTH", 1080)), int(env.get("SHORTVID_VIDEO_HEIGHT", 1920))


class VideoFormat(dg.ConfigurableResource):
    """Output format and styling of composed videos, from SHORTVID_VIDEO_* variables by default."""

    width: int = 1080
    height: int = 1920
    fps: int = 30
    preset: str = DEFAULT_PRESET
    crf: int = 21
    font_path: str | None = None
    caption_color: str = "#FFFFFF"
    caption_stroke_color: str = "#101010"
    caption_highlight_color: str = "#FFD400"
    caption_shadow: bool = True
    caption_size_scale: float = 1.0
    caption_fade_s: float = 0.15
    music_path: str | None = None
    music_volume: float = 0.15
    loudness_lufs: float = -14.0
    thumbnail_at_s: float = 1.0
    render_timeout_s: float = 900.0

    def caption_style(self) -> CaptionStyle:
        """The caption look (COMP-2) as the domain's CaptionStyle."""
        return CaptionStyle(
            fill=self.caption_color,
            stroke_fill=self.caption_stroke_color,
            highlight_fill=self.caption_highlight_color,
            shadow=self.caption_shadow,
            size_scale=self.caption_size_scale,
        )

    @classmethod
    def from_env(cls) -> VideoFormat:
        env = os.environ
        width, height = _size_from_env(env)
        return cls(
            width=width,
            height=height,
            fps=int(env.get("SHORTVID_VIDEO_FPS", 30)),
            preset=env.get("SHORTVID_VIDEO_PRESET", DEFAULT_PRESET),
            crf=int(env.get("SHORTVID_VIDEO_CRF", 21)),
            font_path=env.get("SHORTVID_FONT") or None,
            caption_color=env.get("SHORTVID_CAPTION_COLOR", "#FFFFFF"),
            caption_highlight_color=env.get("SHORTVID_CAPTION_HIGHLIGHT", "#FFD400"),
            music_path=env.get("SHORTVID_MUSIC") or None,
            music_volume=float(env.get("SHORTVID_MUSIC_VOLUME", 0.15)),
            loudness_lufs=float(env.get("SHORTVID_LOUDNESS_LUFS", -14.0)),
            thumbnail_at_s=float(env.get("SHORTVID_THUMBNAIL_AT_S", 1.0)),
            render_timeout_s=float(env.get("SHORTVID_RENDER_TIMEOUT_S", 900.0)),
        )
