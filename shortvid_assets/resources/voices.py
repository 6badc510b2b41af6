"""Voiceover providers: OpenAI speech when configured, offline eSpeak NG otherwise (VOICE-3)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import dagster as dg

from shortvid_assets.domain.offline_voice import Speech, synthesize_offline


@dataclass
class SpokenText:
    speech: Speech
    provider: str
    word_timing_source: str
    cost_usd: float = 0.0


class VoiceProvider(dg.ConfigurableResource, ABC):
    """Turns a voiceover script into speech with word timings."""

    @abstractmethod
    def speak(self, text: str) -> SpokenText: ...


class OfflineVoice(VoiceProvider):
    """Offline default: eSpeak NG from the espeakng-loader wheel, word timings from its events."""

    voice: str = "en-us"
    words_per_minute: int = 165

    def speak(self, text: str) -> SpokenText:
        speech = synthesize_offline(text, voice=self.voice, words_per_minute=self.words_per_minute)
        return SpokenText(speech=speech, provider=f"espeak-ng:{self.voice}", word_timing_source="synthesizer")
