"""Protects audio fitting (VOICE-2): tempo stays within limits, results hit the target to one sample,
word timings follow the tempo, pitch is kept, and impossible fits are reported instead of forced."""

from __future__ import annotations

import numpy as np
import pytest

from shortvid_assets.domain.audio_fit import (
    AudioFitError,
    change_tempo,
    choose_tempo,
    fit_to_duration,
)
from shortvid_assets.domain.models import WordTiming
from shortvid_assets.domain.offline_voice import Speech, synthesize_offline

RATE = 22050
TONE_HZ = 440.0


@pytest.fixture(scope="module")
def tone() -> Speech:
    """4 s of a 440 Hz tone with four one-second 'words'."""
    t = np.arange(4 * RATE) / RATE
    samples = (8000 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.int16)
    words = [WordTiming(word=f"w{i}", start_s=float(i), end_s=float(i + 1)) for i in range(4)]
    return Speech(samples=samples, sample_rate=RATE, words=words)


def _audible_end_s(speech: Speech) -> float:
    loud = np.flatnonzero(np.abs(speech.samples.astype(np.int32)) > 200)
    return (loud[-1] + 1) / speech.sample_rate


def _dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[int(np.argmax(spectrum))])


@pytest.mark.parametrize(
    ("speech_s", "target_s", "expected"),
    [
        (10.0, 10.0, 1.0),  # exact fit
        (11.0, 10.0, 1.1),  # a little long: just enough speed-up
        (11.5, 10.0, 1.15),  # right at the cap
        (12.0, 10.0, 1.15),  # too long: capped
        (30.0, 10.0, 1.15),
        (9.0, 10.0, 1.0),  # a little short: keep the natural tempo, pad instead
        (8.0, 10.0, 1.0),  # fills exactly the FILL_RATIO share
        (7.2, 10.0, 0.9),  # much shorter: slow down to fill 80 %
        (5.0, 10.0, 0.85),  # far shorter: floor
    ],
)
def test_choose_tempo(speech_s: float, target_s: float, expected: float) -> None:
    assert choose_tempo(speech_s, target_s, 0.85, 1.15) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("speech_s", "target_s", "min_tempo", "max_tempo", "match"),
    [
        (0.0, 10.0, 0.85, 1.15, "positive"),
        (5.0, -1.0, 0.85, 1.15, "positive"),
        (5.0, 10.0, 1.1, 1.15, "min_tempo"),
        (5.0, 10.0, 0.85, 0.95, "max_tempo"),
        (5.0, 10.0, 0.3, 1.15, "min_tempo"),
    ],
)
def test_choose_tempo_rejects_bad_input(
    speech_s: float, target_s: float, min_tempo: float, max_tempo: float, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        choose_tempo(speech_s, target_s, min_tempo, max_tempo)


def test_long_speech_is_sped_up_just_enough(tone: Speech) -> None:
    fitted = fit_to_duration(tone, target_s=3.8, tail_s=0.3)
    assert fitted.fits
    assert fitted.tempo == pytest.approx(4.0 / 3.5)
    assert len(fitted.speech.samples) == round(3.8 * RATE)
    assert _audible_end_s(fitted.speech) == pytest.approx(3.5, abs=0.05)
    assert fitted.padded_s == pytest.approx(0.3, abs=0.05)
    assert [w.start_s for w in fitted.speech.words] == pytest.approx([i / fitted.tempo for i in range(4)])
    assert fitted.speech.words[-1].end_s <= fitted.speech.duration_s
    # atempo keeps the pitch: a plain resample would move 440 Hz to about 503 Hz
    assert _dominant_hz(fitted.speech.samples[: int(3.4 * RATE)]) == pytest.approx(TONE_HZ, abs=3)


def test_slightly_short_speech_keeps_its_tempo_and_is_padded(tone: Speech) -> None:
    fitted = fit_to_duration(tone, target_s=4.6, tail_s=0.3)
    assert (fitted.fits, fitted.tempo) == (True, 1.0)
    assert len(fitted.speech.samples) == round(4.6 * RATE)
    assert fitted.padded_s == pytest.approx(0.6, abs=1 / RATE)
    assert np.array_equal(fitted.speech.samples[: len(tone.samples)], tone.samples)
    assert not fitted.speech.samples[len(tone.samples) :].any()
    assert fitted.speech.words == tone.words


def test_much_shorter_speech_is_slowed_but_not_below_the_floor(tone: Speech) -> None:
    fitted = fit_to_duration(tone, target_s=9.0, tail_s=0.3)
    assert fitted.fits and fitted.tempo == pytest.approx(0.85)
    assert len(fitted.speech.samples) == round(9.0 * RATE)
    assert _audible_end_s(fitted.speech) == pytest.approx(4.0 / 0.85, abs=0.05)
    assert fitted.speech.words[1].start_s == pytest.approx(1 / 0.85)


def test_impossible_fit_is_reported_and_keeps_the_capped_tempo(tone: Speech) -> None:
    fitted = fit_to_duration(tone, target_s=3.0, tail_s=0.3)
    assert not fitted.fits
    assert fitted.tempo == pytest.approx(1.15)
    expected = 4.0 / 1.15 + 0.3
    assert fitted.speech.duration_s == pytest.approx(expected, abs=0.03)
    assert fitted.speech.duration_s > 3.0
    assert fitted.padded_s == pytest.approx(0.3, abs=1 / RATE)
    assert fitted.speech.words[3].start_s == pytest.approx(3 / 1.15)


def test_real_speech_fits_a_scene_length() -> None:
    speech = synthesize_offline(
        "Your week, planned in seconds. Try it free today and take back your evenings."
    )
    target = round(speech.duration_s * 0.95, 2)
    fitted = fit_to_duration(speech, target_s=target)
    assert fitted.fits and 1.0 < fitted.tempo <= 1.15
    assert abs(len(fitted.speech.samples) - target * speech.sample_rate) <= 1
    assert [w.word for w in fitted.speech.words] == [w.word for w in speech.words]
    starts = [w.start_s for w in fitted.speech.words]
    assert starts == sorted(starts) and fitted.speech.words[-1].end_s <= target - 0.2


def test_target_shorter_than_the_tail_is_rejected(tone: Speech) -> None:
    with pytest.raises(ValueError, match="tail"):
        fit_to_duration(tone, target_s=0.2, tail_s=0.3)


def test_ffmpeg_failure_is_reported_with_its_message(tone: Speech) -> None:
    with pytest.raises(AudioFitError, match=r"atempo=0\.1000"):
        change_tempo(tone.samples, RATE, 0.1)
