"""The OpenAI script writer (SCRIPT-2, SCRIPT-4): a theme and the day's trend report in, a validated plan out.

The chain takes two calls, three when the plan needs one repair:

1. analysis — theme interpretation and trend alignment, as plain text;
2. plan — scene construction, narration and text overlays as structured output, parsed by the
   SDK (`chat.completions.parse`) into `PlanOutput`, then validated as a `VideoPlan` and checked
   against the trend report (`alignment_problems`);
3. repair — only if step 2 failed validation: the same conversation plus the rejected output
   and the list of problems. Still invalid afterwards -> `ScriptWriterError`.

`PlanOutput` mirrors `VideoPlan` field by field (all but `language`, which is the theme's)
without defaults or string-length limits,
because the API's strict structured outputs reject schemas carrying `default`, `minLength` or
`maxLength`; `VideoPlan` then enforces every rule on our side.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import httpx
import openai
from openai import OpenAI
from pydantic import BaseModel, Field, ValidationError, WithJsonSchema

from shortvid_assets.domain.costs import (
    PaidCall,
    PriceTable,
    UnknownModelPriceError,
    cost_of_chat,
    load_price_table,
    total_cost,
)
from shortvid_assets.domain.models import (
    HookType,
    OverlayPosition,
    OverlayStyle,
    Style,
    Theme,
    Transition,
    TrendReport,
    VideoPlan,
)
from shortvid_assets.domain.prompts import (
    Message,
    PlanBrief,
    alignment_problems,
    analysis_messages,
    plan_brief,
    plan_messages,
    repair_messages,
    validation_problems,
)

log = logging.getLogger(__name__)

PROVIDER = "openai"
MAX_LISTED_PROBLEMS = 20


class OpenAIClientError(RuntimeError):
    """An OpenAI call failed; `calls` holds the paid calls made before the failure (REVIEW-5).

    `retryable` is True when the cause is transient (rate limit, server error, timeout, network):
    running the step again later may succeed, while a refusal or an invalid plan would repeat.
    """

    def __init__(self, message: str, *, calls: list[PaidCall] | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.calls = list(calls or [])
        self.retryable = retryable


class ScriptWriterError(OpenAIClientError):
    """No valid plan: the API failed, refused, or its output stayed invalid after one repair."""


# --- the structured-output schema sent to the API (mirrors VideoPlan, see the module docstring) ---


class PlanScene(BaseModel):
    number: int = Field(description="1..n in order")
    duration_s: float = Field(description="2 to 4 seconds")
    visual_prompt: str = Field(description="What the clip shows: subject, setting, camera, light")
    transition: Transition


class PlanOverlay(BaseModel):
    text: str
    start_s: float
    end_s: float
    position: OverlayPosition
    style: OverlayStyle


class PlanOutput(BaseModel):
    """A video production plan as the model writes it; validated afterwards as a `VideoPlan`."""

    title: str = Field(description="At most 100 characters")
    description: str
    master_visual_prompt: str = Field(description="The look shared by every scene")
    target_duration_s: float
    aspect_ratio: Annotated[Literal["9:16"], WithJsonSchema({"type": "string", "enum": ["9:16"]})]
    scenes: list[PlanScene]
    voiceover_script: str
    hook_text: str
    hook_type: HookType
    cta_text: str
    text_overlays: list[PlanOverlay]
    hashtags: list[str] = Field(description="5 to 8 unique tags without '#'")
    style: Style
    trend_pattern: str = Field(description="Which pattern of the trend report the plan follows")


@dataclass
class PlanResult:
    """A validated plan and how it was made: prompts, model, sampling settings and paid calls."""

    plan: VideoPlan
    prompts: list[dict[str, Any]]  # one entry per call: {"step": ..., "messages": [...]}
    model: str
    temperature: float | None
    seed: int | None
    calls: list[PaidCall]
    repaired: bool
    analysis: str = ""
    brief: PlanBrief | None = None

    @property
    def cost_usd(self) -> float:
        return total_cost(self.calls)


@dataclass
class _Attempt:
    plan: VideoPlan | None = None
    output: str = ""
    problems: list[str] = field(default_factory=list)


# --- helpers shared with the voice client ---


def openai_client(
    api_key: str,
    *,
    base_url: str | None,
    timeout_s: float,
    max_retries: int,
    http_client: httpx.Client | None,
) -> OpenAI:
    """An SDK client; it retries 408/409/429/5xx and timeouts with backoff, honouring Retry-After."""
    if not api_key or not api_key.strip():
        raise ValueError(
            "no OpenAI API key given: set OPENAI_API_KEY (or the resource's api_key), "
            "or configure the offline implementation instead"
        )
    return OpenAI(
        api_key=api_key.strip(),
        base_url=base_url,
        timeout=timeout_s,
        max_retries=max_retries,
        http_client=http_client,
    )


def redact(text: str, secret: str) -> str:
    """`text` with every occurrence of `secret` replaced, so keys never reach errors or logs."""
    secret = (secret or "").strip()
    return text.replace(secret, "***") if len(secret) >= 4 else text


def is_transient(exc: openai.OpenAIError) -> bool:
    """Whether an SDK error may pass by itself: timeouts, network errors, 408/409/429 and 5xx."""
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


def api_error_message(
    exc: openai.OpenAIError, what: str, *, api_key: str, timeout_s: float, max_retries: int
) -> str:
    """A one-line explanation of an SDK error with what to do, never containing the API key."""
    attempts = f"{max_retries + 1} attempt{'s' if max_retries else ''}"
    if isinstance(exc, openai.APITimeoutError):
        message = (
            f"OpenAI {what} timed out after {timeout_s:g} s ({attempts}); raise timeout_s or retry later"
        )
    elif isinstance(exc, openai.APIConnectionError):
        message = f"could not reach the OpenAI API for {what} ({attempts}): {exc.message}; check base_url and the network"
    elif isinstance(exc, openai.APIStatusError):
        detail = exc.body.get("message") if isinstance(exc.body, dict) else exc.body
        kind = "/".join(part for part in (exc.type, exc.code) if part)
        hint = {
            401: "check the API key",
            403: "the key has no access to this model or endpoint",
            404: "check the model name and base_url",
            429: "rate limit or quota exceeded; retry later or check the account's billing",
        }.get(exc.status_code, "retry later" if exc.status_code >= 500 else "check the request settings")
        request_id = f", request id {exc.request_id}" if exc.request_id else ""
        message = (
            f"OpenAI {what} failed with HTTP {exc.status_code}"
            f"{f' {kind}' if kind else ''}: {detail} ({attempts}{request_id}); {hint}"
        )
    else:
        message = f"OpenAI {what} failed: {exc}"
    return redact(message, api_key)


def json_body(raw: Any) -> dict[str, Any]:
    """The JSON body of a raw SDK response, or {} when it is not a JSON object."""
    try:
        body = raw.http_response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def chat_call(model: str, usage: dict[str, Any] | None, prices: PriceTable, fallback_model: str) -> PaidCall:
    """A `PaidCall` from a chat completion's `model` and `usage` fields."""
    usage = usage or {}
    prompt_tokens = int(usage.get("prompt_tokens") or 0)
    completion_tokens = int(usage.get("completion_tokens") or 0)
    if not usage:
        log.warning("OpenAI response for %s carried no usage; its cost is recorded as 0", model)
    try:
        cost = cost_of_chat(model, prompt_tokens, completion_tokens, prices)
    except UnknownModelPriceError:
        cost = cost_of_chat(fallback_model, prompt_tokens, completion_tokens, prices)
    return PaidCall(
        provider=PROVIDER,
        model=model,
        kind="chat",
        units={"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
        cost_usd=cost,
    )


class OpenAIScriptWriter:
    """Writes a `VideoPlan` for a theme from the day's trend report through the OpenAI chat API."""

    def __init__(
        self,
        api_key: str,
        *,
        model: str = "gpt-4o-mini",
        base_url: str | None = None,
        temperature: float | None = 0.7,
        seed: int | None = 7,
        timeout_s: float = 60,
        max_retries: int = 3,
        http_client: httpx.Client | None = None,
        price_table: PriceTable | None = None,
    ) -> None:
        self.model = model
        self.temperature = temperature
        self.seed = seed
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self._api_key = api_key
        self._prices = price_table or load_price_table()
        self._prices.price("chat", model)  # an unpriced model fails here, before any paid call
        self._client = openai_client(
            api_key, base_url=base_url, timeout_s=timeout_s, max_retries=max_retries, http_client=http_client
        )

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIScriptWriter(model={self.model!r}, temperature={self.temperature}, seed={self.seed})"

    def write_plan(self, theme: Theme, report: TrendReport) -> PlanResult:
        """Run the chain (analysis, plan, at most one repair) and return the validated plan."""
        brief = plan_brief(theme, report)
        calls: list[PaidCall] = []
        prompts: list[dict[str, Any]] = []
        step = "analysis"
        try:
            analysis = self._analysis(analysis_messages(theme, report, brief), theme, calls, prompts)
            messages = plan_messages(theme, report, brief, analysis)
            step = "plan"
            attempt = self._plan_attempt("plan", messages, brief, theme, calls, prompts)
            repaired = False
            if attempt.plan is None:
                log.info(
                    "plan for %s failed validation, asking for one repair: %s", theme.slug, attempt.problems
                )
                messages = repair_messages(messages, attempt.output, attempt.problems[:MAX_LISTED_PROBLEMS])
                step = "repair"
                attempt = self._plan_attempt("repair", messages, brief, theme, calls, prompts)
                repaired = True
            if attempt.plan is None:
                listed = "; ".join(attempt.problems[:MAX_LISTED_PROBLEMS])
                raise ScriptWriterError(
                    f"{self.model} returned an invalid plan for theme {theme.slug!r} even after one repair: "
                    f"{listed}. Retry the run, or try another model or a lower temperature",
                    calls=calls,
                )
        except openai.OpenAIError as exc:
            message = api_error_message(
                exc,
                f"chat ({step} step for theme {theme.slug!r}, model {self.model})",
                api_key=self._api_key,
                timeout_s=self.timeout_s,
                max_retries=self.max_retries,
            )
            raise ScriptWriterError(message, calls=calls, retryable=is_transient(exc)) from None
        log.info(
            "plan for %s written by %s in %d calls (repaired=%s), $%.5f",
            theme.slug,
            self.model,
            len(calls),
            repaired,
            total_cost(calls),
        )
        return PlanResult(
            plan=attempt.plan,
            prompts=prompts,
            model=self.model,
            temperature=self.temperature,
            seed=self.seed,
            calls=calls,
            repaired=repaired,
            analysis=analysis,
            brief=brief,
        )

    def _sampling(self) -> dict[str, Any]:
        settings: dict[str, Any] = {"model": self.model}
        if self.temperature is not None:  # reasoning models accept only their default temperature
            settings["temperature"] = self.temperature
        if self.seed is not None:
            settings["seed"] = self.seed
        return settings

    def _record(self, body: dict[str, Any], calls: list[PaidCall]) -> None:
        call = chat_call(str(body.get("model") or self.model), body.get("usage"), self._prices, self.model)
        calls.append(call)
        log.info(
            "OpenAI chat %s: %s prompt + %s completion tokens, $%.5f",
            call.model,
            call.units["prompt_tokens"],
            call.units["completion_tokens"],
            call.cost_usd,
        )

    def _analysis(
        self, messages: list[Message], theme: Theme, calls: list[PaidCall], prompts: list[dict[str, Any]]
    ) -> str:
        prompts.append({"step": "analysis", "messages": copy.deepcopy(messages)})
        raw = self._client.chat.completions.with_raw_response.create(messages=messages, **self._sampling())
        self._record(json_body(raw), calls)
        completion = raw.parse()
        choice = completion.choices[0]
        if choice.message.refusal or choice.finish_reason == "content_filter":
            raise ScriptWriterError(
                f"{self.model} refused the analysis for theme {theme.slug!r}: "
                f"{(choice.message.refusal or 'content filter').rstrip('.')}. Review the theme's wording and talking points",
                calls=calls,
            )
        analysis = (choice.message.content or "").strip()
        if not analysis:
            raise ScriptWriterError(
                f"{self.model} returned an empty analysis for theme {theme.slug!r}; retry the run",
                calls=calls,
            )
        return analysis

    def _plan_attempt(
        self,
        step: str,
        messages: list[Message],
        brief: PlanBrief,
        theme: Theme,
        calls: list[PaidCall],
        prompts: list[dict[str, Any]],
    ) -> _Attempt:
        prompts.append({"step": step, "messages": copy.deepcopy(messages)})
        raw = self._client.chat.completions.with_raw_response.parse(
            messages=messages, response_format=PlanOutput, **self._sampling()
        )
        body = json_body(raw)
        self._record(body, calls)
        choices = body.get("choices") or [{}]
        output = (choices[0].get("message") or {}).get("content") or ""
        try:
            completion = raw.parse()
        except ValidationError as exc:
            return _Attempt(
                output=output, problems=["the output does not match the schema", *validation_problems(exc)]
            )
        except openai.LengthFinishReasonError:
            return _Attempt(
                output=output, problems=["the output was cut off at the token limit; write a shorter plan"]
            )
        except openai.ContentFilterFinishReasonError:
            raise ScriptWriterError(
                f"{self.model} stopped the plan for theme {theme.slug!r} with its content filter; "
                "review the theme's wording and talking points",
                calls=calls,
            ) from None
        message = completion.choices[0].message
        if message.refusal:
            raise ScriptWriterError(
                f"{self.model} refused to write the plan for theme {theme.slug!r}: {message.refusal.rstrip('.')}. "
                "Review the theme's wording and talking points",
                calls=calls,
            )
        if message.parsed is None:
            return _Attempt(output=output, problems=["the output was empty; return the plan as JSON"])
        try:
            plan = VideoPlan.model_validate({**message.parsed.model_dump(), "language": theme.language})
        except ValidationError as exc:
            return _Attempt(output=output, problems=validation_problems(exc))
        problems = alignment_problems(plan, brief)
        if problems:
            return _Attempt(output=output, problems=problems)
        return _Attempt(plan=plan, output=output)
