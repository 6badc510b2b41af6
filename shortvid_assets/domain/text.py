"""Text as it is spoken and segmented: emoji, URLs and hashtags are never spoken; words in any script.

Scripts written without spaces (Japanese, Chinese, Thai) are split into phrases by BudouX, a small
line-break segmenter from pip with models for those languages, so word timings and caption line
breaks stay meaningful there too.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from collections.abc import Callable

import regex

logger = logging.getLogger(__name__)

ZWSP = "\u200b"  # marks a word boundary where no space is written (Unicode's break opportunity)

# Emoji as people type them: pictographs with their modifiers, joiners, keycaps, flags and tag sequences.
_EMOJI = regex.compile(
    r"(?:[0-9#*]\uFE0F?\u20E3)"  # keycaps
    r"|(?:\p{Regional_Indicator}{1,2})"  # flags
    r"|(?:\p{Extended_Pictographic}[\uFE0E\uFE0F]?\p{Emoji_Modifier}?[\U000E0020-\U000E007F]*"
    r"(?:\u200D\p{Extended_Pictographic}[\uFE0E\uFE0F]?\p{Emoji_Modifier}?)*)"
    r"|[\uFE0F\u20E3\p{Emoji_Modifier}]"
)
_URL = regex.compile(
    r"(?:https?://|www\.)\S+"
    r"|(?<![@\w.-])[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|co|app|dev|ai|shop|store|me|tv|ly|gg|link)\b(?:/\S*)?",
    regex.IGNORECASE,
)
_HASHTAG = regex.compile(r"(?<![\w&])[#＃][\w\p{M}]*\p{L}[\w\p{M}]*")
# Scripts written without spaces between words.
_NO_SPACE_CHAR = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}ー々〆]")
_THAI = regex.compile(r"[\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}ー]")
# Closing punctuation never starts a line in CJK text; it glues to the word before it.
_CLOSING = set("、。，．,.!?！？:;：；)]}）」』】〉》〕”’…ー・%％")


def emoji_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) code-point spans of each emoji sequence in `text`."""
    return [m.span() for m in _EMOJI.finditer(text)]


def has_emoji(text: str) -> bool:
    return any(m.group() not in "0123456789#*" for m in _EMOJI.finditer(text))


def _unspeakable_spans(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for pattern in (_URL, _HASHTAG) for m in pattern.finditer(text)]
    spans += [m.span() for m in _EMOJI.finditer(text)]
    return sorted(spans)


def unspoken_count(text: str) -> int:
    """How many emoji, URLs and hashtags in `text` a voice skips."""
    return len(_unspeakable_spans(text))


def mask_unspeakable(text: str) -> str:
    """`text` with emoji, URLs and hashtags replaced by spaces one for one, so character offsets still match."""
    chars = list(text)
    for start, end in _unspeakable_spans(text):
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def speakable_text(text: str) -> str:
    """What a voice should read: `text` without emoji, URLs or hashtags, spaces tidied."""
    masked = mask_unspeakable(unicodedata.normalize("NFC", text))
    masked = regex.sub(r"[ \t]+([,.!?;:،؟।。、！？])", r"\1", masked)
    masked = regex.sub(rf"(?<={_NO_SPACE_CHAR.pattern})\s+(?={_NO_SPACE_CHAR.pattern})", "", masked)
    return regex.sub(r"\s+", " ", masked).strip()


def has_no_space_script(text: str) -> bool:
    """True when `text` has characters of a script written without spaces between words."""
    return _NO_SPACE_CHAR.search(text) is not None


@functools.cache
def _parser(kind: str) -> Callable[[str], list[str]] | None:
    try:
        import budoux
    except ImportError:
        logger.warning("budoux is not installed: Japanese, Chinese and Thai text is split per character")
        return None
    loader = {
        "ja": budoux.load_default_japanese_parser,
        "zh": budoux.load_default_simplified_chinese_parser,
        "th": budoux.load_default_thai_parser,
    }[kind]
    return loader().parse


def _graphemes(text: str) -> list[str]:
    return regex.findall(r"\X", text)


def _phrases(token: str, language: str | None = None) -> list[str]:
    """A space-free token split into phrases (BudouX), or grapheme clusters without the segmenter."""
    if _THAI.search(token):
        kind = "th"
    elif _KANA.search(token) or (language or "").startswith("ja"):
        kind = "ja"
    else:
        kind = "zh"
    parse = _parser(kind)
    pieces = [p for p in (parse(token) if parse else _graphemes(token)) if p]
    if "".join(pieces) != token:  # a segmenter must only cut, never change the text
        pieces = _graphemes(token)
    merged: list[str] = []
    for piece in pieces:  # closing punctuation and lone marks stay with the phrase before them
        if merged and (piece[0] in _CLOSING or unicodedata.category(piece[0]).startswith("M")):
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def word_spans(text: str, language: str | None = None) -> list[tuple[int, int]]:
    """(start, end) code-point spans of the words of `text`: space-separated, and phrases in space-free scripts."""
    spans: list[tuple[int, int]] = []
    for match in regex.finditer(r"[^\s\u200b]+", text):
        token, start = match.group(), match.start()
        if not has_no_space_script(token):
            spans.append(match.span())
            continue
        for phrase in _phrases(token, language):
            spans.append((start, start + len(phrase)))
            start += len(phrase)
    return spans


def split_words(text: str, language: str | None = None) -> list[str]:
    """The words of `text` (see `word_spans`)."""
    return [text[a:b] for a, b in word_spans(text, language)]


def joins_without_space(before: str, after: str) -> bool:
    """True when two consecutive words are written together (both sides in a script without spaces)."""
    if not before or not after:
        return False
    if after[0] in _CLOSING and has_no_space_script(before[-1]):
        return True
    return has_no_space_script(before[-1]) and has_no_space_script(after[0])


def join_words(words: list[str]) -> str:
    """Words joined as written: a space between words, a zero-width space where the script writes none."""
    out = ""
    for word in words:
        if out:
            out += ZWSP if joins_without_space(out, word) else " "
        out += word
    return out
