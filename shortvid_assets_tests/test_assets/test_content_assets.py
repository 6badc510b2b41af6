"""Protects content generation through the graph (SCRIPT-1..4, VOICE-1..3, REVIEW-2, REVIEW-5): video_script
and voiceover on the OpenAI resources pointed at the fake API — metadata, files, generation_log rows, costs,
scenes that stretch when the voiceover cannot be fitted, and API failures that fail the asset cleanly,
write nothing at the final path and still log what was spent. No test calls the real API."""

from __future__ import annotations

import json
import wave
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from shortvid_assets.definitions import build_definitions
from shortvid_assets.domain.models import VideoPlan
from shortvid_assets.domain.prompts import plan_brief
from shortvid_assets.domain.timeline import timeline_for
from shortvid_assets.orchestration.jobs import VIDEO_JOB
from shortvid_assets.partitions import date_theme_key, theme_partitions
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.script_writers import OpenAIScriptWriterResource, TemplateScriptWriter
from shortvid_assets.resources.voices import OpenAIVoiceResource
from shortvid_assets.storage import generation_log, postgres
from shortvid_assets.storage.artifacts import StaleTimelineError
from shortvid_assets_tests.fakes.fake_openai import (
    CHAT,
    FAKE_KEY,
    SPEECH,
    TRANSCRIPTIONS,
    FakeOpenAI,
    make_report,
    plan_json,
    rate_limited,
    refusal_reply,
    running_fake,
    server_error,
    slow,
)

DAY = "2026-11-24"
THEME = "glowbrew"
PARTITION = str(date_theme_key(DAY, THEME))
THEMES_YAML = """
themes:
  - slug: glowbrew
    product_name: GlowBrew
    tagline: Cold brew that keeps up with you
    audience: busy professionals
    tone: upbeat
    style: cinematic
    talking_points: [brewed cold for 20 hours, no afternoon crash]
    target_duration_s: 20
    hashtags: [glowbrew, coldbrew]
"""
ANALYSIS = "The report favours its dominant style and hook; keep it short and concrete."
CHAT_CALL_USD = (800 * 0.15 + 400 * 0.60) / 1e6  # the fake's default usage at gpt-4o-mini prices
CONTENT = [dg.AssetKey("video_script"), dg.AssetKey("voiceover")]


@pytest.fixture
def workspace(tmp_path: Path) -> ShortvidPaths:
    themes = tmp_path / "themes.yaml"
    themes.write_text(THEMES_YAML)
    return ShortvidPaths(
        data_dir=str(tmp_path / "data"), output_dir=str(tmp_path / "output"), themes_file=str(themes)
    )


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(theme_partitions.name, [THEME])
        yield instance


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    yield from running_fake()


@pytest.fixture
def log_conn(review_db_url):
    conn = postgres.connect(review_db_url)
    generation_log.ensure_schema(conn)
    yield conn
    conn.close()


def openai_writer(fake: FakeOpenAI, **options) -> OpenAIScriptWriterResource:
    return OpenAIScriptWriterResource(
        api_key=FAKE_KEY, base_url=fake.base_url, **{"max_retries": 0, "timeout_s": 10, **options}
    )


def openai_voice(fake: FakeOpenAI, **options) -> OpenAIVoiceResource:
    return OpenAIVoiceResource(
        api_key=FAKE_KEY, base_url=fake.base_url, **{"max_retries": 0, "timeout_s": 10, **options}
    )


def write_trend_report(workspace: ShortvidPaths) -> None:
    """The day's trend report as trend_report writes it: question hooks, ~20 s, talking-head (SCRIPT-4)."""
    path = workspace.artifacts.daily("trend_report", DAY, "json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        make_report(hook_type="question", duration_s=20.0, style="talking-head").model_dump_json()
    )


def materialize(instance, resources, assets=CONTENT) -> dg.ExecuteInProcessResult:
    job = build_definitions(resources).resolve_job_def(VIDEO_JOB)
    return job.execute_in_process(
        instance=instance,
        partition_key=PARTITION,
        asset_selection=assets,
        raise_on_error=False,
    )


def aligned_plan(workspace: ShortvidPaths) -> str:
    """A plan in the wire format that follows the day's report for the theme, as the writer demands."""
    brief = plan_brief(workspace.theme(THEME), workspace.artifacts.read_report(DAY))
    tags = list(dict.fromkeys([*brief.trend_hashtags[:2], "glowbrew", "coldbrew", "energy", "coffee"]))[:6]
    return plan_json(
        target_s=brief.target_duration_s, hook_type=brief.hook_type, style=brief.style, hashtags=tags
    )


