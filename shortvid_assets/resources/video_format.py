"""How videos are rendered: size, encoding, caption style, music, loudness (VIDEO-2, COMP-2..5)."""

from __future__ import annotations

import dagster as dg
from PIL import ImageColor

from shortvid_assets import settings
from shortvid_assets.domain.captions import CaptionStyle

# Output sizes by aspect ratio (SHORTVID_VIDEO_ASPECT); 9:16 is the default (VIDEO-2).
ASPECT_SIZES = {"9:16": (1080, 1920), "16:9": (1920, 1080), "1:1": (1080, 1080), "4:5": (1080, 1350)}
# x264 preset chosen from benchmarks/render.py: the fastest that keeps 1080x1920 at a reasonable size.
DEFAULT_PRESET = "veryfast"
X264_PRESETS = (
    DEFAULT_PRESET,
    "ultrafast",
    "superfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)


def _size_from_env() -> tuple[int, int]:
    """SHORTVID_VIDEO_SIZE=WxH, else SHORTVID_VIDEO_ASPECT, else SHORTVID_VIDEO_WIDTH/HEIGHT, else 1080x1920."""
    if size := settings.text("SHORTVID_VIDEO_SIZE"):
        try:
            w, h = (int(v) for v in size.lower().split("x"))
        except ValueError:
            raise settings.SettingError(
                f"SHORTVID_VIDEO_SIZE={size[:40]!r} is not WIDTHxHEIGHT such as 720x1280"
            ) from None
        if not (16 <= w <= 7680 and 16 <= h <= 7680):
            raise settings.SettingError(f"SHORTVID_VIDEO_SIZE={size!r}: each side must be 16 to 7680 pixels")
        return w, h
    if settings.is_set("SHORTVID_VIDEO_ASPECT"):
        return ASPECT_SIZES[settings.choice("SHORTVID_VIDEO_ASPECT", tuple(ASPECT_SIZES))]
    return (
        settings.number("SHORTVID_VIDEO_WIDTH", 1080, integer=True, minimum=16, maximum=7680),
        settings.number("SHORTVID_VIDEO_HEIGHT", 1920, integer=True, minimum=16, maximum=7680),
    )


def _color(name: str, default: str) -> str:
    """A colour Pillow draws (`#RRGGBB`, `rgb(...)`, a CSS name); refused at start, not at render."""
    value = settings.text(name, default)
    try:
        ImageColor.getrgb(value)
    except ValueError:
        raise settings.SettingError(
            f"{name}={value[:40]!r} is not a colour: write it as #RRGGBB or a CSS colour name"
        ) from None
    return value


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
        width, height = _size_from_env()
        return cls(
            width=width,
            height=height,
            fps=settings.number("SHORTVID_VIDEO_FPS", 30, integer=True, minimum=1, maximum=120),
            preset=settings.choice("SHORTVID_VIDEO_PRESET", X264_PRESETS),
            crf=settings.number("SHORTVID_VIDEO_CRF", 21, integer=True, minimum=0, maximum=51),
            font_path=settings.text("SHORTVID_FONT"),
            caption_color=_color("SHORTVID_CAPTION_COLOR", "#FFFFFF"),
            caption_highlight_color=_color("SHORTVID_CAPTION_HIGHLIGHT", "#FFD400"),
            music_path=settings.existing_file("SHORTVID_MUSIC"),
            music_volume=settings.number("SHORTVID_MUSIC_VOLUME", 0.15, minimum=0, maximum=4),
            loudness_lufs=settings.number("SHORTVID_LOUDNESS_LUFS", -14.0, minimum=-70, maximum=0),
            thumbnail_at_s=settings.number("SHORTVID_THUMBNAIL_AT_S", 1.0, minimum=0),
            render_timeout_s=settings.number("SHORTVID_RENDER_TIMEOUT_S", 900.0, minimum=1),
        )
