"""Protects the OpenAI voice (VOICE-1, REVIEW-5): speech bytes written atomically, word timings, costs.

It drives the real SDK against the fake API, whose WAV carries the real API's streamed
placeholder sizes, and checks the pure helpers that read WAV and align transcribed words.
"""

from __future__ import annotations

import math
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from shortvid_assets.clients.openai_voice import (
    OpenAIVoice,
    VoiceError,
    align_words,
    estimate_word_timings,
    repair_wav_header,
    script_words,
    wav_duration_s,
)
from shortvid_assets.domain.models import WordTiming
from shortvid_assets_tests.fakes.fake_openai import (
    FAKE_KEY,
    SECONDS_PER_CHAR,
    SPEECH,
    TRANSCRIPTIONS,
    FakeOpenAI,
    running_fake,
    server_error,
    sine_wav,
)

SCRIPT = "Is your morning coffee lying to you? GlowBrew is cold brewed for twenty hours. Try it!"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    yield from running_fake()


def voice(fake: FakeOpenAI, **options: object) -> OpenAIVoice:
    settings: dict[str, object] = {"base_url": fake.base_url, "max_retries": 0, "timeout_s": 10}
    settings.update(options)
    return OpenAIVoice(FAKE_KEY, **settings)  # type: ignore[arg-type]


def test_speech_is_written_as_a_valid_wav_with_word_timings_from_the_transcription(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    out = tmp_path / "voiceover" / "2026-11-24" / "glowbrew.wav"

    result = voice(fake).synthesize(SCRIPT, out)

    expected_s = len(SCRIPT) * SECONDS_PER_CHAR
    with wave.open(str(out)) as wav:  # the real sizes were written over the streamed placeholders
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 24_000)
        assert wav.getnframes() == int(expected_s * 24_000)
    assert out.stat().st_size == 44 + 2 * int(expected_s * 24_000)
    assert result.path == out
    assert result.duration_s == pytest.approx(expected_s, abs=1e-3)
    assert list(tmp_path.rglob(".*.part*")) == []

    speech = fake.requests_to(SPEECH)[0].json
    assert speech == {"input": SCRIPT, "model": "gpt-4o-mini-tts", "voice": "alloy", "response_format": "wav"}
    upload = fake.requests_to(TRANSCRIPTIONS)[0]
    assert upload.form == {
        "model": ["whisper-1"],
        "response_format": ["verbose_json"],
        "timestamp_granularities[]": ["word"],
    }
    assert upload.files["file"][2] == out.read_bytes()

    assert result.word_timing_source == "transcription"
    assert [word.word for word in result.words] == SCRIPT.split()  # script spelling, punctuation kept
    assert result.words[0].start_s == pytest.approx(0.1)
    starts = [word.start_s for word in result.words]
    assert starts == sorted(starts)
    assert all(word.end_s > word.start_s for word in result.words)
    assert result.words[-1].end_s <= result.duration_s

    speech_call, transcription_call = result.calls
    assert (speech_call.kind, speech_call.units) == ("speech", {"characters": len(SCRIPT)})
    assert speech_call.cost_usd == pytest.approx(len(SCRIPT) * 15.90 / 1_000_000)
    assert (transcription_call.kind, transcription_call.model) == ("transcription", "whisper-1")
    assert transcription_call.units == {"seconds": math.ceil(expected_s)}
    assert transcription_call.cost_usd == pytest.approx(math.ceil(expected_s) / 60 * 0.006)