def metadata_of(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset))
    return {k: v.value for k, v in event.materialization.metadata.items()}


def step_failure(result: dg.ExecuteInProcessResult, step: str) -> tuple[str, dict]:
    event = next(e for e in result.all_events if e.is_step_failure and e.step_key == step)
    data = event.step_failure_data
    metadata = (
        {k: v.value for k, v in data.user_failure_data.metadata.items()} if data.user_failure_data else {}
    )
    return data.error.to_string(), metadata


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


def run_text(instance: dg.DagsterInstance, run_id: str) -> str:
    """Everything the run recorded: log messages, metadata, errors."""
    return "\n".join(repr(record) for record in instance.all_logs(run_id))


def test_openai_script_and_voice_through_the_graph(instance, graph_resources, workspace, fake, log_conn):
    resources = {**graph_resources, "script_writer": openai_writer(fake), "voice": openai_voice(fake)}
    write_trend_report(workspace)
    fake.chat(ANALYSIS, aligned_plan(workspace))

    result = materialize(instance, resources)

    assert result.success
    plan = workspace.artifacts.read_plan(DAY, THEME)
    assert plan == VideoPlan.model_validate_json(aligned_plan(workspace))
    assert (plan.hook_type, plan.duration_s) == ("question", pytest.approx(20.0))  # SCRIPT-4
    script = metadata_of(result, "video_script")
    assert (script["writer"], script["model"], script["temperature"], script["seed"]) == (
        "openai",
        "gpt-4o-mini",
        0.7,
        7,
    )
    assert (script["llm_calls"], script["repaired"]) == (2, False)
    assert [step["step"] for step in script["prompts"]] == ["analysis", "plan"]
    assert script["prompts"][1]["messages"][-1]["content"].startswith("Step 2 — production plan")
    assert script["cost_usd"] == pytest.approx(2 * CHAT_CALL_USD, abs=1e-6)
    assert [call["units"]["prompt_tokens"] for call in script["paid_calls"]] == [800, 800]

    voice = metadata_of(result, "voiceover")
    assert (voice["model"], voice["api_calls"], voice["word_timing_source"]) == (
        "gpt-4o-mini-tts",
        2,
        "transcription",
    )
    assert voice["fits_plan"] is True
    speech_chars = len(" ".join(plan.voiceover_script.split()))
    assert voice["cost_usd"] == pytest.approx(
        speech_chars * 15.90 / 1e6 + voice["paid_calls"][1]["units"]["seconds"] / 60 * 0.006, abs=1e-6
    )
    wav = workspace.artifacts.per_theme("voiceover", DAY, THEME, "wav")
    assert wav_seconds(wav) == pytest.approx(plan.duration_s, abs=0.01)
    words = json.loads(workspace.artifacts.per_theme("voiceover", DAY, THEME, "words.json").read_text())
    assert [w["word"] for w in words] == plan.voiceover_script.split()
    assert all(0 <= w["start_s"] <= w["end_s"] <= plan.duration_s for w in words)
    assert not workspace.artifacts.timeline(DAY, THEME).exists()
    assert workspace.artifacts.scene_durations(DAY, THEME, plan) == [s.duration_s for s in plan.scenes]
    assert len(fake.requests_to(CHAT)) == 2 and len(fake.requests_to(SPEECH)) == 1
    assert len(fake.requests_to(TRANSCRIPTIONS)) == 1

    rows = generation_log.list_generations(log_conn, date=DAY, theme=THEME)
    voice_row, script_row = rows
    assert (script_row.asset, script_row.status, script_row.model, script_row.implementation) == (
        "video_script",
        "succeeded",
        "gpt-4o-mini",
        "openai",
    )
    assert script_row.prompts == script["prompts"] and script_row.trend_pattern == plan.trend_pattern
    assert script_row.output_path == str(workspace.artifacts.per_theme("video_script", DAY, THEME, "json"))
    assert script_row.id == script["generation_log_id"] and script_row.run_id == result.run_id
    assert (voice_row.asset, voice_row.status, voice_row.model) == (
        "voiceover",
        "succeeded",
        "gpt-4o-mini-tts",
    )
    assert voice_row.output_path == str(wav) and voice_row.prompts[0]["input"] == " ".join(
        plan.voiceover_script.split()
    )
    assert generation_log.generation_cost(log_conn, DAY, THEME) == pytest.approx(
        script["cost_usd"] + voice["cost_usd"], abs=1e-6
    )

    assert "script writer openai chat model gpt-4o-mini" in run_text(instance, result.run_id)
    for text in (run_text(instance, result.run_id), *(generation_log.to_json(row) for row in rows)):
        assert FAKE_KEY not in text


