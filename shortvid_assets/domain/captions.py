"""Caption cues from word timings and overlays, rendered as transparent PNGs inside the 9:16 safe zone."""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import regex
from PIL import Image, ImageDraw, ImageFilter, ImageFont, features

from shortvid_assets.domain.files import atomic_path
from shortvid_assets.domain.fonts import (
    ChainFont,
    FontNotFoundError,
    default_font_path,
    emoji_mask,
    font_chain,
    font_cmap,
    is_invisible,
)
from shortvid_assets.domain.models import TextOverlay, WordTiming
from shortvid_assets.domain.text import has_no_space_script, join_words, joins_without_space, word_spans

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
SENTENCE_END = re.compile(r"[.!?…。！？؟।]+[\"')\]」』]*$")
CUE_HOLD_S = 0.3  # keep a line up this long after its last word, unless the next line starts sooner
MIN_CUE_S = 0.05
HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
# Word captions try these positions in turn until one does not collide with a text overlay on screen.
WORD_CAPTION_POSITIONS: tuple[CuePosition, ...] = ("bottom", "top", "center")
COLLISION_MARGIN_FRACTION = 0.01
PNG_COMPRESS_LEVEL = 1  # caption PNGs are read once by ffmpeg and deleted: favour speed over size
PNG_WRITERS = 2  # Pillow encodes without the GIL: word states are written while the next ones are drawn


@dataclass(frozen=True)
class CueWord:
    """One word of a caption line and when it is spoken."""

    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class CaptionCue:
    """One line of on-screen text and when it shows; `words` carries word timings for highlighting."""

    text: str
    start_s: float
    end_s: float
    position: CuePosition = "bottom"
    style: CueStyle = "caption"
    words: tuple[CueWord, ...] = ()


@dataclass(frozen=True)
class CaptionStyle:
    """How caption text looks (COMP-2): colours as #RRGGBB, outline and shadow, size relative to the style's."""

    fill: str = "#FFFFFF"
    stroke_fill: str = "#101010"
    highlight_fill: str = "#FFD400"
    shadow: bool = True
    size_scale: float = 1.0
    stroke_scale: float = 1.0

    def problems(self) -> list[str]:
        """What is wrong with this style (empty when usable)."""
        found = [
            f"{name} must be a colour like #FFD400, got {value!r}"
            for name, value in (
                ("fill", self.fill),
                ("stroke_fill", self.stroke_fill),
                ("highlight_fill", self.highlight_fill),
            )
            if not HEX_COLOR.match(value)
        ]
        if not 0.3 <= self.size_scale <= 3:
            found.append(f"size_scale must be between 0.3 and 3, got {self.size_scale}")
        if not 0 <= self.stroke_scale <= 4:
            found.append(f"stroke_scale must be between 0 and 4, got {self.stroke_scale}")
        return found


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


def _display_len(text: str) -> int:
    """Length in half-width cells: wide (CJK) characters count twice, zero-width ones not at all."""
    if text.isascii():
        return len(text)
    return sum(
        0 if is_invisible(c) else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text
    )


