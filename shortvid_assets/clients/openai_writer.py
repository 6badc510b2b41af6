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
from pydantic import BaseModel, Field, ValidationError, WithJsonSchema

from shortvid_assets.clients.openai_common import (
    OpenAIClientError,
    PricedOpenAIClient,
    api_error_message,
    chat_call,
    is_transient,
    json_body,
)
from shortvid_assets.domain.costs import (
    PaidCall,
    PriceTable,
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
from shortvid_assets.domain.publishing import ThemeWinners

log = logging.getLogger(__name__)

MAX_LISTED_PROBLEMS = 20


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


class OpenAIScriptWriter(PricedOpenAIClient):
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
        super().__init__(
            api_key,
            model=model,
            priced_as=("chat",),
            base_url=base_url,
            timeout_s=timeout_s,
            max_retries=max_retries,
            http_client=http_client,
            price_table=price_table,
        )
        self.temperature = temperature
        self.seed = seed

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIScriptWriter(model={self.model!r}, temperature={self.temperature}, seed={self.seed})"

    def write_plan(
        self, theme: Theme, report: TrendReport, performance: ThemeWinners | None = None
    ) -> PlanResult:
        """Run the chain (analysis, plan, at most one repair) and return the validated plan.

        `performance` (our own videos' best hook and style for the theme) joins the prompt as context and
        sets the brief's hook type and style, as it does for the template writer.
        """
        import openai

        brief = plan_brief(theme, report, performance)
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
        import openai

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