def test_word_timings_are_estimated_from_the_wav_duration_without_transcription(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.speech_duration_s = 4.0

    result = voice(fake, transcription_model=None, model="tts-1", voice="nova").synthesize(
        SCRIPT, tmp_path / "v.wav"
    )

    assert fake.requests_to(TRANSCRIPTIONS) == []
    assert fake.requests_to(SPEECH)[0].json["voice"] == "nova"
    assert result.word_timing_source == "estimated"
    assert result.duration_s == pytest.approx(4.0)
    assert [word.word for word in result.words] == SCRIPT.split()
    assert result.words[0].start_s == 0.0
    assert result.words[-1].end_s == pytest.approx(4.0, abs=0.01)
    durations = {word.word: word.end_s - word.start_s for word in result.words}
    assert durations["GlowBrew"] > durations["is"]  # proportional to characters
    assert [call.kind for call in result.calls] == ["speech"]
    assert result.calls[0].cost_usd == pytest.approx(len(SCRIPT) * 15.0 / 1_000_000)


def test_failed_speech_leaves_no_file_and_a_clear_error(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.script(SPEECH, server_error())
    out = tmp_path / "v.wav"

    with pytest.raises(
        VoiceError, match=r"OpenAI speech \(model gpt-4o-mini-tts\) failed with HTTP 500"
    ) as caught:
        voice(fake).synthesize(SCRIPT, out)

    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert caught.value.calls == []


def test_failed_transcription_keeps_the_paid_speech_call_and_writes_nothing(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script(TRANSCRIPTIONS, server_error(), server_error())
    out = tmp_path / "v.wav"

    with pytest.raises(VoiceError, match=r"transcription \(model whisper-1\).*2 attempts") as caught:
        voice(fake, max_retries=1).synthesize(SCRIPT, out)

    assert not out.exists()
    assert [call.kind for call in caught.value.calls] == ["speech"]


def test_speech_errors_never_show_the_api_key(tmp_path: Path) -> None:
    with (
        FakeOpenAI(api_key="sk-another-key", echo_key_in_errors=True) as fake,
        pytest.raises(VoiceError, match="HTTP 401") as caught,
    ):
        voice(fake).synthesize(SCRIPT, tmp_path / "v.wav")

    assert FAKE_KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "problem"), [("   ", "empty"), ("word " * 1000, "over the speech API's limit")]
)
def test_unusable_text_fails_before_any_call(
    fake: FakeOpenAI, tmp_path: Path, text: str, problem: str
) -> None:
    with pytest.raises(VoiceError, match=problem):
        voice(fake).synthesize(text, tmp_path / "v.wav")

    assert fake.requests == []


def test_estimation_needs_a_format_with_a_readable_duration() -> None:
    with pytest.raises(ValueError, match="use 'wav' or set transcription_model"):
        OpenAIVoice(FAKE_KEY, response_format="mp3", transcription_model=None)


def test_streamed_wav_header_is_repaired_to_the_real_sizes(tmp_path: Path) -> None:
    streamed = sine_wav(0.5)
    assert streamed[40:44] == b"\xff\xff\xff\xff"

    fixed = repair_wav_header(streamed)

    assert wav_duration_s(streamed) == pytest.approx(0.5)
    path = tmp_path / "fixed.wav"
    path.write_bytes(fixed)
    with wave.open(str(path)) as wav:
        assert wav.getnframes() == 12_000
    with pytest.raises(ValueError, match="not a RIFF/WAVE file"):
        wav_duration_s(b"ID3\x03 an mp3")


def test_transcribed_words_are_mapped_back_onto_the_script() -> None:
    text = "It's 2 o'clock — time for GlowBrew!"
    heard = [
        WordTiming(word=word, start_s=start, end_s=end)
        for word, start, end in [
            ("Its", 0.0, 0.3),
            ("two", 0.3, 0.6),
            ("oclock", 0.6, 1.0),
            ("time", 1.2, 1.5),
            ("for", 1.5, 1.6),
            ("Glow", 1.6, 1.8),
            ("Brew", 1.8, 2.1),
        ]
    ]

    words = align_words(text, heard)

    assert [word.word for word in words] == ["It's", "2", "o'clock —", "time", "for", "GlowBrew!"]
    assert [(word.start_s, word.end_s) for word in words[:5]] == [
        (0.0, 0.3),
        (0.3, 0.6),
        (0.6, 1.0),
        (1.2, 1.5),
        (1.5, 1.6),
    ]
    assert (words[5].start_s, words[5].end_s) == pytest.approx((1.6, 2.1))


def test_script_words_the_transcription_missed_fill_the_gap() -> None:
    heard = [
        WordTiming(word="hello", start_s=0.0, end_s=0.5),
        WordTiming(word="world", start_s=1.5, end_s=2.0),
    ]

    words = align_words("hello big world", heard)

    assert [word.word for word in words] == ["hello", "big", "world"]
    assert (words[1].start_s, words[1].end_s) == (0.5, 1.5)


def test_estimated_timings_cover_the_duration_in_proportion_to_characters() -> None:
    words = estimate_word_timings("a bbb — c", 3.0)

    assert script_words("a bbb — c") == ["a", "bbb —", "c"]
    assert [word.word for word in words] == ["a", "bbb —", "c"]
    assert words[-1].end_s == pytest.approx(3.0)
    assert words[1].end_s - words[1].start_s == pytest.approx(3.0 * 6 / 10)


def test_emoji_urls_and_hashtags_are_not_spoken_and_the_language_reaches_the_transcription(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    script = "Hot coffee 🔥 all day ☕! See glowcup.com #coffee"
    result = voice(fake).synthesize(script, tmp_path / "v.wav", language="pt-BR")

    spoken = fake.requests_to(SPEECH)[0].json["input"]
    assert spoken == "Hot coffee all day! See"
    assert fake.requests_to(TRANSCRIPTIONS)[0].form["language"] == ["pt"]
    shown = " ".join(w.word for w in result.words)
    assert "🔥" in shown and "☕!" in shown and "#coffee" in shown, "captions still show what is not spoken"


def test_words_of_a_script_without_spaces_are_timed_character_by_character() -> None:
    script = "毎朝のコーヒーをもっと楽しく。"
    heard = [
        WordTiming(word="毎朝", start_s=0.0, end_s=0.4),
        WordTiming(word="のコーヒー", start_s=0.4, end_s=1.0),
        WordTiming(word="をもっと", start_s=1.0, end_s=1.6),
        WordTiming(word="楽しく", start_s=1.6, end_s=2.2),
    ]
    timed = align_words(script, heard, "ja")
    assert (
        [w.word for w in timed]
        == script_words(script, "ja")
        == ["毎朝の", "コーヒーを", "もっと", "楽しく。"]
    )
    starts = [w.start_s for w in timed]
    assert starts == sorted(starts) and starts[0] == 0.0
    assert timed[1].start_s == pytest.approx(0.52, abs=0.01), "コーヒー starts after 'の' in the second chunk"
    assert timed[-1].end_s == pytest.approx(2.2)
