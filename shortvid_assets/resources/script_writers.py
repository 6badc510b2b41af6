"""Script writers: the OpenAI chain when configured, the deterministic template otherwise."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import dagster as dg

from shortvid_assets.domain.models import Theme, TrendReport, VideoPlan
from shortvid_assets.domain.script_template import write_template_plan


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


class ScriptWriter(dg.ConfigurableResource, ABC):
    """Writes a production plan (SCRIPT-3) for a theme from the day's trend report."""

    @abstractmethod
    def write(self, theme: Theme, report: TrendReport) -> WrittenPlan: ...


class TemplateScriptWriter(ScriptWriter):
    """Offline default: a deterministic plan that follows the report's hook, length and tags."""

    def write(self, theme: Theme, report: TrendReport) -> WrittenPlan:
        return WrittenPlan(plan=write_template_plan(theme, report), writer="template")
