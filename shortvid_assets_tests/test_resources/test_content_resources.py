"""Protects the content resources: picking an implementation by environment (template and offline by
default, never a silent fallback), SCRIPT-4 for both writers, and the OpenAI voice's speech read from the
WAV the API returned, with word timings and cost."""

from __future__ import annotations

import io
import logging
import wave
from collections.abc import Iterator

import dagster as dg
import numpy as np
import pytest

from shortvid_assets.clients.openai_voice import wav_samples
from shortvid_assets.domain.prompts import alignment_problems, plan_brief
from shortvid_assets.resources.script_writers import (
    OpenAIScriptWriterResource,
    TemplateScriptWriter,
    public_url,
    script_writer_from_env,
)
from shortvid_assets.resources.voices import OfflineVoice, OpenAIVoiceResource, voice_from_env
from shortvid_assets.settings import SettingError
from shortvid_assets_tests.fakes.fake_openai import (
    CHAT,
    FAKE_KEY,
    SAMPLE_RATE,
    SPEECH,
    TRANSCRIPTIONS,
    FakeOpenAI,
    make_report,
    make_theme,
    plan_json,
    running_fake,
    sine_wav,
)

ENV = (
    "SHORTVID_SCRIPT_WRITER",
    "SHORTVID_VOICE",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "SHORTVID_OPENAI_MODEL",
    "SHORTVID_OPENAI_TEMPERATURE",
    "SHORTVID_OPENAI_SEED",
    "SHORTVID_TTS_MODEL",
    "SHORTVID_TTS_VOICE",
    "SHORTVID_TRANSCRIPTION_MODEL",
)
ANALYSIS = "Question hook, talking-head, about 20 seconds."
SCRIPT = "Is your morning coffee lying to you? GlowBrew is cold brewed for twenty hours. Try it!"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    yield from running_fake()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_template_and_offline_voice_are_the_defaults(clean_env, caplog):
    with caplog.at_level(logging.INFO):
        assert isinstance(script_writer_from_env(), TemplateScriptWriter)
        assert isinstance(voice_from_env(), OfflineVoice)
    assert "script writer: template" in caplog.text
    assert "voice: offline eSpeak NG" in caplog.text


def test_openai_is_chosen_and_configured_by_environment(clean_env, caplog):
    clean_env.setenv("SHORTVID_SCRIPT_WRITER", "openai")
    clean_env.setenv("SHORTVID_VOICE", "OpenAI")
    clean_env.setenv("OPENAI_API_KEY", FAKE_KEY)
    clean_env.setenv("OPENAI_BASE_URL", "http://user:pw@localhost:8000/v1?x=1")
    clean_env.setenv("SHORTVID_OPENAI_MODEL", "gpt-4.1-mini")
    clean_env.setenv("SHORTVID_OPENAI_TEMPERATURE", "none")
    clean_env.setenv("SHORTVID_OPENAI_SEED", "42")
    clean_env.setenv("SHORTVID_TTS_MODEL", "tts-1")
    clean_env.setenv("SHORTVID_TTS_VOICE", "nova")
    clean_env.setenv("SHORTVID_TRANSCRIPTION_MODEL", "none")

    with caplog.at_level(logging.INFO):
        writer, voice = script_writer_from_env(), voice_from_env()

    assert isinstance(writer, OpenAIScriptWriterResource) and isinstance(voice, OpenAIVoiceResource)
    assert (writer.model, writer.temperature, writer.seed) == ("gpt-4.1-mini", None, 42)
    assert writer.base_url == voice.base_url == "http://user:pw@localhost:8000/v1?x=1"
    assert (voice.model, voice.voice, voice.transcription_model) == ("tts-1", "nova", None)
    assert isinstance(writer.api_key, dg.EnvVar)  # resolved at run time: the key is never in the config
    assert "openai chat model gpt-4.1-mini at http://localhost:8000/v1" in caplog.text
    assert "word timings estimated from the text" in caplog.text
    assert FAKE_KEY not in caplog.text and "pw@" not in caplog.text


def test_transcription_defaults_to_whisper_when_unset(clean_env):
    clean_env.setenv("SHORTVID_VOICE", "openai")
    clean_env.setenv("OPENAI_API_KEY", FAKE_KEY)
    assert voice_from_env().transcription_model == "whisper-1"


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("SHORTVID_SCRIPT_WRITER", "gpt", "SHORTVID_SCRIPT_WRITER='gpt' is not one of template, openai"),
        ("SHORTVID_VOICE", "espeak", "SHORTVID_VOICE='espeak' is not one of offline, openai"),
    ],
)
def test_an_unknown_implementation_is_an_error_not_a_fallback(clean_env, name, value, problem):
    clean_env.setenv(name, value)
    with pytest.raises(ValueError, match=problem):
        script_writer_from_env() if name == "SHORTVID_SCRIPT_WRITER" else voice_from_env()


def test_a_bad_number_names_the_variable(clean_env):
    clean_env.setenv("SHORTVID_SCRIPT_WRITER", "openai")
    clean_env.setenv("OPENAI_API_KEY", FAKE_KEY)
    clean_env.setenv("SHORTVID_OPENAI_TEMPERATURE", "warm")
    with pytest.raises(ValueError, match="SHORTVID_OPENAI_TEMPERATURE='warm' is not a number"):
        script_writer_from_env()


