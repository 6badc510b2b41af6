"""Offline text-to-speech with word timings (VOICE-3): eSpeak NG from the espeakng-loader wheel via ctypes.

The wheel ships `libespeak-ng.so` and its `espeak-ng-data`, so real speech needs no system
package and no key. The library is global state: it is initialized once per process and every
call into it holds one module lock.
"""

from __future__ import annotations

import bisect
import ctypes
import difflib
import os
import threading
import unicodedata
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shortvid_assets.domain.files import atomic_path
from shortvid_assets.domain.languages import espeak_voice_for, voice_speaks
from shortvid_assets.domain.models import WordTiming
from shortvid_assets.domain.text import mask_unspeakable, word_spans

DEFAULT_VOICE = "en-us"
DEFAULT_WORDS_PER_MINUTE = 170
MIN_WORDS_PER_MINUTE, MAX_WORDS_PER_MINUTE = 80, 450  # espeakRATE_MINIMUM / espeakRATE_MAXIMUM

# speak_lib.h constants (API revision 12).
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # without it a missing data folder calls exit() inside the library
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EE_OK = 0

# Samples at or below this magnitude count as silence when trimming the end of speech.
_SILENCE_LEVEL = 64
# Kept after the last audible sample so a final consonant's decay is not clipped.
_TAIL_KEEP_S = 0.05


class OfflineVoiceError(RuntimeError):
    """The offline voice cannot speak: library or data missing, synthesis failed, or unknown voice."""


class _EventId(ctypes.Union):
    _fields_ = (
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    )


class _Event(ctypes.Structure):
    """`espeak_EVENT`: 40 bytes on x86_64 (user_data at offset 24, the id union at 32)."""

    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters (code points) of the input
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms
        ("sample", ctypes.c_int),  # sample index within the output
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    )


class _Voice(ctypes.Structure):
    """`espeak_VOICE` as returned by espeak_ListVoices."""

    _fields_ = (
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # priority byte + name, repeated, double-NUL terminated
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    )


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True, eq=False)  # eq=False: numpy arrays have no single truth value
class Speech:
    """Synthesized mono speech with the time each input word is heard."""

    samples: np.ndarray  # int16 mono
    sample_rate: int
    words: list[WordTiming]

    def __post_init__(self) -> None:
        if self.samples.dtype != np.int16 or self.samples.ndim != 1:
            raise ValueError(
                f"speech samples must be a 1-D int16 array, got {self.samples.ndim}-D {self.samples.dtype}"
            )
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {self.sample_rate}")

    @property
    def duration_s(self) -> float:
        """Length of the audio in seconds."""
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class _Token:
    text: str
    start: int  # code-point offsets into the input
    end: int


