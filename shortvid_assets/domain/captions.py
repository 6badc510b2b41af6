"""Caption cues from word timings and overlays, rendered as transparent PNGs inside the 9:16 safe zone."""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFilter, ImageFont, features

from shortvid_assets.domain.files import atomic_path
from shortvid_assets.domain.models import TextOverlay, WordTiming

logger = logging.getLogger(__name__)

CuePosition = Literal["top", "center", "bottom"]
CueStyle = Literal["caption", "hook", "body", "cta"]

# Platform UI (status bar and search on top; caption, buttons and nav at the bottom) covers these bands.
SAFE_TOP_FRACTION = 0.12
SAFE_BOTTOM_FRACTION = 0.20
TEXT_WIDTH_FRACTION = 0.85
FONT_WEIGHT = 700
MAX_LINES = 3
# Font size as a fraction of the frame's shorter side, per style.
STYLE_FONT_SCALE: dict[str, float] = {"caption": 0.070, "hook": 0.085, "body": 0.062, "cta": 0.075}
SENTENCE_END = re.compile(r"[.!?…。！？]+[\"')\]]*$")
CUE_HOLD_S = 0.3  # keep a line up this long after its last word, unless the next line starts sooner
MIN_CUE_S = 0.05


class FontNotFoundError(FileNotFoundError):
    """The caption font file does not exist or cannot be read."""


@dataclass(frozen=True)
class CaptionCue:
    """One line of on-screen text and when it shows."""

    text: str
    start_s: float
    end_s: float
    position: CuePosition = "bottom"
    style: CueStyle = "caption"


@dataclass(frozen=True)
class CaptionImage:
    """A rendered caption PNG, where it goes on the frame (top-left x, y) and when it shows."""

    path: Path
    x: int
    y: int
    w: int
    h: int
    start_s: float
    end_s: float


def caption_cues_from_words(
    words: Sequence[WordTiming], max_chars: int = 18, max_words: int = 4
) -> list[CaptionCue]:
    """Group word timings into short, non-overlapping caption lines (a new line at sentence ends and pauses)."""
    if max_chars < 1 or max_words < 1:
        raise ValueError(f"max_chars and max_words must be at least 1, got {max_chars} and {max_words}")
    clean = [w for w in sorted(words, key=lambda w: (w.start_s, w.end_s)) if _clean_text(w.word).strip()]
    groups: list[list[WordTiming]] = []
    for word in clean:
        current = groups[-1] if groups else None
        if current:
            text = " ".join(_clean_text(w.word).strip() for w in [*current, word])
            pause = word.start_s - max(w.end_s for w in current)
            if (
                len(current) >= max_words
                or len(text) > max_chars
                or SENTENCE_END.search(_clean_text(current[-1].word).strip())
                or pause > 0.6
            ):
                current = None
        if current is None:
            groups.append([word])
        else:
            current.append(word)

    cues: list[CaptionCue] = []
    for i, group in enumerate(groups):
        start = max(group[0].start_s, cues[-1].end_s if cues else 0.0)
        spoken_end = max(max(w.end_s for w in group), start)
        next_start = groups[i + 1][0].start_s if i + 1 < len(groups) else None
        end = spoken_end + CUE_HOLD_S
        if next_start is not None:
            end = next_start if next_start - spoken_end < CUE_HOLD_S else min(end, next_start)
        if end - start < MIN_CUE_S:
            logger.warning("dropping caption %r: no time to show it (%.3f–%.3f s)", group, start, end)
            continue
        text = " ".join(_clean_text(w.word).strip() for w in group)
        cues.append(CaptionCue(text=text, start_s=round(start, 3), end_s=round(end, 3)))
    return cues


def overlay_cues(overlays: Iterable[TextOverlay]) -> list[CaptionCue]:
    """Caption cues for a plan's text overlays (SCRIPT-3), in time order."""
    return [
        CaptionCue(text=o.text, start_s=o.start_s, end_s=o.end_s, position=o.position, style=o.style)
        for o in sorted(overlays, key=lambda o: o.start_s)
    ]


def default_font_path() -> Path:
    """Montserrat (variable weight) from the fontpkg-montserrat package."""
    try:
        import fontpkg_montserrat
    except ImportError as exc:
        raise FontNotFoundError(
            "the default caption font needs the fontpkg-montserrat package; install it or pass font_path"
        ) from exc
    return Path(fontpkg_montserrat.ROOT) / "files" / "Montserrat[wght].ttf"


