"""Fit a voiceover to the video's duration (VOICE-2): a gentle tempo change plus silence padding."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

import numpy as np

from shortvid_assets.domain.models import WordTiming
from shortvid_assets.domain.offline_voice import Speech

MIN_TEMPO, MAX_TEMPO = 0.85, 1.15
DEFAULT_TAIL_S = 0.3
# Speech filling less than this share of the available time is "much shorter": it is slowed down
# (never below min_tempo) until it fills this share; above it the tempo stays 1.0.
FILL_RATIO = 0.8
# Tempos this close to 1.0 skip ffmpeg: the change would be inaudible.
_TEMPO_EPSILON = 1e-3
_TIMEOUT_S = 120


class AudioFitError(RuntimeError):
    """ffmpeg could not change the speech tempo."""


@dataclass(frozen=True)
class FittedSpeech:
    """Speech fitted to a target duration; `fits` is False when the tempo limits could not reach it."""

    speech: Speech
    tempo: float
    padded_s: float
    fits: bool


def _check_limits(min_tempo: float, max_tempo: float) -> None:
    if not 0.5 <= min_tempo <= 1.0 <= max_tempo <= 2.0:
        raise ValueError(
            f"tempo limits must satisfy 0.5 <= min_tempo <= 1.0 <= max_tempo <= 2.0, "
            f"got min_tempo={min_tempo}, max_tempo={max_tempo}"
        )


def choose_tempo(
    speech_s: float, target_s: float, min_tempo: float = MIN_TEMPO, max_tempo: float = MAX_TEMPO
) -> float:
    """Tempo (>1 faster) that fits `speech_s` of speech into `target_s`, clamped to the limits."""
    _check_limits(min_tempo, max_tempo)
    if speech_s <= 0 or target_s <= 0:
        raise ValueError(f"durations must be positive, got speech_s={speech_s}, target_s={target_s}")
    if speech_s > target_s:
        return min(speech_s / target_s, max_tempo)
    if speech_s < FILL_RATIO * target_s:
        return max(speech_s / (FILL_RATIO * target_s), min_tempo)
    return 1.0


def _ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def change_tempo(samples: np.ndarray, sample_rate: int, tempo: float) -> np.ndarray:
    """Time-stretch int16 mono samples by `tempo` with ffmpeg's atempo (pitch unchanged)."""
    pcm = ["-f", "s16le", "-ar", str(sample_rate), "-ac", "1"]
    command = [
        _ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
        *pcm, "-i", "pipe:0",
        "-af", f"atempo={tempo:.6f}",
        *pcm, "pipe:1",
    ]  # fmt: skip
    try:
        result = subprocess.run(
            command,
            input=samples.astype("<i2").tobytes(),
            capture_output=True,
            check=False,
            timeout=_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise AudioFitError(
            f"ffmpeg atempo={tempo:.4f} ran longer than {_TIMEOUT_S}s and was stopped"
        ) from exc
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", "replace").strip()
        raise AudioFitError(f"ffmpeg atempo={tempo:.4f} failed (exit {result.returncode}): {stderr[-500:]}")
    return np.frombuffer(result.stdout, dtype="<i2").astype(np.int16)


def _scaled(words: list[WordTiming], tempo: float, limit_s: float) -> list[WordTiming]:
    return [
        WordTiming(
            word=w.word,
            start_s=min(w.start_s / tempo, limit_s),
            end_s=min(w.end_s / tempo, limit_s),
        )
        for w in words
    ]


def fit_to_duration(
    speech: Speech,
    target_s: float,
    min_tempo: float = MIN_TEMPO,
    max_tempo: float = MAX_TEMPO,
    tail_s: float = DEFAULT_TAIL_S,
) -> FittedSpeech:
    """Change tempo within the limits so speech plus `tail_s` of silence fits `target_s`, then pad to it.

    When fits is True the result lasts exactly `target_s` (to one sample). When even `max_tempo`
    leaves the speech too long, fits is False and the result is the sped-up speech plus the tail:
    the caller lengthens its scenes to `result.speech.duration_s`.
    """
    _check_limits(min_tempo, max_tempo)
    if tail_s < 0:
        raise ValueError(f"tail_s must be >= 0, got {tail_s}")
    if target_s <= tail_s:
        raise ValueError(f"target_s={target_s} must be longer than the silent tail ({tail_s}s)")
    rate = speech.sample_rate
    available_s = target_s - tail_s
    tempo = choose_tempo(speech.duration_s, available_s, min_tempo, max_tempo)
    if abs(tempo - 1.0) < _TEMPO_EPSILON:
        tempo = 1.0
        voiced = speech.samples
    else:
        voiced = change_tempo(speech.samples, rate, tempo)

    fits = speech.duration_s / available_s <= max_tempo + 1e-9
    total = round(target_s * rate) if fits else len(voiced) + round(tail_s * rate)
    voiced = voiced[:total]  # atempo may overshoot its ideal length by a few ms
    samples = np.zeros(total, dtype=np.int16)
    samples[: len(voiced)] = voiced
    words = _scaled(speech.words, tempo, len(voiced) / rate)
    return FittedSpeech(
        speech=Speech(samples=samples, sample_rate=rate, words=words),
        tempo=tempo,
        padded_s=(total - len(voiced)) / rate,
        fits=fits,
    )