def caption_cues_from_words(
    words: Sequence[WordTiming], max_chars: int = 18, max_words: int = 4
) -> list[CaptionCue]:
    """Group word timings into short, non-overlapping caption lines (a new line at sentence ends and pauses).

    `max_chars` counts half-width cells (a CJK character is two); words of scripts written without
    spaces are joined with a zero-width space, so each keeps its own highlight.
    """
    if max_chars < 1 or max_words < 1:
        raise ValueError(f"max_chars and max_words must be at least 1, got {max_chars} and {max_words}")
    clean = [w for w in sorted(words, key=lambda w: (w.start_s, w.end_s)) if _clean_text(w.word).strip()]
    groups: list[list[WordTiming]] = []
    for word in clean:
        current = groups[-1] if groups else None
        if current:
            text = join_words([_clean_text(w.word).strip() for w in [*current, word]])
            pause = word.start_s - max(w.end_s for w in current)
            if (
                len(current) >= max_words
                or _display_len(text) > max_chars
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
        text = join_words([_clean_text(w.word).strip() for w in group])
        timed = tuple(
            CueWord(
                _clean_text(w.word).strip(), round(max(w.start_s, start), 3), round(max(w.end_s, start), 3)
            )
            for w in group
        )
        cues.append(CaptionCue(text=text, start_s=round(start, 3), end_s=round(end, 3), words=timed))
    return cues


def overlay_cues(overlays: Iterable[TextOverlay]) -> list[CaptionCue]:
    """Caption cues for a plan's text overlays (SCRIPT-3), in time order."""
    return [
        CaptionCue(text=o.text, start_s=o.start_s, end_s=o.end_s, position=o.position, style=o.style)
        for o in sorted(overlays, key=lambda o: o.start_s)
    ]


def fallback_font_path() -> Path | None:
    """DejaVu Sans Bold shipped with matplotlib: symbols no script font has (the chain's last text font)."""
    spec = importlib.util.find_spec("matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
        if path.is_file():
            return path
    return None


def _cmap(path: str) -> frozenset[int]:
    return font_cmap(path)


@functools.lru_cache(maxsize=128)
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


def _strong(text: str) -> str | None:
    """'R' or 'L' for the first strongly directional character of `text`, None when it has none."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "R"
        if kind == "L":
            return "L"
    return None


def _is_rtl(text: str) -> bool:
    """True when the first strongly directional character is right-to-left (Hebrew, Arabic, ...)."""
    return _strong(text) == "R"


@functools.cache
def _has_raqm() -> bool:
    return bool(features.check("raqm"))


def _direction(rtl: bool) -> dict[str, str]:
    """Explicit text direction for Pillow's complex layout (basic layout rejects the argument)."""
    return {"direction": "rtl" if rtl else "ltr"} if _has_raqm() else {}


def _is_neutral(cluster: str) -> bool:
    """Spaces, punctuation, digits and text symbols: drawn by the font of the text around them."""
    return unicodedata.category(cluster[0])[0] in "PZNS" and not _strong(cluster)


_REPORTED_DROPS: set[str] = set()


class _Fonts:
    """The font chain at one size; text is split into runs, each drawn by the first font that covers it.

    Text the primary font covers entirely (the common Latin case) is one run of the primary font, as
    before the chain existed; other fonts and their character maps load only when text needs them.
    """

    def __init__(self, chain: tuple[ChainFont, ...], size: int, language: str | None = None) -> None:
        self.chain = chain
        self.size = size
        self.language = language
        self._fonts: dict[int, ImageFont.FreeTypeFont] = {}
        self._runs: dict[str, list[tuple[int, str]]] = {}
        self._lengths: dict[tuple[int, str], float] = {}
        self.ascent, self.descent = self.font(0).getmetrics()

    def font(self, index: int) -> ImageFont.FreeTypeFont:
        if index not in self._fonts:
            self._fonts[index] = _load_font(str(self.chain[index].path), self.size)
        return self._fonts[index]

    def cmap(self, index: int) -> frozenset[int]:
        return font_cmap(str(self.chain[index].path))

    def is_color(self, index: int) -> bool:
        return self.chain[index].color

    def _covering(self, cluster: str, emoji: bool) -> list[int]:
        needed = [ord(c) for c in cluster if not is_invisible(c)] or [ord(cluster[0])]
        order = range(len(self.chain))
        if emoji:  # colour first; a text font's monochrome outline only when no colour glyph exists
            order = sorted(order, key=lambda i: not self.chain[i].color)
        else:
            order = [i for i in order if not self.chain[i].color]
        full = [i for i in order if all(code in self.cmap(i) for code in needed)]
        return full or [i for i in order if needed[0] in self.cmap(i)]  # the base, if no font has every mark

    def runs(self, text: str) -> list[tuple[int, str]]:
        """Split text into (font index, run); characters no font has are dropped with a log line."""
        cached = self._runs.get(text)
        if cached is not None:
            return cached
        primary = self.cmap(0)
        if text.isascii() and all(ord(c) in primary for c in text if c != " "):
            runs = [(0, text)] if text else []
        else:
            runs = self._chain_runs(text)
        self._runs[text] = runs
        return runs

    def _chain_runs(self, text: str) -> list[tuple[int, str]]:
        mask = emoji_mask(text)
        clusters: list[tuple[str, list[int], bool]] = []  # (cluster, covering fonts, neutral)
        dropped: list[str] = []
        for match in regex.finditer(r"\X", text):
            cluster = match.group()
            emoji = mask[match.start()]
            covering = self._covering(cluster, emoji)
            if not covering:
                if cluster == " " * len(cluster):
                    covering = [0]
                else:
                    dropped.append(cluster)
                    continue
            clusters.append((cluster, covering, not emoji and _is_neutral(cluster)))
        if dropped and text not in _REPORTED_DROPS:
            _REPORTED_DROPS.add(text)
            logger.warning(
                "caption %r: %d character(s) no caption font can draw were left out: %s",
                text,
                len(dropped),
                ", ".join(unicodedata.name(c[0], f"U+{ord(c[0]):04X}") for c in dropped[:8]),
            )
        chosen: list[int | None] = [None if neutral else covering[0] for _, covering, neutral in clusters]
        for i, (_, covering, neutral) in enumerate(clusters):
            if not neutral:
                continue
            before = next((chosen[k] for k in range(i - 1, -1, -1) if chosen[k] is not None), None)
            after = next((chosen[k] for k in range(i + 1, len(chosen)) if not clusters[k][2]), None)
            for candidate in (before, after):
                if candidate is not None and candidate in covering and not self.chain[candidate].color:
                    chosen[i] = candidate
                    break
            else:
                chosen[i] = covering[0]
        runs: list[tuple[int, str]] = []
        for (cluster, _, _), index in zip(clusters, chosen, strict=True):
            assert index is not None
            if runs and runs[-1][0] == index:
                runs[-1] = (index, runs[-1][1] + cluster)
            else:
                runs.append((index, cluster))
        return runs

    def visible(self, text: str) -> str:
        return "".join(run for _, run in self.runs(text))

    def _layout_kwargs(self, index: int, run: str) -> dict[str, object]:
        if not _has_raqm() or (index == 0 and run.isascii()):
            return {}
        kwargs: dict[str, object] = _direction(_is_rtl(run))
        if self.language:
            kwargs["language"] = self.language
        return kwargs

    def run_length(self, index: int, run: str) -> float:
        key = (index, run)
        if key not in self._lengths:  # a cue measures each word several times while wrapping and drawing
            self._lengths[key] = self.font(index).getlength(run, **self._layout_kwargs(index, run))
        return self._lengths[key]

    def length(self, text: str) -> float:
        total = 0.0
        for index, run in self.runs(text):
            try:
                total += self.run_length(index, run)
            except (OSError, ValueError):
                logger.warning("cannot measure caption run %r; skipping it", run)
        return total

    def metrics(self, texts: Iterable[str]) -> tuple[int, int]:
        """Ascent and descent covering every font the texts use (the primary's alone for Latin text)."""
        used = {index for text in texts for index, _ in self.runs(text)} | {0}
        ascent = max(self.font(i).getmetrics()[0] for i in used if not self.chain[i].color or i == 0)
        descent = max(self.font(i).getmetrics()[1] for i in used if not self.chain[i].color or i == 0)
        return ascent, descent


Fragment = tuple[int, str]  # (index of the word in the cue, the part of it on this line)


def _line_text(line: list[Fragment], glued: frozenset[int]) -> str:
    """A line's text as drawn: a space between words, none before a word glued to the one before it."""
    out = ""
    for k, (index, part) in enumerate(line):
        if k and not (index in glued or index == line[k - 1][0]):
            out += " "
        out += part
    return out


def _break_word(word: str, fonts: _Fonts, max_width: float) -> list[str]:
    """A word wider than the line cut between grapheme clusters into pieces that fit."""
    clusters = regex.findall(r"\X", word)
    pieces: list[str] = []
    while len(clusters) > 1 and fonts.length("".join(clusters)) > max_width:
        cut = len(clusters) - 1
        while cut > 1 and fonts.length("".join(clusters[:cut])) > max_width:
            cut -= 1
        pieces.append("".join(clusters[:cut]))
        clusters = clusters[cut:]
    pieces.append("".join(clusters))
    return pieces


def _wrap(
    words: list[str], fonts: _Fonts, max_width: float, glued: frozenset[int] = frozenset()
) -> list[list[Fragment]]:
    """Greedy word wrap keeping each word's index; a word wider than the line is broken between characters."""
    lines: list[list[Fragment]] = []
    current: list[Fragment] = []

    for index, word in enumerate(words):
        if word == "\n":
            lines.append(current)
            current = []
            continue
        if fonts.length(_line_text([*current, (index, word)], glued)) <= max_width:
            current.append((index, word))
            continue
        if current:
            lines.append(current)
        pieces = _break_word(word, fonts, max_width)
        lines.extend([(index, piece)] for piece in pieces[:-1])
        current = [(index, pieces[-1])]
    if current:
        lines.append(current)
    return [line for line in lines if any(part.strip() for _, part in line)]


def _split_words(text: str) -> list[str]:
    """Words of a text in order, with explicit line breaks kept as "\n" items."""
    return _layout_words(text)[0]


def _word_tokens(text: str) -> list[str]:
    """A timed word's tokens: its whitespace-separated parts (zero-width spaces separate too)."""
    return [t for t in re.split(r"[\s\u200b]+", text) if t]


def _layout_words(text: str, language: str | None = None) -> tuple[list[str], frozenset[int]]:
    """Words of a text ("\n" items for line breaks) and which words are written joined to the one before."""
    words: list[str] = []
    glued: set[int] = set()
    for part in re.split(r"(\n)", text):
        if part == "\n":
            words.append("\n")
            continue
        if not has_no_space_script(part):
            words.extend(part.split())
            continue
        previous_end = None
        for start, end in word_spans(part, language):
            if previous_end is not None and not part[previous_end:start].strip("\u200b"):
                glued.add(len(words))  # phrases the text writes together
            words.append(part[start:end])
            previous_end = end
    return words, frozenset(glued)


def _cue_words(cue: CaptionCue, language: str | None) -> tuple[list[str], frozenset[int]]:
    """A cue's layout words: the timed words' tokens (so highlights count the same), else its text's words."""
    text = _clean_text(cue.text)
    if not cue.words:
        return _layout_words(text, language)
    words: list[str] = []
    glued: set[int] = set()
    for word in cue.words:
        for token in _word_tokens(_clean_text(word.text)):
            if words and joins_without_space(words[-1], token):
                glued.add(len(words))
            words.append(token)
    return words, frozenset(glued)


def _fit(
    words: list[str],
    fonts_for: functools.partial[_Fonts],
    base_size: int,
    max_width: float,
    glued: frozenset[int] = frozenset(),
):
    """Choose the largest font size (down to half the style's) whose wrap fits MAX_LINES lines."""
    size = base_size
    while True:
        fonts = fonts_for(size=size)
        kept = [w if w == "\n" else fonts.visible(w) for w in words]
        lines = _wrap(kept, fonts, max_width, glued)
        if len(lines) <= MAX_LINES or size <= base_size // 2:
            return fonts, lines
        size = max(base_size // 2, int(size * 0.9))


def _check_font(font_path: Path | None) -> Path:
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
    return primary


@dataclass(frozen=True)
class CaptionLayout:
    """A cue's text wrapped and measured once; drawn as many times as it has word states."""

    fonts: _Fonts
    lines: list[list[Fragment]]
    widths: list[float]
    stroke: int
    shadow_offset: int
    pad: int
    line_h: int
    box_w: int
    box_h: int
    word_count: int
    glued: frozenset[int] = frozenset()
    ascent: int = 0
    descent: int = 0


def layout_caption(
    cue: CaptionCue,
    *,
    width: int,
    height: int,
    font_path: Path | None = None,
    style: CaptionStyle | None = None,
    language: str | None = None,
) -> CaptionLayout:
    """Wrap and measure a cue's text for a frame size: font size, lines and the box it needs.

    `language` (a BCP 47 tag) picks language-specific glyph forms (e.g. Simplified Chinese) and the
    phrase segmenter for text without spaces.
    """
    if width < 16 or height < 16:
        raise ValueError(f"frame size must be at least 16x16, got {width}x{height}")
    style = style or CaptionStyle()
    if problems := style.problems():
        raise ValueError("invalid caption style: " + "; ".join(problems))
    primary = _check_font(font_path)
    scale = STYLE_FONT_SCALE.get(cue.style, 0.07) * style.size_scale
    base_size = max(10, round(min(width, height) * scale))
    max_width = width * TEXT_WIDTH_FRACTION
    fonts_for = functools.partial(_Fonts, font_chain(primary), language=language)
    words, glued = _cue_words(cue, language)
    fonts, lines = _fit(words, fonts_for, base_size, max_width, glued)
    texts = [_line_text(line, glued) for line in lines]
    ascent, descent = fonts.metrics(texts)
    stroke = max(1, round(fonts.size * 0.08 * style.stroke_scale)) if style.stroke_scale > 0 else 0
    shadow_offset = max(1, round(fonts.size * 0.06)) if style.shadow else 0
    pad = stroke + shadow_offset + max(2, round(fonts.size * 0.05))
    line_h = round((ascent + descent) * 1.08)
    widths = [fonts.length(text) for text in texts]
    box_w = max(2, round(max(widths, default=0) + 2 * pad))
    box_h = max(2, line_h * len(lines) + 2 * pad) if lines else 2
    return CaptionLayout(
        fonts=fonts,
        lines=lines,
        widths=widths,
        stroke=stroke,
        shadow_offset=shadow_offset,
        pad=pad,
        line_h=line_h,
        box_w=min(box_w, width),
        box_h=min(box_h, height),
        word_count=len([w for w in words if w != "\n"]),
        glued=glued,
        ascent=ascent,
        descent=descent,
    )


def _draw_run(
    draw: ImageDraw.ImageDraw, fonts: _Fonts, xy: tuple[float, float], text: str, **kwargs
) -> float:
    """Draw a fragment run by run, each in its font (right to left for a right-to-left word); return its width.

    Colour (emoji) runs are drawn in their own colours and without the outline, which would cut across them.
    """
    x, baseline = xy
    runs = fonts.runs(text)
    measured = []
    for index, run in runs:
        try:
            measured.append((index, run, fonts.run_length(index, run)))
        except (OSError, ValueError):
            logger.warning("cannot measure caption run %r; skipping it", run)
    if _is_rtl(text):
        measured.reverse()
    start = x
    for index, run, run_w in measured:
        options = dict(kwargs)
        options.pop("direction", None)
        options.update(fonts._layout_kwargs(index, run))
        if fonts.is_color(index):
            options.update(embedded_color=True, stroke_width=0)
        try:
            draw.text((x, baseline), run, font=fonts.font(index), anchor="ls", **options)
        except (OSError, ValueError):
            logger.warning("cannot draw caption run %r; skipping it", run)
        x += run_w
    return x - start


ALL_WORDS = range(0, 2**31)  # the `active` range that highlights every word of a cue
# (word index, left, top, right, bottom) of one drawn word fragment's cell in a caption box.
FragmentCell = tuple[int, int, int, int, int]


def _visual_order(line: list[Fragment]) -> list[int]:
    """Positions of a line's fragments from left to right (the bidi algorithm's reordering, word by word).

    A right-to-left line puts its first word rightmost, but a run of left-to-right words inside it (a
    brand name, a number) keeps its own left-to-right order, and the reverse in a left-to-right line.
    """
    text = " ".join(part for _, part in line)
    base = 1 if _is_rtl(text) else 0
    kinds = [_strong(part) for _, part in line]
    resolved: list[str] = []
    for k, kind in enumerate(kinds):
        if kind is None:  # neutral: the direction around it when both sides agree, else the line's
            before = next((kinds[j] for j in range(k - 1, -1, -1) if kinds[j]), None)
            after = next((kinds[j] for j in range(k + 1, len(kinds)) if kinds[j]), None)
            kind = before if before == after and before else ("R" if base else "L")
        resolved.append(kind)
    levels = [(1 if kind == "R" else 0) if base == 0 else (1 if kind == "R" else 2) for kind in resolved]
    order = list(range(len(line)))
    for level in range(max(levels, default=0), 0, -1):
        k = 0
        while k < len(order):
            if levels[order[k]] >= level:
                end = k
                while end < len(order) and levels[order[end]] >= level:
                    end += 1
                order[k:end] = reversed(order[k:end])
                k = end
            else:
                k += 1
    return order


def _text_layer(
    layout: CaptionLayout,
    style: CaptionStyle,
    active: range | None,
    cells: list[FragmentCell] | None = None,
) -> Image.Image:
    """The outlined text alone on a transparent box; words numbered in `active` in the highlight colour.

    With `cells`, each fragment's cell is appended: its columns run to halfway into the spaces beside it and
    its rows to halfway into the gaps between lines, so a fragment's fill never leaves its cell.
    """
    box_w, box_h, fonts = layout.box_w, layout.box_h, layout.fonts
    ascent = layout.ascent or fonts.ascent
    descent = layout.descent or fonts.descent
    text_layer = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(text_layer)
    space = fonts.length(" ")
    gap = max(0, layout.line_h - (ascent + descent))
    rows = len(layout.lines)
    for row, (line, line_w) in enumerate(zip(layout.lines, layout.widths, strict=True)):
        top = layout.pad + row * layout.line_h
        baseline = top + ascent
        cell_top = 0 if row == 0 else top - gap // 2
        cell_bottom = box_h if row == rows - 1 else top + layout.line_h - gap // 2
        spans: list[tuple[int, float, float]] = []
        order = _visual_order(line)
        x = (box_w - line_w) / 2
        for k, position in enumerate(order):
            index, part = line[position]
            if k:
                previous = order[k - 1]
                joined = abs(previous - position) == 1 and (
                    line[max(previous, position)][0] in layout.glued or line[previous][0] == line[position][0]
                )
                x += 0 if joined else space
            part_w = fonts.length(part)
            fill = style.highlight_fill if active is not None and index in active else style.fill
            _draw_run(
                draw,
                fonts,
                (x, baseline),
                part,
                fill=fill,
                stroke_width=layout.stroke,
                stroke_fill=style.stroke_fill,
            )
            spans.append((index, x, x + part_w))
            x += part_w
        if cells is not None:
            spans.sort(key=lambda span: span[1])
            for k, (index, left, right) in enumerate(spans):
                cell_left = 0 if k == 0 else round((spans[k - 1][2] + left) / 2)
                cell_right = box_w if k == len(spans) - 1 else round((right + spans[k + 1][1]) / 2)
                cells.append((index, cell_left, cell_top, cell_right, cell_bottom))
    return text_layer


def _shadow_of(layout: CaptionLayout, style: CaptionStyle, text_layer: Image.Image) -> Image.Image | None:
    """The soft drop shadow of a drawn text layer (the same for every word state of the cue)."""
    if not (style.shadow and layout.shadow_offset and layout.lines):
        return None
    offset = layout.shadow_offset
    alpha = text_layer.getchannel("A").filter(ImageFilter.GaussianBlur(offset))
    shade = Image.new("RGBA", (layout.box_w, layout.box_h), (0, 0, 0, 0))
    shade.putalpha(alpha.point(lambda a: a * 150 // 255))
    placed = Image.new("RGBA", (layout.box_w, layout.box_h), (0, 0, 0, 0))
    placed.alpha_composite(shade.crop((0, 0, layout.box_w - offset, layout.box_h - offset)), (offset, offset))
    return placed


def caption_shadow(layout: CaptionLayout, style: CaptionStyle | None = None) -> Image.Image | None:
    """The soft drop shadow under a cue's text (the same for every word state of the cue)."""
    style = style or CaptionStyle()
    if not (style.shadow and layout.shadow_offset and layout.lines):
        return None
    return _shadow_of(layout, style, _text_layer(layout, style, None))


def _composed(layout: CaptionLayout, shadow: Image.Image | None, text_layer: Image.Image) -> Image.Image:
    image = Image.new("RGBA", (layout.box_w, layout.box_h), (0, 0, 0, 0))
    if shadow is not None:
        image.alpha_composite(shadow)
    image.alpha_composite(text_layer)
    return image


def draw_caption(
    layout: CaptionLayout,
    style: CaptionStyle | None = None,
    *,
    active: range | None = None,
    shadow: Image.Image | None = None,
) -> Image.Image:
    """The cue as a transparent RGBA image of its box; words numbered in `active` in the highlight colour.

    Pass the cue's `caption_shadow` when drawing several states of one cue, so it is blurred once
    (or use `draw_word_states`, which draws the text only twice for all of them).
    """
    style = style or CaptionStyle()
    if not layout.lines:
        return Image.new("RGBA", (layout.box_w, layout.box_h), (0, 0, 0, 0))
    text_layer = _text_layer(layout, style, active)
    if shadow is None and active is None:
        shadow = _shadow_of(layout, style, text_layer)  # the plain text layer is the shadow's shape
    elif shadow is None:
        shadow = caption_shadow(layout, style)
    return _composed(layout, shadow, text_layer)


def draw_word_states(
    layout: CaptionLayout, style: CaptionStyle | None, actives: Sequence[range | None]
) -> list[Image.Image]:
    """The cue once per highlight state, as `draw_caption` would draw each, with the text drawn only twice.

    The cue is drawn plain and fully highlighted; the two differ only inside the words' fills, so a state
    is the plain image with the cells of its highlighted words copied from the highlighted one.
    """
    style = style or CaptionStyle()
    cells: list[FragmentCell] = []
    plain_text = _text_layer(layout, style, None, cells)
    shadow = _shadow_of(layout, style, plain_text)
    plain = _composed(layout, shadow, plain_text) if layout.lines else plain_text
    lit = None
    states = []
    for active in actives:
        lit_cells = [cell for cell in cells if active is not None and cell[0] in active]
        if not lit_cells:
            states.append(plain)
            continue
        if lit is None:
            lit = _composed(layout, shadow, _text_layer(layout, style, ALL_WORDS))
        state = plain.copy()
        for _, left, top, right, bottom in lit_cells:
            state.paste(lit.crop((left, top, right, bottom)), (left, top))
        states.append(state)
    return states


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


def _save_png(image: Image.Image, out: Path) -> None:
    with atomic_path(out) as tmp:
        image.save(tmp, format="PNG", compress_level=PNG_COMPRESS_LEVEL)


def render_caption_png(
    cue: CaptionCue,
    out: Path,
    *,
    width: int,
    height: int,
    font_path: Path | None = None,
    style: CaptionStyle | None = None,
    language: str | None = None,
) -> CaptionImage:
    """Draw a cue as a transparent PNG the size of its text box and place it inside the safe zone."""
    layout = layout_caption(
        cue, width=width, height=height, font_path=font_path, style=style, language=language
    )
    image = draw_caption(layout, style)
    x = round((width - layout.box_w) / 2)
    y = caption_y(cue.position, layout.box_h, height)
    out = Path(out)
    _save_png(image, out)
    return CaptionImage(
        path=out, x=x, y=y, w=layout.box_w, h=layout.box_h, start_s=cue.start_s, end_s=cue.end_s
    )


@dataclass(frozen=True)
class CaptionStream:
    """Word-caption states shown one after another in one band of the frame, as an ffconcat image list.

    Every image in the list has the band's size, so ffmpeg overlays the whole stream with one filter.
    """

    playlist: Path
    x: int
    y: int
    w: int
    h: int
    states: list[CaptionImage]


@dataclass(frozen=True)
class CaptionTrack:
    """All captions of a video: text overlays (faded in and out) and word-highlighted spoken captions."""

    overlays: list[CaptionImage]
    streams: list[CaptionStream]

    @property
    def boxes(self) -> list[CaptionImage]:
        """Every caption box as it lands on the frame, for the safe-zone check."""
        return [*self.overlays, *(state for stream in self.streams for state in stream.states)]


def _overlaps(a0: float, a1: float, b0: float, b1: float, margin: float = 0.0) -> bool:
    return a0 < b1 + margin and b0 < a1 + margin


def choose_word_position(
    cue: CaptionCue, box_h: int, overlays: Sequence[CaptionImage], frame_h: int
) -> CuePosition:
    """The first position in WORD_CAPTION_POSITIONS whose band no text overlay occupies while the cue shows."""
    margin = frame_h * COLLISION_MARGIN_FRACTION
    busy = [o for o in overlays if _overlaps(cue.start_s, cue.end_s, o.start_s, o.end_s)]
    for position in WORD_CAPTION_POSITIONS:
        y = caption_y(position, box_h, frame_h)
        if not any(_overlaps(y, y + box_h, o.y, o.y + o.h, margin) for o in busy):
            return position
    logger.warning(
        "caption %r collides with a text overlay in every position; keeping it at the bottom", cue.text
    )
    return WORD_CAPTION_POSITIONS[0]


def word_states(cue: CaptionCue) -> list[tuple[range | None, float, float]]:
    """(highlighted token range, start, end) per state of a line: the word being spoken is highlighted.

    Token numbers count the cue text's whitespace-separated words, so a timed "New York" spans two.
    """
    if not cue.words:
        return [(None, cue.start_s, cue.end_s)]
    states = []
    token = 0
    for i, word in enumerate(cue.words):
        tokens = range(token, token + max(1, len(_word_tokens(_clean_text(word.text)))))
        token = tokens.stop
        start = cue.start_s if i == 0 else max(cue.start_s, word.start_s)
        end = cue.end_s if i == len(cue.words) - 1 else max(start, min(cue.end_s, cue.words[i + 1].start_s))
        if end - start > 1e-3:
            states.append((tokens, round(start, 3), round(end, 3)))
    return states or [(None, cue.start_s, cue.end_s)]


def _ffconcat(entries: Sequence[tuple[str, float]], last: str) -> str:
    """An ffconcat playlist of (file name, seconds); names are plain generated names, never user text."""
    lines = ["ffconcat version 1.0"]
    for name, seconds in entries:
        lines += [f"file '{name}'", f"duration {seconds:.6f}"]
    lines.append(f"file '{last}'")  # the last entry's duration is ignored: end on a blank frame
    return "\n".join(lines) + "\n"


def render_caption_track(
    words: Sequence[WordTiming],
    overlays: Iterable[TextOverlay],
    folder: Path,
    *,
    width: int,
    height: int,
    font_path: Path | None = None,
    style: CaptionStyle | None = None,
    max_chars: int = 18,
    max_words: int = 4,
    language: str | None = None,
) -> CaptionTrack:
    """Render a video's captions into `folder`: overlay PNGs, and word-highlighted lines as band streams.

    Spoken lines go to the bottom band unless a text overlay occupies it at that time; then to the top,
    then the centre. Each band becomes one ffconcat list of same-size PNGs (one per word state, blank
    between lines), so the render needs one overlay per band however many words are spoken.
    `language` (the theme's BCP 47 tag) picks glyph forms and phrase breaks (see `layout_caption`).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    overlay_images = [
        render_caption_png(
            cue,
            folder / f"overlay-{i:03d}.png",
            width=width,
            height=height,
            font_path=font_path,
            style=style,
            language=language,
        )
        for i, cue in enumerate(overlay_cues(overlays))
    ]
    placed: dict[CuePosition, list[tuple[CaptionCue, CaptionLayout]]] = {}
    for cue in caption_cues_from_words(words, max_chars=max_chars, max_words=max_words):
        layout = layout_caption(
            cue, width=width, height=height, font_path=font_path, style=style, language=language
        )
        position = choose_word_position(cue, layout.box_h, overlay_images, height)
        placed.setdefault(position, []).append((cue, layout))

    with ThreadPoolExecutor(max_workers=PNG_WRITERS, thread_name_prefix="caption-png") as writers:
        written: list[Future[None]] = []

        def save(image: Image.Image, out: Path) -> None:
            written.append(writers.submit(_save_png, image, out))

        streams = [
            _band_stream(folder, band_no, position, items, width, height, style, save)
            for band_no, (position, items) in enumerate(placed.items())
        ]
        for write in written:
            write.result()  # a failed write raises here, before the track is used
    return CaptionTrack(overlays=overlay_images, streams=streams)


def _band_stream(
    folder: Path,
    band_no: int,
    position: CuePosition,
    items: list[tuple[CaptionCue, CaptionLayout]],
    width: int,
    height: int,
    style: CaptionStyle | None,
    save: Callable[[Image.Image, Path], None],
) -> CaptionStream:
    """One band's word states: drawn here, handed to `save` as PNGs, listed in an ffconcat playlist."""
    band_w = max(layout.box_w for _, layout in items)
    band_h = max(layout.box_h for _, layout in items)
    band_x, band_y = round((width - band_w) / 2), caption_y(position, band_h, height)
    blank = f"band{band_no}-blank.png"
    Image.new("RGBA", (band_w, band_h), (0, 0, 0, 0)).save(folder / blank, format="PNG")
    entries: list[tuple[str, float]] = []
    states: list[CaptionImage] = []
    clock = 0.0
    for line_no, (cue, layout) in enumerate(items):
        offset_x = (band_w - layout.box_w) // 2
        offset_y = {"top": 0, "bottom": band_h - layout.box_h}.get(position, (band_h - layout.box_h) // 2)
        timeline = word_states(cue)
        images = draw_word_states(layout, style, [active for active, _, _ in timeline])
        for (active, start, end), image in zip(timeline, images, strict=True):
            if start > clock + 1e-3:
                entries.append((blank, start - clock))
            name = f"band{band_no}-line{line_no:03d}-word{(active.start if active else 0):02d}.png"
            canvas = Image.new("RGBA", (band_w, band_h), (0, 0, 0, 0))
            canvas.paste(image, (offset_x, offset_y))  # onto a transparent band: the same as compositing
            save(canvas, folder / name)
            entries.append((name, end - max(start, clock)))
            clock = end
            states.append(
                CaptionImage(
                    path=folder / name,
                    x=band_x + offset_x,
                    y=band_y + offset_y,
                    w=layout.box_w,
                    h=layout.box_h,
                    start_s=start,
                    end_s=end,
                )
            )
    playlist = folder / f"band{band_no}.ffconcat"
    with atomic_path(playlist) as tmp:
        tmp.write_text(_ffconcat(entries, blank))
    return CaptionStream(playlist=playlist, x=band_x, y=band_y, w=band_w, h=band_h, states=states)


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