@pytest.mark.parametrize(
    ("name", "factory"),
    [("SHORTVID_SCRIPT_WRITER", script_writer_from_env), ("SHORTVID_VOICE", voice_from_env)],
)
def test_settings_an_openai_writer_or_voice_without_its_key_is_refused_at_start(clean_env, name, factory):
    clean_env.setenv(name, "openai")
    with pytest.raises(
        SettingError, match=f"^{name}=openai needs OPENAI_API_KEY, which is not set: set it, or unset {name}"
    ):
        factory()


def test_public_url_drops_credentials():
    assert public_url("https://k:secret@example.com:8443/v1?key=abc#x") == "https://example.com:8443/v1"
    assert public_url(None).startswith("https://api.openai.com/v1")


# --- SCRIPT-4: the plan follows the report, for both writers ---

THEME = make_theme(target_duration_s=24.0, style="cinematic")  # the theme alone would give 24 s, cinematic
REPORT = make_report(hook_type="question", duration_s=20.0, style="talking-head")


def test_template_writer_follows_a_question_hook_twenty_second_report():
    written = TemplateScriptWriter().write(THEME, REPORT)

    assert written.plan.hook_type == "question" and written.plan.hook_text.endswith("?")
    assert written.plan.duration_s == pytest.approx(20.0, abs=0.05)
    assert alignment_problems(written.plan, plan_brief(THEME, REPORT)) == []
    assert (written.writer, written.cost_usd, written.calls, written.model) == ("template", 0.0, 0, None)


def test_openai_writer_follows_a_question_hook_twenty_second_report(fake: FakeOpenAI):
    # The model first ignores the report (statement hook, the theme's 24 s): one repair brings it in line.
    fake.chat(
        ANALYSIS,
        plan_json(target_s=24.0, hook_type="statement"),
        plan_json(target_s=20.0, hook_type="question"),
    )
    writer = OpenAIScriptWriterResource(api_key=FAKE_KEY, base_url=fake.base_url, max_retries=0, timeout_s=10)

    written = writer.write(THEME, REPORT)

    assert written.plan.hook_type == "question"
    assert written.plan.duration_s == pytest.approx(20.0, abs=0.05)
    assert written.repaired and written.calls == 3 and len(written.paid_calls) == 3
    analysis_prompt = fake.requests_to(CHAT)[0].json["messages"][1]["content"]
    assert "hook_type: question" in analysis_prompt and "target_duration_s: 20" in analysis_prompt
    repair_prompt = fake.requests_to(CHAT)[2].json["messages"][-1]["content"]
    assert "hook_type is 'statement' but must be 'question'" in repair_prompt
    assert written.cost_usd == pytest.approx(3 * (800 * 0.15 + 400 * 0.60) / 1e6)
    assert [step["step"] for step in written.prompts] == ["analysis", "plan", "repair"]
    assert (written.model, written.temperature, written.seed) == ("gpt-4o-mini", 0.7, 7)


# --- the OpenAI voice resource ---


def test_openai_voice_reads_its_speech_from_the_returned_wav(fake: FakeOpenAI):
    fake.speech_duration_s = 3.0
    voice = OpenAIVoiceResource(api_key=FAKE_KEY, base_url=fake.base_url, max_retries=0, timeout_s=10)

    spoken = voice.speak(SCRIPT)

    assert spoken.speech.sample_rate == SAMPLE_RATE
    assert len(spoken.speech.samples) == 3 * SAMPLE_RATE
    assert np.abs(spoken.speech.samples).max() > 8000  # the fake's sine, not silence
    assert [w.word for w in spoken.speech.words] == SCRIPT.split()
    assert spoken.word_timing_source == "transcription"
    assert [c.kind for c in spoken.paid_calls] == ["speech", "transcription"]
    assert spoken.cost_usd == pytest.approx(len(SCRIPT) * 15.90 / 1e6 + 3 / 60 * 0.006)
    assert spoken.prompts[0] == {
        "step": "speech",
        "language": "en",
        "model": "gpt-4o-mini-tts",
        "voice": "alloy",
        "input": SCRIPT,
    }
    assert len(fake.requests_to(SPEECH)) == 1 and len(fake.requests_to(TRANSCRIPTIONS)) == 1


def test_openai_voice_estimates_timings_without_a_transcription_model(fake: FakeOpenAI):
    fake.speech_duration_s = 2.0
    voice = OpenAIVoiceResource(
        api_key=FAKE_KEY, base_url=fake.base_url, transcription_model="", max_retries=0, timeout_s=10
    )

    spoken = voice.speak(SCRIPT)

    assert spoken.word_timing_source == "estimated"
    assert spoken.speech.words[-1].end_s == pytest.approx(2.0, abs=0.01)
    assert fake.requests_to(TRANSCRIPTIONS) == []
    assert [c.kind for c in spoken.paid_calls] == ["speech"]


def test_wav_samples_mixes_stereo_down_and_refuses_other_sample_widths():
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(np.array([100, 300, -200, -400], dtype="<i2").tobytes())
    samples, rate = wav_samples(buffer.getvalue())
    assert rate == 8000 and samples.tolist() == [200, -300] and samples.dtype == np.int16

    mono, _ = wav_samples(sine_wav(0.5))  # streamed placeholder sizes are repaired first
    assert len(mono) == SAMPLE_RATE // 2

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(b"\x80" * 10)
    with pytest.raises(ValueError, match="16-bit"):
        wav_samples(buffer.getvalue())
