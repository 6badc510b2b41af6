"""The OpenAI voice (VOICE-1): speech from the voiceover script, with word timings for captions.

Word timings come from a transcription of the speech with word timestamps (`whisper-1` with
`verbose_json`; the gpt-4o transcribe models return no timestamps) aligned back onto the
script's own words, so captions keep the script's spelling and punctuation. Without a
transcription model they are estimated: each word gets a share of the audio's duration
proportional to its characters.

The API streams WAV with placeholder sizes (0xFFFFFFFF) in its RIFF and data headers; the bytes
are saved with the real sizes written in, so any reader sees the true length.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import wave
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Literal

import httpx
import numpy as np

from shortvid_assets.clients.openai_common import (
    PROVIDER,
    OpenAIClientError,
    PricedOpenAIClient,
    api_error_message,
    is_transient,
)
from shortvid_assets.domain.costs import (
    PaidCall,
    PriceTable,
    cost_of_speech,
    cost_of_transcription,
)
from shortvid_assets.domain.files import atomic_path
from shortvid_assets.domain.models import WordTiming
from shortvid_assets.domain.text import has_no_space_script, mask_unspeakable, speakable_text, word_spans

log = logging.getLogger(__name__)

MAX_SPEECH_CHARS = 4096  # the speech endpoint's input limit
PCM_SAMPLE_RATE = 24_000  # the speech endpoint's raw `pcm` format: 24 kHz, 16-bit little-endian, mono
SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
_UPLOAD_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
}


class VoiceError(OpenAIClientError):
    """No voiceover: the text was unusable, the API failed, or the audio could not be read."""


@dataclass
class VoiceResult:
    """A written voiceover file, its word timings and the paid calls that made it."""

    path: Path
    words: list[WordTiming]
    calls: list[PaidCall]
    word_timing_source: Literal["transcription", "estimated"]
    duration_s: float | None = None


# --- WAV handling ---


def _wav_chunks(data: bytes) -> tuple[tuple[int, int, int], int, int]:
    """(channels, sample rate, bytes per frame), data offset and real data length of a RIFF/WAVE file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    fmt: tuple[int, int, int] | None = None
    offset = 12
    while offset + 8 <= len(data):
        chunk_id = data[offset : offset + 4]
        (size,) = struct.unpack("<I", data[offset + 4 : offset + 8])
        body = offset + 8
        if chunk_id == b"fmt ":
            channels, rate = struct.unpack("<HI", data[body + 2 : body + 8])
            (block_align,) = struct.unpack("<H", data[body + 12 : body + 14])
            fmt = (channels, rate, block_align)
        elif chunk_id == b"data":
            if fmt is None:
                raise ValueError("data chunk before the fmt chunk")
            length = min(size, len(data) - body)  # streamed WAV declares 0xFFFFFFFF
            return fmt, body, length - length % max(fmt[2], 1)
        offset = body + size + (size & 1)
    raise ValueError("no data chunk")


def repair_wav_header(data: bytes) -> bytes:
    """The WAV bytes with the RIFF and data sizes set to the real lengths (streamed WAV has placeholders)."""
    _, body, length = _wav_chunks(data)
    fixed = bytearray(data[: body + length])
    fixed[4:8] = struct.pack("<I", len(fixed) - 8)
    fixed[body - 4 : body] = struct.pack("<I", length)
    return bytes(fixed)


def wav_duration_s(data: bytes) -> float:
    """Duration of WAV bytes in seconds, measured from the samples present."""
    (channels, rate, block_align), _, length = _wav_chunks(data)
    if rate <= 0 or block_align <= 0:
        raise ValueError(f"invalid WAV format: {channels} channels, {rate} Hz, {block_align} bytes per frame")
    return length / block_align / rate


