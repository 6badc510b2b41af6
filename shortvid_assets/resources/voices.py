"""Voiceover providers: OpenAI speech when configured, offline eSpeak NG otherwise (VOICE-3).

`voice_from_env()` picks one by `SHORTVID_VOICE` (`offline`, the default, or `openai`); there
is no silent fallback from one to the other.
"""

from __future__ import annotations

import logging
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from shortvid_assets import settings
from shortvid_assets.clients.openai_voice import OpenAIVoice, VoiceError, wav_samples
from shortvid_assets.domain.costs import PaidCall, total_cost
from shortvid_assets.domain.offline_voice import Speech, synthesize_offline, voice_for_language
from shortvid_assets.domain.text import speakable_text
from shortvid_assets.resources.script_writers import openai_options, public_url

log = logging.getLogger(__name__)

VOICES = ("offline", "openai")
DEFAULT_TTS_MODEL = "gpt-4o-mini-tts"
DEFAULT_TTS_VOICE = "alloy"
DEFAULT_TRANSCRIPTION_MODEL = "whisper-1"


@dataclass
class SpokenText:
    """Speech for a voiceover script and how it was made (REVIEW-2, REVIEW-5)."""

    speech: Speech
    provider: str
    word_timing_source: str
    cost_usd: float = 0.0
    model: str | None = None
    prompts: list[dict[str, Any]] = field(default_factory=list)
    paid_calls: list[PaidCall] = field(default_factory=list)


class VoiceProvider(dg.ConfigurableResource, ABC):
    """Turns a voiceover script into speech with word timings."""

    @abstractmethod
    def speak(self, text: str, language: str = "en") -> SpokenText:
        """Speak `text` in `language` (BCP 47); emoji, URLs and hashtags are never read aloud."""

    @abstractmethod
    def describe(self) -> str:
        """Which implementation runs, for logs; never contains a secret."""

    @property
    def implementation(self) -> str:
        return "offline"


class OfflineVoice(VoiceProvider):
    """Offline default: eSpeak NG from the espeakng-loader wheel, word timings from its events."""

    voice: str = "en-us"
    words_per_minute: int = 165

    def describe(self) -> str:
        return f"offline eSpeak NG voice {self.voice} at {self.words_per_minute} words/min (no API calls)"

    def speak(self, text: str, language: str = "en") -> SpokenText:
        voice = voice_for_language(language, self.voice)
        speech = synthesize_offline(text, voice=voice, words_per_minute=self.words_per_minute, language=language)
        return SpokenText(
            speech=speech,
            provider=f"espeak-ng:{voice}",
            word_timing_source="synthesizer",
            prompts=[{"step": "speech", "voice": voice, "language": language, "input": speakable_text(text)}],
        )


class OpenAIVoiceResource(VoiceProvider):
    """The OpenAI speech API (or any compatible server) speaks the script; a transcription times its words."""

    api_key: str = Field(description="OpenAI API key; give it as dg.EnvVar('OPENAI_API_KEY')")
    base_url: str | None = Field(
        default=None, description="An OpenAI-compatible server; None = api.openai.com"
    )
    model: str = DEFAULT_TTS_MODEL
    voice: str = DEFAULT_TTS_VOICE
    instructions: str | None = Field(default=None, description="How to speak (gpt-4o-mini-tts only)")
    transcription_model: str | None = Field(
        default=DEFAULT_TRANSCRIPTION_MODEL,
        description="Model giving word timestamps; None or empty: timings estimated from the text",
    )
    timeout_s: float = 60.0
    max_retries: int = Field(
        default=3, description="SDK retries of 408/409/429/5xx and timeouts, with backoff"
    )

    @property
    def implementation(self) -> str:
        return "openai"

    def _transcription_model(self) -> str | None:
        return (self.transcription_model or "").strip() or None

    def describe(self) -> str:
        timing = self._transcription_model() or "estimated from the text"
        return (
            f"openai speech model {self.model}, voice {self.voice}, word timings {timing}, "
            f"at {public_url(self.base_url)}"
        )

    def _client(self) -> OpenAIVoice:
        return OpenAIVoice(
            self.api_key,
            model=self.model,
            voice=self.voice,
            response_format="wav",  # shortvid reads the samples to fit and mix them
            base_url=self.base_url or None,
            transcription_model=self._transcription_model(),
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            instructions=self.instructions or None,
        )

    def speak(self, text: str, language: str = "en") -> SpokenText:
        client = self._client()
        with tempfile.TemporaryDirectory(prefix="shortvid-voice-") as tmp:
            result = client.synthesize(text, Path(tmp) / "speech.wav", language=language)
            data = result.path.read_bytes()
        try:
            samples, rate = wav_samples(data)
        except ValueError as exc:
            raise VoiceError(
                f"the speech API's WAV could not be read: {exc}; check that the server returns 16-bit PCM WAV",
                calls=result.calls,
            ) from None
        prompts: list[dict[str, Any]] = [
            {
                "step": "speech",
                "model": self.model,
                "voice": self.voice,
                "language": language,
                "input": speakable_text(text),
            }
        ]
        if self.instructions:
            prompts[0]["instructions"] = self.instructions
        if self._transcription_model():
            prompts.append(
                {"step": "transcription", "model": self._transcription_model(), "input": "speech.wav"}
            )
        return SpokenText(
            speech=Speech(samples=samples, sample_rate=rate, words=result.words),
            provider=f"openai:{self.model}:{self.voice}",
            word_timing_source=result.word_timing_source,
            cost_usd=total_cost(result.calls),
            model=self.model,
            prompts=prompts,
            paid_calls=list(result.calls),
        )


def voice_from_env() -> VoiceProvider:
    """The voice named by SHORTVID_VOICE (offline by default), configured from the environment."""
    if settings.choice("SHORTVID_VOICE", VOICES) == "offline":
        provider: VoiceProvider = OfflineVoice()
    else:
        settings.require(
            "OPENAI_API_KEY",
            needed_by="SHORTVID_VOICE=openai",
            instead="unset SHORTVID_VOICE to speak offline with eSpeak NG",
        )
        transcription = settings.text("SHORTVID_TRANSCRIPTION_MODEL", DEFAULT_TRANSCRIPTION_MODEL)
        provider = OpenAIVoiceResource(
            **openai_options(),
            model=settings.text("SHORTVID_TTS_MODEL", DEFAULT_TTS_MODEL),
            voice=settings.text("SHORTVID_TTS_VOICE", DEFAULT_TTS_VOICE),
            instructions=settings.text("SHORTVID_TTS_INSTRUCTIONS"),
            transcription_model=None if transcription.lower() == "none" else transcription,
        )
    log.info("voice: %s", provider.describe())
    return provider
