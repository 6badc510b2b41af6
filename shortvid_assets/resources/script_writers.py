"""Script writers: the OpenAI chain when configured, the deterministic template otherwise.

`script_writer_from_env()` picks one by `SHORTVID_SCRIPT_WRITER` (`template`, the default, or
`openai`); there is no silent fallback from one to the other.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
from pydantic import Field

from shortvid_assets import settings
from shortvid_assets.clients.openai_writer import OpenAIScriptWriter
from shortvid_assets.domain.costs import PaidCall, total_cost
from shortvid_assets.domain.models import Theme, TrendReport, VideoPlan
from shortvid_assets.domain.prompts import plan_brief
from shortvid_assets.domain.publishing import ThemeWinners
from shortvid_assets.domain.script_template import write_template_plan

log = logging.getLogger(__name__)

SCRIPT_WRITERS = ("template", "openai")
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


@dataclass
class WrittenPlan:
    """A production plan and how it was made (REVIEW-2: prompts, model, cost)."""

    plan: VideoPlan
    writer: str
    model: str | None = None
    prompts: list[dict] = field(default_factory=list)
    temperature: float | None = None
    seed: int | None = None
    cost_usd: float = 0.0
    calls: int = 0
    repaired: bool = False
    paid_calls: list[PaidCall] = field(default_factory=list)
    performance_pattern: str | None = None  # what the plan took from our own best videos, if anything


class ScriptWriter(dg.ConfigurableResource, ABC):
    """Writes a production plan (SCRIPT-3) for a theme from the day's trend report."""

    @abstractmethod
    def write(
        self, theme: Theme, report: TrendReport, performance: ThemeWinners | None = None
    ) -> WrittenPlan:
        """The plan; `performance` is the theme's winners in our own performance report (None: no data)."""

    @abstractmethod
    def describe(self) -> str:
        """Which implementation runs, for logs; never contains a secret."""

    @property
    def implementation(self) -> str:
        return "template"


class TemplateScriptWriter(ScriptWriter):
    """Offline default: a deterministic plan that follows the report's hook, length and tags."""

    def write(
        self, theme: Theme, report: TrendReport, performance: ThemeWinners | None = None
    ) -> WrittenPlan:
        brief = plan_brief(theme, report, performance)
        return WrittenPlan(
            plan=write_template_plan(theme, report, performance),
            writer="template",
            performance_pattern=brief.performance_pattern,
        )

    def describe(self) -> str:
        return "template (offline, deterministic, no API calls)"


def public_url(url: str | None) -> str:
    """`url` without credentials, query or fragment, for logs; the SDK's default when None."""
    if not url:
        return "https://api.openai.com/v1 (default)"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class OpenAIScriptWriterResource(ScriptWriter):
    """The OpenAI chat API (or any compatible server) writes the plan in two calls plus at most one repair."""

    api_key: str = Field(description="OpenAI API key; give it as dg.EnvVar('OPENAI_API_KEY')")
    base_url: str | None = Field(
        default=None, description="An OpenAI-compatible server; None = api.openai.com"
    )
    model: str = DEFAULT_OPENAI_MODEL
    temperature: float | None = 0.7
    seed: int | None = 7
    timeout_s: float = 60.0
    max_retries: int = Field(
        default=3, description="SDK retries of 408/409/429/5xx and timeouts, with backoff"
    )

    @property
    def implementation(self) -> str:
        return "openai"

    def describe(self) -> str:
        return (
            f"openai chat model {self.model} at {public_url(self.base_url)} "
            f"(temperature {self.temperature}, seed {self.seed})"
        )

    def _client(self) -> OpenAIScriptWriter:
        return OpenAIScriptWriter(
            self.api_key,
            model=self.model,
            base_url=self.base_url or None,
            temperature=self.temperature,
            seed=self.seed,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
        )

    def write(
        self, theme: Theme, report: TrendReport, performance: ThemeWinners | None = None
    ) -> WrittenPlan:
        result = self._client().write_plan(theme, report, performance)
        return WrittenPlan(
            performance_pattern=result.brief.performance_pattern if result.brief else None,
            plan=result.plan,
            writer="openai",
            model=result.model,
            prompts=result.prompts,
            temperature=result.temperature,
            seed=result.seed,
            cost_usd=total_cost(result.calls),
            calls=len(result.calls),
            repaired=result.repaired,
            paid_calls=list(result.calls),
        )


def openai_options() -> dict[str, Any]:
    """Key, server, timeout and SDK retries shared by every OpenAI-backed resource."""
    return {
        "api_key": dg.EnvVar("OPENAI_API_KEY"),
        "base_url": settings.text("OPENAI_BASE_URL"),
        "timeout_s": settings.number("SHORTVID_OPENAI_TIMEOUT_S", 60.0, minimum=1),
        "max_retries": settings.number("SHORTVID_OPENAI_MAX_RETRIES", 3, integer=True, minimum=0),
    }


def script_writer_from_env() -> ScriptWriter:
    """The writer named by SHORTVID_SCRIPT_WRITER (template by default), configured from the environment."""
    choice = settings.choice("SHORTVID_SCRIPT_WRITER", SCRIPT_WRITERS)
    if choice == "template":
        writer: ScriptWriter = TemplateScriptWriter()
    else:
        settings.require(
            "OPENAI_API_KEY",
            needed_by="SHORTVID_SCRIPT_WRITER=openai",
            instead="unset SHORTVID_SCRIPT_WRITER to write offline from templates",
        )
        writer = OpenAIScriptWriterResource(
            **openai_options(),
            model=settings.text("SHORTVID_OPENAI_MODEL", DEFAULT_OPENAI_MODEL),
            temperature=settings.number(
                "SHORTVID_OPENAI_TEMPERATURE", 0.7, minimum=0, maximum=2, allow_none=True
            ),
            seed=settings.number("SHORTVID_OPENAI_SEED", 7, integer=True, allow_none=True),
        )
    log.info("script writer: %s", writer.describe())
    return writer