def wav_samples(data: bytes) -> tuple[np.ndarray, int]:
    """Mono int16 samples and the sample rate of 16-bit PCM WAV bytes (channels are averaged)."""
    fixed = repair_wav_header(data)
    with wave.open(io.BytesIO(fixed)) as wav:
        channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    if width != 2:
        raise ValueError(f"expected 16-bit PCM WAV, got {8 * width}-bit samples")
    samples = np.frombuffer(frames, dtype="<i2")
    if channels > 1:
        samples = samples[: len(samples) - len(samples) % channels].reshape(-1, channels).mean(axis=1)
    return samples.astype(np.int16), rate


def pcm_to_wav(pcm: bytes, sample_rate: int = PCM_SAMPLE_RATE) -> bytes:
    """Raw 16-bit mono PCM wrapped in a WAV header."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return buffer.getvalue()


# --- word timings ---


def script_words(text: str, language: str | None = None) -> list[str]:
    """The script's words as captions show them (phrases in scripts without spaces); tokens with nothing
    spoken in them (punctuation, emoji, URLs, hashtags) stay with the word before."""
    words: list[str] = []
    for start, end in word_spans(text, language):
        token = text[start:end]
        if words and not _normalized(mask_unspeakable(token)):
            words[-1] = f"{words[-1]} {token}" if text[start - 1 : start].isspace() else words[-1] + token
        else:
            words.append(token)
    return words


def _normalized(word: str) -> str:
    return re.sub(r"[\W_]+", "", word.lower())


def _spread(words: list[str], start: float, end: float) -> list[WordTiming]:
    """Timings for `words` sharing [start, end] in proportion to their characters."""
    weights = [len(word) + 1 for word in words]
    total = sum(weights) or 1
    timings, position = [], start
    for word, weight in zip(words, weights, strict=True):
        step = (end - start) * weight / total
        timings.append(WordTiming(word=word, start_s=round(position, 3), end_s=round(position + step, 3)))
        position += step
    return timings


def estimate_word_timings(text: str, duration_s: float, language: str | None = None) -> list[WordTiming]:
    """Word timings spread over the audio's duration in proportion to each word's characters."""
    return _spread(script_words(text, language), 0.0, max(duration_s, 0.0))


def _align_by_characters(words: list[str], heard: list[WordTiming]) -> list[WordTiming]:
    """Timings for words of a script without spaces: its characters matched to the heard characters.

    A transcription cuts Japanese, Chinese or Thai into other chunks than the script's phrases, so
    words are matched character by character; each heard chunk's time is shared by its characters.
    """
    script_chars: list[tuple[str, int]] = [(c, i) for i, word in enumerate(words) for c in _normalized(word)]
    heard_chars: list[tuple[str, float, float]] = []
    for item in heard:
        chars = _normalized(item.word)
        span = (item.end_s - item.start_s) / max(len(chars), 1)
        heard_chars += [
            (c, item.start_s + k * span, item.start_s + (k + 1) * span) for k, c in enumerate(chars)
        ]
    matcher = SequenceMatcher(
        a=[c for c, _ in script_chars], b=[c for c, _, _ in heard_chars], autojunk=False
    )
    starts: list[float | None] = [None] * len(words)
    ends: list[float | None] = [None] * len(words)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            index = script_chars[block.a + k][1]
            _, t0, t1 = heard_chars[block.b + k]
            starts[index] = t0 if starts[index] is None else min(starts[index], t0)  # type: ignore[type-var]
            ends[index] = t1 if ends[index] is None else max(ends[index], t1)  # type: ignore[type-var]
    timed: list[WordTiming] = []
    index = 0
    while index < len(words):
        if starts[index] is not None:
            start = max(starts[index], timed[-1].end_s if timed else 0.0)  # type: ignore[type-var]
            timed.append(
                WordTiming(
                    word=words[index], start_s=round(start, 3), end_s=round(max(start, ends[index]), 3)
                )
            )  # type: ignore[type-var]
            index += 1
            continue
        gap_end = index
        while gap_end < len(words) and starts[gap_end] is None:
            gap_end += 1
        begin = timed[-1].end_s if timed else 0.0
        finish = starts[gap_end] if gap_end < len(words) else heard[-1].end_s
        timed.extend(_spread(words[index:gap_end], begin, max(begin, finish)))  # type: ignore[arg-type]
        index = gap_end
    return timed


def align_words(text: str, heard: list[WordTiming], language: str | None = None) -> list[WordTiming]:
    """The script's words, each timed by the transcribed word it matches; unmatched words share the gaps."""
    words = script_words(text, language)
    if not heard:
        return []
    if has_no_space_script(text):
        return _align_by_characters(words, heard)
    matcher = SequenceMatcher(
        a=[_normalized(word) for word in words], b=[_normalized(item.word) for item in heard], autojunk=False
    )
    timed: list[WordTiming] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            timed.extend(
                WordTiming(word=words[i], start_s=heard[j].start_s, end_s=heard[j].end_s)
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
        elif tag == "replace":
            timed.extend(_spread(words[i1:i2], heard[j1].start_s, heard[j2 - 1].end_s))
        elif tag == "delete":  # script words the transcription missed: fit them into the gap
            start = timed[-1].end_s if timed else 0.0
            end = heard[j1].start_s if j1 < len(heard) else heard[-1].end_s
            timed.extend(_spread(words[i1:i2], start, max(start, end)))
        # "insert": words heard but not in the script carry no caption
    return timed


class OpenAIVoice(PricedOpenAIClient):
    """Synthesizes a voiceover with the OpenAI speech API and times its words for captions."""

    def __init__(
        self,
        api_key: str,
        *,
        model: str = "gpt-4o-mini-tts",
        voice: str = "alloy",
        response_format: SpeechFormat = "wav",
        base_url: str | None = None,
        transcription_model: str | None = "whisper-1",
        timeout_s: float = 60,
        max_retries: int = 3,
        http_client: httpx.Client | None = None,
        instructions: str | None = None,
        speed: float | None = None,
        price_table: PriceTable | None = None,
        language: str | None = None,
    ) -> None:
        if transcription_model is None and response_format not in ("wav", "pcm"):
            raise ValueError(
                f"estimated word timings need the audio's duration, which shortvid reads from 'wav' or 'pcm' "
                f"only; got response_format={response_format!r}: use 'wav' or set transcription_model"
            )
        super().__init__(
            api_key,
            model=model,
            priced_as=("speech",),
            base_url=base_url,
            timeout_s=timeout_s,
            max_retries=max_retries,
            http_client=http_client,
            price_table=price_table,
        )
        if transcription_model is not None:
            self._prices.price("transcription", transcription_model)
        self.voice = voice
        self.response_format = response_format
        self.transcription_model = transcription_model
        self.instructions = instructions
        self.speed = speed
        self.language = language  # BCP 47; tells the transcription what it hears

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIVoice(model={self.model!r}, voice={self.voice!r}, transcription={self.transcription_model!r})"

    def synthesize(self, text: str, out_path: Path, *, language: str | None = None) -> VoiceResult:
        """Speak `text` into `out_path` (written atomically) and return its word timings and costs.

        Emoji, URLs and hashtags are not sent to be spoken; they stay in the word timings (with the word
        before them) for captions. `language` (BCP 47, default the client's) goes to the transcription.
        """
        import openai

        language = language or self.language
        text = " ".join(text.split())
        if not text:
            raise VoiceError("the voiceover script is empty; nothing to synthesize")
        if not speakable_text(text):
            raise VoiceError("the voiceover script has nothing to speak (only emoji, URLs or hashtags)")
        if len(text) > MAX_SPEECH_CHARS:
            raise VoiceError(
                f"the voiceover script has {len(text)} characters, over the speech API's limit of "
                f"{MAX_SPEECH_CHARS}; shorten the script"
            )
        out_path = Path(out_path)
        calls: list[PaidCall] = []
        step = "speech"
        try:
            audio = self._speech(speakable_text(text), calls)
            upload, duration = self._measure(audio, calls)
            if self.response_format == "wav":
                audio = upload
            words: list[WordTiming] = []
            source: Literal["transcription", "estimated"] = "estimated"
            if self.transcription_model is not None:
                step = "transcription"
                words, heard_duration = self._transcribe(text, upload, calls, language)
                duration = duration if duration is not None else heard_duration
                source = "transcription"
                if not words:
                    log.warning("transcription of the voiceover returned no words; estimating word timings")
                    source = "estimated"
            if not words:
                words = estimate_word_timings(text, duration or 0.0, language)
        except openai.OpenAIError as exc:
            message = api_error_message(
                exc,
                f"{step} (model {self.model if step == 'speech' else self.transcription_model})",
                api_key=self._api_key,
                timeout_s=self.timeout_s,
                max_retries=self.max_retries,
            )
            raise VoiceError(message, calls=calls, retryable=is_transient(exc)) from None
        with atomic_path(out_path) as tmp:
            tmp.write_bytes(audio)
        log.info(
            "voiceover %s: %.2f s, %d words timed by %s, $%.5f",
            out_path,
            duration or 0.0,
            len(words),
            source,
            sum(call.cost_usd for call in calls),
        )
        return VoiceResult(
            path=out_path, words=words, calls=calls, word_timing_source=source, duration_s=duration
        )

    def _speech(self, text: str, calls: list[PaidCall]) -> bytes:
        options: dict[str, object] = {}
        if self.instructions:
            options["instructions"] = self.instructions
        if self.speed is not None:
            options["speed"] = self.speed
        response = self._client.audio.speech.create(
            input=text, model=self.model, voice=self.voice, response_format=self.response_format, **options
        )
        audio = response.content
        calls.append(
            PaidCall(
                provider=PROVIDER,
                model=self.model,
                kind="speech",
                units={"characters": len(text)},
                cost_usd=cost_of_speech(self.model, len(text), self._prices),
            )
        )
        if not audio:
            raise VoiceError(
                f"the speech API returned no audio for {len(text)} characters; retry", calls=calls
            )
        return audio

    def _measure(self, audio: bytes, calls: list[PaidCall]) -> tuple[bytes, float | None]:
        """The audio to upload for transcription (WAV with real sizes where possible) and its duration."""
        try:
            if self.response_format == "wav":
                fixed = repair_wav_header(audio)
                return fixed, wav_duration_s(fixed)
            if self.response_format == "pcm":
                wav = pcm_to_wav(audio)
                return wav, wav_duration_s(wav)
        except ValueError as exc:
            raise VoiceError(
                f"the speech API's {self.response_format} audio could not be read: {exc}", calls=calls
            ) from None
        return audio, None

    def _transcribe(
        self, text: str, upload: bytes, calls: list[PaidCall], language: str | None = None
    ) -> tuple[list[WordTiming], float]:
        upload_format = "wav" if self.response_format in ("wav", "pcm") else self.response_format
        assert self.transcription_model is not None
        options: dict[str, str] = {}
        if language:  # ISO-639-1, as the transcription API takes it
            options["language"] = language.split("-")[0].lower()
        transcript = self._client.audio.transcriptions.create(
            file=(f"voiceover.{upload_format}", upload, _UPLOAD_TYPES[upload_format]),
            model=self.transcription_model,
            response_format="verbose_json",
            timestamp_granularities=["word"],
            **options,
        )
        usage = getattr(transcript, "usage", None)
        seconds = float(getattr(usage, "seconds", None) or transcript.duration or 0.0)
        calls.append(
            PaidCall(
                provider=PROVIDER,
                model=self.transcription_model,
                kind="transcription",
                units={"seconds": seconds},
                cost_usd=cost_of_transcription(self.transcription_model, seconds, self._prices),
            )
        )
        heard = [
            WordTiming(word=item.word, start_s=max(item.start, 0.0), end_s=max(item.end, item.start, 0.0))
            for item in transcript.words or []
        ]
        return align_words(text, heard, language), float(transcript.duration or 0.0)