def test_offline_defaults_log_their_rows_at_no_cost(instance, graph_resources, workspace, log_conn):
    write_trend_report(workspace)

    result = materialize(instance, graph_resources)

    assert result.success
    assert metadata_of(result, "video_script")["cost_usd"] == 0.0
    rows = generation_log.list_generations(log_conn, date=DAY, theme=THEME)
    assert [(r.asset, r.implementation, r.model, r.cost_usd) for r in rows] == [
        ("voiceover", "espeak-ng:en-us", None, 0.0),
        ("video_script", "template", None, 0.0),
    ]
    assert "script writer template (offline" in run_text(instance, result.run_id)
    assert "voice offline eSpeak NG voice en-us" in run_text(instance, result.run_id)


def test_speech_too_long_for_the_tempo_limits_stretches_the_scenes(
    instance, graph_resources, workspace, fake
):
    resources = {
        **graph_resources,
        "script_writer": TemplateScriptWriter(),
        "voice": openai_voice(fake, transcription_model=""),
    }
    write_trend_report(workspace)
    assert materialize(instance, resources, [dg.AssetKey("video_script")]).success
    plan = workspace.artifacts.read_plan(DAY, THEME)
    stretched_s = min(plan.duration_s * 1.1, 4.0 * len(plan.scenes) - 0.5)  # what the scenes will last
    fake.speech_duration_s = (stretched_s - 0.3) * 1.15  # at the fastest tempo, plus the 0.3 s tail

    result = materialize(instance, resources, [dg.AssetKey("voiceover")])

    assert result.success
    voice = metadata_of(result, "voiceover")
    assert voice["fits_plan"] is False and voice["tempo"] == pytest.approx(1.15)
    durations = workspace.artifacts.scene_durations(DAY, THEME, plan)
    assert durations == voice["scene_durations"]
    assert len(durations) == len(plan.scenes) and all(2.0 <= d <= 4.0 for d in durations)
    wav = workspace.artifacts.per_theme("voiceover", DAY, THEME, "wav")
    assert sum(durations) == pytest.approx(wav_seconds(wav), abs=0.002)
    assert sum(durations) == pytest.approx(stretched_s, abs=0.05) and stretched_s > plan.duration_s + 1

    fake.speech_duration_s = (
        plan.duration_s * 0.9
    )  # a new voiceover that fits: the scenes go back to the plan
    assert materialize(instance, resources, [dg.AssetKey("voiceover")]).success
    assert not workspace.artifacts.timeline(DAY, THEME).exists()
    assert workspace.artifacts.scene_durations(DAY, THEME, plan) == [s.duration_s for s in plan.scenes]


def test_a_timeline_made_for_another_plan_is_refused(workspace):
    plan = VideoPlan.model_validate_json(plan_json(target_s=20.0))
    path = workspace.artifacts.timeline(DAY, THEME)
    path.parent.mkdir(parents=True)
    path.write_text(timeline_for([3.0, 3.0, 3.0], 12.0, 1.15).model_dump_json())

    with pytest.raises(StaleTimelineError, match="re-materialize voiceover"):
        workspace.artifacts.scene_durations(DAY, THEME, plan)


REFUSAL_USD = (800 * 0.15 + 12 * 0.60) / 1e6  # a refusal is billed too: prompt + 12 completion tokens
WRITER_FAILURES = {  # replies, message, transient, paid calls, USD spent
    "rate limit": ((ANALYSIS, rate_limited()), "HTTP 429", True, 1, CHAT_CALL_USD),
    "server error": ((server_error(),), "HTTP 500", True, 0, 0.0),
    "timeout": ((ANALYSIS, slow(2.0, "{}")), "timed out after 0.5 s", True, 1, CHAT_CALL_USD),
    "refusal": ((refusal_reply(),), "refused the analysis", False, 1, REFUSAL_USD),
    "invalid JSON": (
        (ANALYSIS, '{"title": "cut off', "not json"),
        "even after one repair",
        False,
        3,
        3 * CHAT_CALL_USD,
    ),
    "wrong schema": (
        (ANALYSIS, '{"title": "x"}', '{"scenes": []}'),
        "does not match the schema",
        False,
        3,
        3 * CHAT_CALL_USD,
    ),
}