class _Engine:
    """One initialized eSpeak NG library; callers must hold `_LOCK`."""

    def __init__(self, library_path: str, data_path: str) -> None:
        data = Path(data_path)
        if not (data / "phontab").is_file():
            raise OfflineVoiceError(
                f"eSpeak NG data not found at {data} (no phontab): reinstall the espeakng-loader "
                "package (`pip install --force-reinstall espeakng-loader`)"
            )
        try:
            lib = ctypes.CDLL(library_path)
        except OSError as exc:
            raise OfflineVoiceError(
                f"cannot load the eSpeak NG library {library_path!r} ({exc}): install the espeakng-loader "
                "package (`pip install espeakng-loader`)"
            ) from exc
        lib.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = (_SynthCallback,)
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = (ctypes.c_void_p,)
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        lib.espeak_Synth.argtypes = (
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        )
        lib.espeak_Synth.restype = ctypes.c_int

        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data).encode(), _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise OfflineVoiceError(
                f"eSpeak NG failed to initialize with data {data} (returned {rate}): reinstall espeakng-loader"
            )
        self.lib = lib
        self.sample_rate = rate
        self._chunks: list[bytes] = []
        self._events: list[tuple[int, int]] = []  # (0-based text position, sample index) of word events
        self._callback = _SynthCallback(self._on_synth)  # kept referenced: the library holds the pointer
        lib.espeak_SetSynthCallback(self._callback)
        self.voices = self._list_voices()

    def _on_synth(self, wav, count, events) -> int:  # type: ignore[no-untyped-def]
        if wav and count > 0:
            self._chunks.append(ctypes.string_at(wav, count * ctypes.sizeof(ctypes.c_short)))
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_WORD:
                self._events.append((event.text_position - 1, event.sample))
            index += 1
        return 0

    def _list_voices(self) -> list[str]:
        voices = self.lib.espeak_ListVoices(None)
        names: list[str] = []
        index = 0
        while voices[index]:
            languages = voices[index].contents.languages
            if languages:
                names.append(ctypes.string_at(languages + 1).decode("utf-8", "replace"))
            index += 1
        return sorted(set(names))

    def set_voice(self, voice: str) -> None:
        if self.lib.espeak_SetVoiceByName(voice.encode("utf-8")) != _EE_OK:
            close = difflib.get_close_matches(voice.lower(), self.voices, n=5, cutoff=0.5)
            english = [name for name in self.voices if name.startswith("en")]
            hint = f"close matches: {', '.join(close)}; " if close else ""
            raise OfflineVoiceError(
                f"unknown offline voice {voice!r}: {hint}English voices: {', '.join(english)}; "
                f"{len(self.voices)} voices in all (see offline_voice.available_voices())"
            )

    def synthesize(
        self, text: str, voice: str, words_per_minute: int
    ) -> tuple[np.ndarray, list[tuple[int, int]]]:
        self.set_voice(voice)
        self.lib.espeak_SetParameter(_PARAM_RATE, words_per_minute, 0)
        self._chunks, self._events = [], []
        encoded = text.encode("utf-8")
        status = self.lib.espeak_Synth(
            encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        chunks, events = self._chunks, self._events
        self._chunks, self._events = [], []
        if status != _EE_OK:
            raise OfflineVoiceError(f"eSpeak NG synthesis failed with status {status} for text {text[:60]!r}")
        return np.frombuffer(b"".join(chunks), dtype=np.int16).copy(), events


_LOCK = threading.Lock()
_ENGINE: _Engine | None = None


def _reset_lock_after_fork() -> None:
    global _LOCK
    _LOCK = threading.Lock()


os.register_at_fork(after_in_child=_reset_lock_after_fork)


def _engine() -> _Engine:
    """The process-wide engine, initialized on first use; call with `_LOCK` held."""
    global _ENGINE
    if _ENGINE is None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise OfflineVoiceError(
                "the offline voice needs the espeakng-loader package: `pip install espeakng-loader`"
            ) from exc
        _ENGINE = _Engine(espeakng_loader.get_library_path(), espeakng_loader.get_data_path())
    return _ENGINE


def available_voices() -> list[str]:
    """Language codes accepted as `voice` (e.g. 'en-us', 'en-gb', 'de')."""
    with _LOCK:
        return list(_engine().voices)


def _clean_text(text: str) -> str:
    """Control characters become spaces, one for one, so code-point offsets stay aligned."""
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)


def _is_speakable(token: str) -> bool:
    """A word has a letter, digit or symbol; punctuation, format marks, emoji, URLs and hashtags alone are not."""
    return any(unicodedata.category(ch)[0] in "LNS" for ch in mask_unspeakable(token))


def _tokens(text: str, language: str | None = None) -> list[_Token]:
    """The words of `text` (phrases in scripts without spaces); a token with nothing speakable (punctuation,
    emoji, a URL, a hashtag) joins the word before it (or after, if first), so captions still show it."""
    tokens: list[_Token] = []
    pending = ""
    masked = mask_unspeakable(text)
    for start, end in word_spans(text, language):
        word = text[start:end]
        if not any(unicodedata.category(ch)[0] in "LNS" for ch in masked[start:end]):
            if tokens:
                last = tokens[-1]
                tokens[-1] = _Token(last.text + text[last.end : end], last.start, end)
            else:
                pending = text[start:end] + " "
            continue
        tokens.append(_Token(pending + word, start, end))
        pending = ""
    return tokens


def _word_starts(tokens: list[_Token], events: list[tuple[int, int]]) -> list[int | None]:
    """Earliest word-event sample per token; an event inside whitespace belongs to the token before it."""
    token_starts = [token.start for token in tokens]
    starts: list[int | None] = [None] * len(tokens)
    for position, sample in events:
        index = max(bisect.bisect_right(token_starts, position) - 1, 0)
        current = starts[index]
        starts[index] = sample if current is None else min(current, sample)
    return starts


