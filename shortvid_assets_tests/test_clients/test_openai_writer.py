"""Protects the OpenAI script writer (SCRIPT-2, SCRIPT-4, REVIEW-5) against a fake API speaking the real wire format.

It drives the real SDK over HTTP: the two-call chain, the single repair, refusals, retries on
429/500, timeouts, costs from `usage`, the strict schema the API accepts, and that the API key
never reaches an error message or a log line.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import httpx
import pytest

from shortvid_assets.clients.openai_writer import (
    OpenAIScriptWriter,
    PlanOutput,
    PlanResult,
    ScriptWriterError,
)
from shortvid_assets.domain.costs import UnknownModelPriceError
from shortvid_assets.domain.models import Scene, TextOverlay, VideoPlan
from shortvid_assets_tests.fakes.fake_openai import (
    CHAT,
    FAKE_KEY,
    FakeOpenAI,
    Reply,
    chat_completion,
    make_report,
    make_theme,
    plan_dict,
    plan_json,
    rate_limited,
    refusal_reply,
    running_fake,
    server_error,
    slow,
)

ANALYSIS = "Theme: smooth energy without the crash. Trend: talking-head, question hook, ~20 s."
GPT_4O_MINI_CALL = (800 * 0.15 + 400 * 0.60) / 1_000_000  # the fake's default usage at gpt-4o-mini prices


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    yield from running_fake()


def writer(fake: FakeOpenAI, **options: object) -> OpenAIScriptWriter:
    settings: dict[str, object] = {"base_url": fake.base_url, "max_retries": 0, "timeout_s": 10}
    settings.update(options)
    return OpenAIScriptWriter(FAKE_KEY, **settings)  # type: ignore[arg-type]


def write(fake: FakeOpenAI, **options: object) -> PlanResult:
    return writer(fake, **options).write_plan(make_theme(), make_report())


def test_happy_path_takes_two_calls_and_records_prompts_settings_and_cost(fake: FakeOpenAI) -> None:
    fake.chat(ANALYSIS, plan_json())

    result = write(fake)

    requests = fake.requests_to(CHAT)
    assert len(requests) == 2
    analysis, plan = (request.json for request in requests)
    for body in (analysis, plan):
        assert (body["model"], body["temperature"], body["seed"]) == ("gpt-4o-mini", 0.7, 7)
    assert "response_format" not in analysis
    schema = plan["response_format"]
    assert schema["type"] == "json_schema"
    assert schema["json_schema"]["strict"] is True
    assert set(schema["json_schema"]["schema"]["required"]) == set(VideoPlan.model_fields) - {"language"}
    assert plan["messages"][: len(analysis["messages"])] == analysis["messages"]
    assert plan["messages"][len(analysis["messages"])] == {"role": "assistant", "content": ANALYSIS}

    assert result.plan == VideoPlan.model_validate(plan_dict())
    assert not result.repaired
    assert result.analysis == ANALYSIS
    assert [entry["step"] for entry in result.prompts] == ["analysis", "plan"]
    assert [entry["messages"] for entry in result.prompts] == [analysis["messages"], plan["messages"]]
    assert (result.model, result.temperature, result.seed) == ("gpt-4o-mini", 0.7, 7)
    assert [(call.kind, call.model) for call in result.calls] == [("chat", "gpt-4o-mini-2024-07-18")] * 2
    assert result.calls[0].units == {"prompt_tokens": 800, "completion_tokens": 400}
    assert result.cost_usd == pytest.approx(2 * GPT_4O_MINI_CALL)


def test_sampling_settings_are_sent_as_configured_and_omitted_when_none(fake: FakeOpenAI) -> None:
    fake.chat(ANALYSIS, plan_json())

    result = write(fake, temperature=None, seed=None, model="gpt-4o")

    for request in fake.requests_to(CHAT):
        assert request.json["model"] == "gpt-4o"
        assert "temperature" not in request.json and "seed" not in request.json
    assert result.cost_usd == pytest.approx(2 * (800 * 2.50 + 400 * 10.00) / 1_000_000)


def test_plan_failing_validation_is_repaired_once_with_the_errors(fake: FakeOpenAI) -> None:
    short = plan_dict(target_s=20.0)
    short["scenes"] = short["scenes"][:3]  # 12 s of scenes for a 20 s target
    fake.chat(ANALYSIS, json.dumps(short), plan_json())

    result = write(fake)

    requests = fake.requests_to(CHAT)
    assert len(requests) == 3
    assert result.repaired
    assert [entry["step"] for entry in result.prompts] == ["analysis", "plan", "repair"]
    repair = requests[2].json["messages"]
    assert repair[:-2] == requests[1].json["messages"]
    assert repair[-2] == {"role": "assistant", "content": json.dumps(short)}
    assert "scene durations sum to 12.0s, not the target 20.0s" in repair[-1]["content"]
    assert requests[2].json["response_format"] == requests[1].json["response_format"]
    assert len(result.calls) == 3
    assert result.cost_usd == pytest.approx(3 * GPT_4O_MINI_CALL)
    assert result.plan.duration_s == pytest.approx(20.0)


@pytest.mark.parametrize(
    ("bad_output", "problem"),
    [
        ('{"title": "Half a plan", "scenes": [', "Invalid JSON"),
        (json.dumps({"video": {"title": "wrong shape"}}), "scenes: Field required"),
        (json.dumps({**plan_dict(), "hook_type": "shout"}), "hook_type: Input should be"),
    ],
    ids=["invalid-json", "wrong-schema", "wrong-enum"],
)
def test_malformed_output_gets_one_repair_naming_the_problem(
    fake: FakeOpenAI, bad_output: str, problem: str
) -> None:
    fake.chat(ANALYSIS, bad_output, plan_json())

    result = write(fake)

    requests = fake.requests_to(CHAT)
    assert len(requests) == 3
    assert result.repaired
    assert problem in requests[2].json["messages"][-1]["content"]


def test_output_cut_off_at_the_token_limit_is_repaired(fake: FakeOpenAI) -> None:
    truncated = Reply(body=chat_completion(plan_json()[:200], finish_reason="length"))
    fake.chat(ANALYSIS, truncated, plan_json())

    result = write(fake)

    assert result.repaired
    assert "cut off at the token limit" in fake.requests_to(CHAT)[2].json["messages"][-1]["content"]


def test_plan_still_invalid_after_repair_raises_with_the_problems_and_the_paid_calls(
    fake: FakeOpenAI,
) -> None:
    fake.chat(ANALYSIS, "not json at all", json.dumps({**plan_dict(), "scenes": []}))

    with pytest.raises(
        ScriptWriterError, match="invalid plan for theme 'glowbrew' even after one repair"
    ) as caught:
        write(fake)

    assert "scenes: List should have at least 3 items" in str(caught.value)
    assert len(fake.requests_to(CHAT)) == 3
    assert len(caught.value.calls) == 3


def test_refusal_raises_a_clear_error_without_a_repair(fake: FakeOpenAI) -> None:
    fake.chat(ANALYSIS, refusal_reply("I'm sorry, I can't help with that."))

    with pytest.raises(ScriptWriterError, match="refused to write the plan for theme 'glowbrew'") as caught:
        write(fake)

    assert "I can't help with that" in str(caught.value)
    assert len(fake.requests_to(CHAT)) == 2
    assert len(caught.value.calls) == 2


def test_refused_analysis_stops_the_chain(fake: FakeOpenAI) -> None:
    fake.chat(refusal_reply())

    with pytest.raises(ScriptWriterError, match="refused the analysis"):
        write(fake)

    assert len(fake.requests_to(CHAT)) == 1


@pytest.mark.parametrize("failure", [rate_limited(0.05), server_error()], ids=["429", "500"])
def test_transient_errors_are_retried_by_the_sdk(fake: FakeOpenAI, failure: Reply) -> None:
    fake.chat(failure, ANALYSIS, failure, plan_json())

    started = time.monotonic()
    result = write(fake, max_retries=3)

    assert len(fake.requests_to(CHAT)) == 4
    assert len(result.calls) == 2  # failed attempts are not billed
    assert time.monotonic() - started < 5


def test_rate_limit_retry_waits_as_the_server_asks(fake: FakeOpenAI) -> None:
    fake.chat(rate_limited(0.4), ANALYSIS, plan_json())

    started = time.monotonic()
    write(fake, max_retries=1)

    assert time.monotonic() - started >= 0.4


def test_rate_limit_beyond_the_retries_fails_with_the_api_message(fake: FakeOpenAI) -> None:
    fake.chat(rate_limited(0.01), rate_limited(0.01))

    with pytest.raises(ScriptWriterError) as caught:
        write(fake, max_retries=1)

    message = str(caught.value)
    assert "HTTP 429 requests/rate_limit_exceeded" in message
    assert "Rate limit reached for gpt-4o-mini" in message
    assert "2 attempts" in message and "analysis step" in message
    assert caught.value.calls == []


def test_timeout_fails_with_a_clear_error_after_the_retries(fake: FakeOpenAI) -> None:
    fake.chat(slow(2.0, ANALYSIS), slow(2.0, ANALYSIS))

    started = time.monotonic()
    with pytest.raises(ScriptWriterError, match=r"timed out after 0\.3 s \(2 attempts\); raise timeout_s"):
        write(fake, timeout_s=0.3, max_retries=1)

    assert len(fake.requests_to(CHAT)) == 2
    assert time.monotonic() - started < 5


def test_api_key_never_appears_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    with FakeOpenAI(api_key="sk-the-right-key", echo_key_in_errors=True) as fake:
        caplog.set_level(logging.DEBUG)
        with pytest.raises(ScriptWriterError) as caught:
            writer(fake).write_plan(make_theme(), make_report())

    assert "HTTP 401" in str(caught.value) and "check the API key" in str(caught.value)
    assert FAKE_KEY not in str(caught.value)
    assert "Incorrect API key provided: ***" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert FAKE_KEY not in caplog.text
    assert FAKE_KEY not in repr(writer(fake))


def test_follows_a_question_hook_20_second_report(fake: FakeOpenAI) -> None:
    """SCRIPT-4: the prompt states the report's format and a plan that ignores it is sent back."""
    theme = make_theme(target_duration_s=24.0, style="cinematic")
    report = make_report(hook_type="question", duration_s=20.0, style="talking-head")
    ignores_trend = plan_dict(target_s=15.0, hook_type="statement", style="talking-head")
    fake.chat(ANALYSIS, json.dumps(ignores_trend), plan_json(target_s=20.0, hook_type="question"))

    result = writer(fake).write_plan(theme, report)

    first_prompt = fake.requests_to(CHAT)[0].json["messages"][-1]["content"]
    for fact in (
        "Dominant style: talking-head",
        "Dominant hook type: question",
        "Recommended duration: 20 s",
        "#morningroutine, #coffee, #productivity",
    ):
        assert fact in first_prompt
    repair = fake.requests_to(CHAT)[2].json["messages"][-1]["content"]
    assert "hook_type is 'statement' but must be 'question'" in repair
    assert "target_duration_s is 15 but must be 20" in repair
    assert result.plan.hook_type == "question"
    assert result.plan.target_duration_s == 20.0
    assert result.plan.duration_s == pytest.approx(20.0, rel=0.1)
    assert result.brief is not None and result.brief.target_duration_s == 20.0


