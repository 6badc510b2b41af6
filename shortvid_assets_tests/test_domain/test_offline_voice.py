"""Protects the offline voice (VOICE-3): real eSpeak NG speech, word timings that match the audio,
thread safety of the global library, atomic WAV files and helpful errors for bad input."""

from __future__ import annotations

import threading
import wave
from pathlib import Path

import espeakng_loader
import numpy as np
import pytest

from shortvid_assets.domain import offline_voice
from shortvid_assets.domain.offline_voice import (
    OfflineVoiceError,
    Speech,
    available_voices,
    synthesize_offline,
    write_wav,
)

SCRIPT = (
    "Stop scrolling. This tiny planner app learns your habits and builds your week in seconds, "
    "so you finally have time for what matters."
)


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0


@pytest.fixture(scope="module")
def speech() -> Speech:
    return synthesize_offline(SCRIPT)


def test_speech_is_real_audio_of_plausible_length(speech: Speech) -> None:
    assert speech.sample_rate == 22050
    assert speech.samples.dtype == np.int16 and speech.samples.ndim == 1
    assert _rms(speech.samples) > 1000  # silence is 0; eSpeak speech sits around 2000-4000
    words = len(SCRIPT.split())
    assert 0.25 * words <= speech.duration_s <= 0.6 * words


def test_one_timing_per_input_word_in_order_and_inside_the_audio(speech: Speech) -> None:
    assert [w.word for w in speech.words] == SCRIPT.split()
    starts = [w.start_s for w in speech.words]
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts), "every word starts at its own time"
    assert starts[0] < 0.2
    for word, following in zip(speech.words, speech.words[1:], strict=False):
        assert word.end_s == pytest.approx(following.start_s)
    last = speech.words[-1]
    assert last.start_s < last.end_s <= speech.duration_s


def test_word_intervals_hold_speech_and_trailing_silence_is_trimmed(speech: Speech) -> None:
    rate = speech.sample_rate
    for word in speech.words:
        first_part = speech.samples[int(word.start_s * rate) : int((word.start_s + 0.1) * rate)]
        assert _rms(first_part) > 300, f"{word.word!r} at {word.start_s:.2f}s starts in silence"
    tail = speech.samples[int(speech.words[-1].end_s * rate) :]
    assert len(tail) / rate <= 0.06
    assert _rms(speech.samples[-int(0.1 * rate) :]) > 0


def test_rate_changes_duration_and_timings_follow() -> None:
    slow = synthesize_offline(SCRIPT, words_per_minute=120)
    fast = synthesize_offline(SCRIPT, words_per_minute=260)
    assert slow.duration_s > 1.6 * fast.duration_s
    assert slow.words[-1].start_s > 1.6 * fast.words[-1].start_s


@pytest.mark.parametrize(
    ("text", "expected_words"),
    [
        # An emoji is never spoken: it stays on screen with the word before it.
        ("Café naïve 😀 résumé über 東京 okay", ["Café", "naïve 😀", "résumé", "über", "東京", "okay"]),
        ("Hello — world !", ["Hello —", "world !"]),
        (
            "Price: $5.50, 3.5x faster; e-mail a@b.com",
            ["Price:", "$5.50,", "3.5x", "faster;", "e-mail", "a@b.com"],
        ),
        ("Tab\tseparated\nlines\x00and nul", ["Tab", "separated", "lines", "and", "nul"]),
        (
            "x ~ y ^ z",
            ["x", "~", "y", "^", "z"],
        ),  # eSpeak announces no word for "^": its start is interpolated
        ("wow \u200b ok", ["wow", "ok"]),  # a zero-width space separates words
    ],
)
def test_unusual_text_is_spoken_with_one_timing_per_word(text: str, expected_words: list[str]) -> None:
    result = synthesize_offline(text)
    assert [w.word for w in result.words] == expected_words
    assert _rms(result.samples) > 500
    starts = [w.start_s for w in result.words]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(0 <= w.start_s <= w.end_s <= result.duration_s for w in result.words)


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "... !!", "\u200b —"])
def test_text_without_words_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="text"):
        synthesize_offline(text)


def test_unknown_voice_names_the_voices_that_exist_and_the_engine_still_works() -> None:
    with pytest.raises(OfflineVoiceError, match="unknown offline voice 'xx-klingon'") as info:
        synthesize_offline("Hello there", voice="xx-klingon")
    assert "en-us" in str(info.value) and "available_voices()" in str(info.value)
    assert [w.word for w in synthesize_offline("Hello there").words] == ["Hello", "there"]


def test_other_languages_are_available() -> None:
    voices = available_voices()
    assert {"en-us", "en-gb", "de", "fr-fr"} <= set(voices)
    german = synthesize_offline("Guten Morgen, wie geht es dir?", voice="de")
    assert len(german.words) == 6 and _rms(german.samples) > 500


@pytest.mark.parametrize("wpm", [10, 79, 451])
def test_rate_outside_espeak_range_is_rejected(wpm: int) -> None:
    with pytest.raises(ValueError, match="words_per_minute"):
        synthesize_offline("Hello", words_per_minute=wpm)


def test_concurrent_calls_do_not_mix_their_audio() -> None:
    texts = [f"Thread number {n} says {'hello ' * (n + 2)}and goodbye." for n in range(4)]
    alone = {text: synthesize_offline(text).duration_s for text in texts}
    results: dict[str, Speech] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(texts))

    def run(text: str) -> None:
        barrier.wait()
        try:
            for _ in range(3):
                results[text] = synthesize_offline(text)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    for text in texts:
        assert [w.word for w in results[text].words] == text.split()
        # eSpeak adds a little noise at random, so lengths vary by a few ms between calls
        assert results[text].duration_s == pytest.approx(alone[text], rel=0.05)


def test_missing_library_or_data_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(OfflineVoiceError, match="espeakng-loader"):
        offline_voice._Engine(str(tmp_path / "libespeak-ng.so"), espeakng_loader.get_data_path())
    with pytest.raises(OfflineVoiceError, match="phontab"):
        offline_voice._Engine(espeakng_loader.get_library_path(), str(tmp_path))


def test_wav_round_trips(speech: Speech, tmp_path: Path) -> None:
    path = write_wav(speech, tmp_path / "voice" / "plan.wav")
    assert path == tmp_path / "voice" / "plan.wav"
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
        assert wav.getnframes() == len(speech.samples)
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert np.array_equal(frames, speech.samples)
    assert sorted(p.name for p in path.parent.iterdir()) == ["plan.wav"]


def test_failed_wav_write_leaves_old_file_and_no_partial(
    speech: Speech, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    final = tmp_path / "plan.wav"
    final.write_bytes(b"previous voiceover")

    def disk_full(self: wave.Wave_write, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wave.Wave_write, "writeframes", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_wav(speech, final)
    assert final.read_bytes() == b"previous voiceover"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.wav"]


def test_wav_write_onto_a_directory_fails_without_leftovers(speech: Speech, tmp_path: Path) -> None:
    (tmp_path / "plan.wav").mkdir()
    with pytest.raises(OSError):
        write_wav(speech, tmp_path / "plan.wav")
    assert [p.name for p in tmp_path.iterdir()] == ["plan.wav"]
    assert (tmp_path / "plan.wav").is_dir()


def test_speech_rejects_wrong_sample_format() -> None:
    with pytest.raises(ValueError, match="int16"):
        Speech(samples=np.zeros(10, dtype=np.float32), sample_rate=22050, words=[])