def _fill_gaps(starts: list[int | None], total: int) -> list[int]:
    """Tokens eSpeak did not announce get starts interpolated between their neighbours; result is monotonic."""
    known = [i for i, value in enumerate(starts) if value is not None]
    if not known:
        step = total / max(len(starts), 1)
        return [round(i * step) for i in range(len(starts))]
    filled: list[float] = []
    for i, value in enumerate(starts):
        if value is not None:
            filled.append(value)
            continue
        before = max((k for k in known if k < i), default=None)
        after = min((k for k in known if k > i), default=None)
        lo_i, lo = (before, starts[before]) if before is not None else (-1, 0)
        hi_i, hi = (after, starts[after]) if after is not None else (len(starts), total)
        filled.append(lo + (hi - lo) * (i - lo_i) / (hi_i - lo_i))  # type: ignore[operator]
    result: list[int] = []
    running = 0
    for value in filled:
        running = max(running, min(round(value), total))
        result.append(running)
    return result


def _audible_end(samples: np.ndarray) -> int:
    """Index just past the last sample louder than the silence level (0 if all silent)."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > _SILENCE_LEVEL)
    return int(loud[-1]) + 1 if loud.size else 0


def voice_for_language(language: str, voice: str = DEFAULT_VOICE) -> str:
    """The eSpeak NG voice to speak `language` with: `voice` when it speaks that language, else the language's."""
    if voice and voice_speaks(voice, language):
        return voice
    return espeak_voice_for(language)


def synthesize_offline(
    text: str,
    voice: str = DEFAULT_VOICE,
    words_per_minute: int = DEFAULT_WORDS_PER_MINUTE,
    *,
    language: str | None = None,
) -> Speech:
    """Speak `text` with eSpeak NG; one WordTiming per input word, trailing silence trimmed.

    With `language` (a BCP 47 tag) the voice is that language's (`voice` is kept when it speaks it).
    Emoji, URLs and hashtags are never read aloud: they stay in the word timings, attached to the word
    before them, so captions still show them.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text to speak is empty: pass the voiceover script with at least one word")
    if not MIN_WORDS_PER_MINUTE <= words_per_minute <= MAX_WORDS_PER_MINUTE:
        raise ValueError(
            f"words_per_minute={words_per_minute} is outside eSpeak's range "
            f"{MIN_WORDS_PER_MINUTE}-{MAX_WORDS_PER_MINUTE}"
        )
    if not voice or not voice.strip():
        raise ValueError(f"voice is empty: pass a language code such as {DEFAULT_VOICE!r}")
    if language:
        voice = voice_for_language(language, voice.strip())
    clean = _clean_text(text)
    tokens = _tokens(clean, language)
    if not tokens:
        raise ValueError(
            f"text {text[:60]!r} has no words to speak (only punctuation, spaces, emoji, URLs or hashtags)"
        )

    with _LOCK:
        engine = _engine()
        samples, events = engine.synthesize(mask_unspeakable(clean), voice.strip(), words_per_minute)
        rate = engine.sample_rate

    audible = _audible_end(samples)
    if audible == 0:
        raise OfflineVoiceError(
            f"eSpeak NG produced no audible speech for {text[:60]!r} with voice {voice!r}"
        )
    keep = min(len(samples), audible + round(_TAIL_KEEP_S * rate))
    samples = samples[:keep]
    starts = _fill_gaps(_word_starts(tokens, events), audible)
    ends = [*starts[1:], audible]
    words = [
        WordTiming(word=token.text, start_s=start / rate, end_s=max(end, start) / rate)
        for token, start, end in zip(tokens, starts, ends, strict=True)
    ]
    return Speech(samples=samples, sample_rate=rate, words=words)


def write_wav(speech: Speech, path: Path) -> Path:
    """Write 16-bit PCM mono WAV atomically; return the final path."""
    final = Path(path)
    with atomic_path(final) as tmp, wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(speech.sample_rate)
        out.writeframes(speech.samples.astype("<i2", copy=False).tobytes())
    return final