def test_structured_output_schema_mirrors_the_plan_model() -> None:
    """PlanOutput is what the API sees; VideoPlan is what shortvid validates: they must not drift."""
    # The plan's language is the theme's, set by shortvid; the model only writes in it.
    assert list(PlanOutput.model_fields) == [name for name in VideoPlan.model_fields if name != "language"]
    nested = PlanOutput.model_fields
    scene_model = nested["scenes"].annotation.__args__[0]  # type: ignore[union-attr]
    overlay_model = nested["text_overlays"].annotation.__args__[0]  # type: ignore[union-attr]
    assert list(scene_model.model_fields) == list(Scene.model_fields)
    assert list(overlay_model.model_fields) == list(TextOverlay.model_fields)


def test_a_schema_the_strict_api_rejects_is_reported(fake: FakeOpenAI) -> None:
    """The fake enforces the strict-schema rules; the plan request passes them (happy path above)."""
    schema = {"type": "object", "properties": {"a": {"type": "string", "default": "x"}}, "required": ["a"]}
    body = {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "T", "strict": True, "schema": schema},
        }
    }

    problem = FakeOpenAI.schema_problem(body)

    assert problem is not None and "additionalProperties" in problem
    schema["additionalProperties"] = False
    assert "'default' is not permitted" in (FakeOpenAI.schema_problem(body) or "")


def test_unpriced_model_fails_before_any_paid_call(fake: FakeOpenAI) -> None:
    with pytest.raises(UnknownModelPriceError, match=r"'gpt-9-turbo'.*SHORTVID_PRICE_TABLE"):
        writer(fake, model="gpt-9-turbo")

    assert fake.requests == []


def test_accepts_a_caller_supplied_httpx_client(fake: FakeOpenAI) -> None:
    fake.chat(ANALYSIS, plan_json())

    with httpx.Client(timeout=5) as http_client:
        result = write(fake, http_client=http_client)

    assert len(result.calls) == 2


def test_missing_api_key_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no OpenAI API key"):
        OpenAIScriptWriter("  ")