def fallback_font_path() -> Path | None:
    """DejaVu Sans Bold shipped with matplotlib: Greek, Hebrew, Arabic, symbols missing from Montserrat."""
    spec = importlib.util.find_spec("matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
        if path.is_file():
            return path
    return None


@functools.lru_cache(maxsize=8)
def _cmap(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap() or {})


@functools.lru_cache(maxsize=64)
def _load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.truetype(path, size)
    try:
        axes = font.get_variation_axes()
    except OSError:  # not a variable font
        axes = []
    if axes:
        font.set_variation_by_axes(
            [FONT_WEIGHT if ax.get("name") in (b"Weight", "Weight") else ax["default"] for ax in axes]
        )
    return font


def _clean_text(text: str) -> str:
    """NFC-normalise, turn tabs into spaces, and drop control, surrogate and private-use characters."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\t", " ")
    return "".join(c for c in text if c == "\n" or unicodedata.category(c) not in ("Cc", "Cs", "Co", "Cn"))


def _is_rtl(text: str) -> bool:
    """True when the first strongly directional character is right-to-left (Hebrew, Arabic, ...)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


@functools.cache
def _has_raqm() -> bool:
    return bool(features.check("raqm"))


def _direction(rtl: bool) -> dict[str, str]:
    """Explicit text direction for Pillow's complex layout (basic layout rejects the argument)."""
    return {"direction": "rtl" if rtl else "ltr"} if _has_raqm() else {}


class _Fonts:
    """A primary font with a fallback, at one size; text is split into runs each font can draw."""

    def __init__(self, primary: Path, fallback: Path | None, size: int) -> None:
        self.size = size
        self.fonts = [_load_font(str(primary), size)]
        self.cmaps = [_cmap(str(primary))]
        if fallback is not None and fallback != primary:
            self.fonts.append(_load_font(str(fallback), size))
            self.cmaps.append(_cmap(str(fallback)))
        ascent, descent = self.fonts[0].getmetrics()
        self.ascent, self.descent = ascent, descent

    def runs(self, text: str) -> list[tuple[int, str]]:
        """Split text into (font index, run); characters no font has are skipped."""
        runs: list[tuple[int, str]] = []
        for char in text:
            code = ord(char)
            if char.isspace():
                index = runs[-1][0] if runs else 0
                if code not in self.cmaps[index]:
                    char = " "
            else:
                found = [i for i, cmap in enumerate(self.cmaps) if code in cmap]
                if not found:
                    continue
                index = found[0]
            if runs and runs[-1][0] == index:
                runs[-1] = (index, runs[-1][1] + char)
            else:
                runs.append((index, char))
        return runs

    def visible(self, text: str) -> str:
        return "".join(run for _, run in self.runs(text))

    def length(self, text: str) -> float:
        total = 0.0
        for index, run in self.runs(text):
            try:
                total += self.fonts[index].getlength(run)
            except (OSError, ValueError):
                logger.warning("cannot measure caption run %r; skipping it", run)
        return total


def _wrap(words: list[str], fonts: _Fonts, max_width: float) -> list[str]:
    """Greedy word wrap; a word wider than the line is broken between characters."""
    lines: list[str] = []
    current = ""
    for word in words:
        if word == "\n":
            lines.append(current)
            current = ""
            continue
        candidate = f"{current} {word}" if current else word
        if fonts.length(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        while fonts.length(word) > max_width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and fonts.length(word[:cut]) > max_width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return [line for line in lines if line.strip()]


def _layout(text: str, fonts_for: functools.partial[_Fonts], base_size: int, max_width: float):
    """Choose the largest font size (down to half the style's) whose wrap fits MAX_LINES lines."""
    words = [w for part in re.split(r"(\n)", text) for w in ([part] if part == "\n" else part.split())]
    size = base_size
    while True:
        fonts = fonts_for(size=size)
        kept = [w if w == "\n" else fonts.visible(w) for w in words]
        kept = [w for w in kept if w.strip() or w == "\n"]
        lines = _wrap(kept, fonts, max_width)
        if len(lines) <= MAX_LINES or size <= base_size // 2:
            return fonts, lines
        size = max(base_size // 2, int(size * 0.9))


def caption_y(position: CuePosition, box_h: int, frame_h: int) -> int:
    """Top edge of a caption box of height `box_h` for a position, inside the safe zone."""
    top = round(frame_h * SAFE_TOP_FRACTION)
    bottom = round(frame_h * (1 - SAFE_BOTTOM_FRACTION))
    if position == "top":
        y = top
    elif position == "bottom":
        y = bottom - box_h
    else:
        y = round((frame_h - box_h) / 2)
    return max(0, min(max(top, min(y, bottom - box_h)), frame_h - box_h))


def render_caption_png(
    cue: CaptionCue,
    out: Path,
    *,
    width: int,
    height: int,
    font_path: Path | None = None,
    fill: str = "#FFFFFF",
    stroke_fill: str = "#101010",
    shadow: bool = True,
) -> CaptionImage:
    """Draw a cue as a transparent PNG the size of its text box and place it inside the safe zone."""
    if width < 16 or height < 16:
        raise ValueError(f"frame size must be at least 16x16, got {width}x{height}")
    primary = Path(font_path) if font_path is not None else default_font_path()
    if not primary.is_file():
        raise FontNotFoundError(
            f"caption font {primary} does not exist; pass an existing .ttf/.otf file as font_path "
            f"(or None for the default Montserrat)"
        )
    try:
        _load_font(str(primary), 12)
        _cmap(str(primary))
    except Exception as exc:  # Pillow and fontTools raise several types for unreadable fonts
        raise FontNotFoundError(
            f"caption font {primary} cannot be read as a TrueType/OpenType font: {exc}"
        ) from exc

    base_size = max(10, round(min(width, height) * STYLE_FONT_SCALE.get(cue.style, 0.07)))
    max_width = width * TEXT_WIDTH_FRACTION
    fonts_for = functools.partial(_Fonts, primary, fallback_font_path())
    fonts, lines = _layout(_clean_text(cue.text), fonts_for, base_size, max_width)

    stroke = max(1, round(fonts.size * 0.08))
    shadow_offset = max(1, round(fonts.size * 0.06)) if shadow else 0
    pad = stroke + shadow_offset + max(2, round(fonts.size * 0.05))
    line_h = round((fonts.ascent + fonts.descent) * 1.08)
    widths = [fonts.length(line) for line in lines]
    box_w = max(2, round(max(widths, default=0) + 2 * pad))
    box_h = max(2, line_h * len(lines) + 2 * pad) if lines else 2
    box_w, box_h = min(box_w, width), min(box_h, height)

    image = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    if lines:
        text_layer = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(text_layer)
        for row, (line, line_w) in enumerate(zip(lines, widths, strict=True)):
            rtl = _is_rtl(line)
            # Runs go left to right in reading order; in a right-to-left line the first run is rightmost.
            x = (box_w + line_w) / 2 if rtl else (box_w - line_w) / 2
            baseline = pad + row * line_h + fonts.ascent
            for index, run in fonts.runs(line):
                font = fonts.fonts[index]
                try:
                    run_w = font.getlength(run)
                    left = x - run_w if rtl else x
                    draw.text(
                        (left, baseline),
                        run,
                        font=font,
                        fill=fill,
                        anchor="ls",
                        stroke_width=stroke,
                        stroke_fill=stroke_fill,
                        **_direction(rtl),
                    )
                    x = left if rtl else x + run_w
                except (OSError, ValueError):
                    logger.warning("cannot draw caption run %r; skipping it", run)
        if shadow:
            blurred = text_layer.getchannel("A").filter(ImageFilter.GaussianBlur(shadow_offset))
            shade = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
            shade.putalpha(blurred.point(lambda a: a * 150 // 255))
            visible = shade.crop((0, 0, box_w - shadow_offset, box_h - shadow_offset))
            image.alpha_composite(visible, (shadow_offset, shadow_offset))
        image.alpha_composite(text_layer)

    x = round((width - box_w) / 2)
    y = caption_y(cue.position, box_h, height)
    out = Path(out)
    with atomic_path(out) as tmp:
        image.save(tmp, format="PNG", optimize=False)
    return CaptionImage(path=out, x=x, y=y, w=box_w, h=box_h, start_s=cue.start_s, end_s=cue.end_s)


def caption_boxes_in_safe_zone(captions: Iterable[CaptionImage], width: int, height: int) -> list[str]:
    """Problems with caption placement: boxes outside the frame or in the platform-UI bands (empty = fine)."""
    problems = []
    top = height * SAFE_TOP_FRACTION
    bottom = height * (1 - SAFE_BOTTOM_FRACTION)
    for cap in captions:
        name = Path(cap.path).name
        if cap.x < 0 or cap.y < 0 or cap.x + cap.w > width or cap.y + cap.h > height:
            problems.append(
                f"{name}: box {cap.w}x{cap.h} at ({cap.x},{cap.y}) leaves the {width}x{height} frame"
            )
        elif cap.y < top - 1 or cap.y + cap.h > bottom + 1:
            problems.append(
                f"{name}: box spans y={cap.y}..{cap.y + cap.h}, outside the safe band {top:.0f}..{bottom:.0f}"
            )
    return problems
