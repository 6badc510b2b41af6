"""The languages shortvid writes, speaks and captions: one table, one home for every per-language fact.

A theme names its language as a BCP 47 tag (`en`, `pt-BR`, `zh-Hans`); `resolve_language` checks it
against this table. Region and script subtags pick a voice variant where eSpeak NG has one
(`en-GB`, `pt-BR`, `es-419`); Simplified Chinese is the only Chinese (the template writer's and
the offline voice's).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_LANGUAGE = "en"


class UnsupportedLanguageError(ValueError):
    """A language tag shortvid has no templates, voice or fonts for."""


@dataclass(frozen=True)
class Language:
    """What shortvid knows about one language."""

    code: str  # primary BCP 47 subtag
    name: str  # in English, for prompts and messages
    espeak_voice: str  # the offline voice: a voice name espeak_SetVoiceByName accepts in the wheel's data
    spaced: bool  # words are separated by spaces (False: Japanese, Chinese, Thai)
    # Offline voice pace at its default rate: words per second when spaced, else characters per second.
    # Measured on the template writer's sentences at 165 words/min (espeakng-loader 0.2.4); eSpeak reads
    # Japanese kanji and Korean slowly, so their budgets are small.
    units_per_s: float
    region_voices: tuple[tuple[str, str], ...] = ()  # (region or script subtag, eSpeak voice)
    rtl: bool = False


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en", "English", "en-us", True, 2.6, (("gb", "en"), ("uk", "en"))),
        Language("es", "Spanish", "es", True, 2.6, (("419", "es-419"), ("mx", "es-419"), ("us", "es-419"))),
        Language("pt", "Portuguese", "pt", True, 2.6, (("br", "pt-br"),)),
        Language("de", "German", "de", True, 2.3),
        Language("fr", "French", "fr", True, 3.0, (("be", "fr-be"), ("ch", "fr-ch"))),
        Language("ja", "Japanese", "ja", False, 2.2),
        Language("ko", "Korean", "ko", True, 1.5),
        Language("zh", "Chinese (Simplified)", "cmn", False, 3.2),
        Language("ar", "Arabic", "ar", True, 1.8, rtl=True),
        Language("hi", "Hindi", "hi", True, 2.7),
    )
}
# Subtags that name a script or region a language's templates do not cover.
_REFUSED_SUBTAGS = {"zh": {"hant", "tw", "hk", "mo"}}


def supported_languages() -> list[str]:
    """The primary language codes a theme may use."""
    return list(LANGUAGES)


def _unsupported(tag: str, why: str = "") -> UnsupportedLanguageError:
    listed = ", ".join(f"{code} ({lang.name})" for code, lang in LANGUAGES.items())
    return UnsupportedLanguageError(
        f"unsupported language {tag!r}{why}; supported languages: {listed} "
        "(a region may follow, e.g. pt-BR, en-GB)"
    )


def normalize_language(tag: str) -> str:
    """A supported BCP 47 tag in canonical case (`pt-br` -> `pt-BR`, `zh-hans` -> `zh-Hans`), or raise."""
    if not isinstance(tag, str) or not tag.strip():
        raise _unsupported(str(tag), " (empty)")
    parts = tag.strip().replace("_", "-").split("-")
    primary = parts[0].lower()
    if primary not in LANGUAGES or any(not part.isalnum() for part in parts):
        raise _unsupported(tag)
    refused = [p for p in parts[1:] if p.lower() in _REFUSED_SUBTAGS.get(primary, set())]
    if refused:
        raise _unsupported(tag, f" (only Simplified Chinese is supported, not {refused[0]})")
    canonical = [primary]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            canonical.append(part.title())  # script subtag
        elif len(part) in (2, 3):
            canonical.append(part.upper())  # region subtag (alpha-2 or UN M.49)
        else:
            canonical.append(part.lower())
    return "-".join(canonical)


def language_of(tag: str) -> Language:
    """The table entry for a (supported) tag."""
    return LANGUAGES[normalize_language(tag).split("-")[0]]


def espeak_voice_for(tag: str) -> str:
    """The eSpeak NG voice for a language tag: its region's variant when the table has one, else the language's."""
    lang = language_of(tag)
    subtags = [part.lower() for part in normalize_language(tag).split("-")[1:]]
    for subtag, voice in lang.region_voices:
        if subtag in subtags:
            return voice
    return lang.espeak_voice


_ESPEAK_PRIMARY = {"cmn": "zh", "yue": "zh"}


def voice_speaks(voice: str, tag: str) -> bool:
    """True when an eSpeak NG voice name (`en-gb`, `cmn`, `pt-br`) speaks the language of `tag`."""
    primary = voice.strip().lower().split("-")[0]
    return _ESPEAK_PRIMARY.get(primary, primary) == normalize_language(tag).split("-")[0]