@pytest.mark.parametrize("case", list(WRITER_FAILURES))
def test_script_failures_fail_the_asset_and_log_what_was_spent(
    case, instance, graph_resources, workspace, fake, log_conn
):
    replies, message, transient, paid_calls, spent = WRITER_FAILURES[case]
    resources = {
        **graph_resources,
        "script_writer": openai_writer(fake, timeout_s=0.5),
        "voice": openai_voice(fake),
    }
    write_trend_report(workspace)
    fake.chat(*replies)

    result = materialize(instance, resources)

    assert not result.success
    error, metadata = step_failure(result, "video_script")
    assert message in error and FAKE_KEY not in error
    assert metadata["transient"] is transient
    assert metadata["cost_usd"] == pytest.approx(spent, abs=1e-6)
    assert not workspace.artifacts.per_theme("video_script", DAY, THEME, "json").exists()
    assert not list(Path(workspace.data_dir).glob("video_script/**/*"))  # not even a temporary file
    assert not workspace.artifacts.per_theme("voiceover", DAY, THEME, "wav").exists()
    (row,) = generation_log.list_generations(log_conn, date=DAY, theme=THEME)
    assert (row.asset, row.status, row.model, row.id) == (
        "video_script",
        "failed",
        "gpt-4o-mini",
        metadata["generation_log_id"],
    )
    assert message in row.error and len(row.calls) == paid_calls
    assert row.cost_usd == pytest.approx(metadata["cost_usd"], abs=1e-6)
    assert fake.requests_to(SPEECH) == []


VOICE_FAILURES = {
    "speech server error": (SPEECH, "speech (model gpt-4o-mini-tts) failed with HTTP 500", 0),
    "transcription server error": (TRANSCRIPTIONS, "transcription (model whisper-1) failed with HTTP 500", 1),
}


@pytest.mark.parametrize("case", list(VOICE_FAILURES))
def test_voice_failures_fail_the_asset_and_write_nothing(
    case, instance, graph_resources, workspace, fake, log_conn
):
    path, message, paid_calls = VOICE_FAILURES[case]
    resources = {**graph_resources, "voice": openai_voice(fake)}
    write_trend_report(workspace)
    fake.script(path, server_error())

    result = materialize(instance, resources)

    assert not result.success
    error, metadata = step_failure(result, "voiceover")
    assert message in error and metadata["transient"] is True
    for ext in ("wav", "words.json", "timeline.json"):
        assert not workspace.artifacts.per_theme("voiceover", DAY, THEME, ext).exists()
    voice_row, script_row = generation_log.list_generations(log_conn, date=DAY, theme=THEME)
    assert (script_row.status, voice_row.status, voice_row.asset) == ("succeeded", "failed", "voiceover")
    assert len(voice_row.calls) == paid_calls and (voice_row.cost_usd > 0) == (paid_calls > 0)
    assert metadata["cost_usd"] == pytest.approx(voice_row.cost_usd, abs=1e-6)


def test_a_rate_limit_the_sdk_retries_costs_nothing_extra(
    instance, graph_resources, workspace, fake, log_conn
):
    resources = {**graph_resources, "script_writer": openai_writer(fake, max_retries=1)}
    write_trend_report(workspace)
    fake.chat(ANALYSIS, rate_limited(0.05), aligned_plan(workspace))

    result = materialize(instance, resources, [dg.AssetKey("video_script")])

    assert result.success
    assert len(fake.requests_to(CHAT)) == 3
    assert metadata_of(result, "video_script")["cost_usd"] == pytest.approx(2 * CHAT_CALL_USD, abs=1e-6)
    (row,) = generation_log.list_generations(log_conn, date=DAY, theme=THEME)
    assert row.status == "succeeded" and len(row.calls) == 2


def test_an_unpriced_model_fails_before_any_paid_call(instance, graph_resources, workspace, fake, log_conn):
    resources = {**graph_resources, "script_writer": openai_writer(fake, model="gpt-unknown")}
    write_trend_report(workspace)

    result = materialize(instance, resources, [dg.AssetKey("video_script")])

    assert not result.success
    error, metadata = step_failure(result, "video_script")
    assert "no chat price for model 'gpt-unknown'" in error and "SHORTVID_PRICE_TABLE" in error
    assert (metadata["transient"], metadata["cost_usd"]) == (False, 0.0)
    assert fake.requests_to(CHAT) == []
    (row,) = generation_log.list_generations(log_conn, date=DAY, theme=THEME)
    assert (row.status, row.model, row.cost_usd) == ("failed", "gpt-unknown", 0.0)
