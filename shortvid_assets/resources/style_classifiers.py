"""Style classifiers (ANLYS-2): the deterministic rules by default, OpenAI when configured.

`SHORTVID_STYLE_CLASSIFIER=rules|openai` picks one. The OpenAI classifier labels every trend of the
window in batches; a video the model leaves unlabeled gets the rules' style and is counted, while an
API failure fails the run (no silent switch to the rules when the LLM was asked for).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from shortvid_assets import settings
from shortvid_assets.clients.openai_classifier import DEFAULT_BATCH_SIZE, OpenAIStyleClient

STYLE_CLASSIFIER_ENV = "SHORTVID_STYLE_CLASSIFIER"
OPENAI_KEY_ENV = "OPENAI_API_KEY"

if TYPE_CHECKING:  # pandas loads when a report is analyzed, not with the code location
    import pandas as pd


@dataclass
class StyleResult:
    """A style per row (aligned on the frame's index), which classifier decided, and its cost."""

    styles: pd.Series
    classifier: str
    calls: int = 0
    cost_usd: float = 0.0
    fallback: int = 0  # rows the LLM left unlabeled, classified by the rules
    problems: list[str] = field(default_factory=list)


class StyleClassifier(dg.ConfigurableResource, ABC):
    """Labels each trend with a style: cinematic, talking-head, montage, text-heavy, animation, tutorial."""

    @abstractmethod
    def classify(self, frame: pd.DataFrame) -> StyleResult: ...

    def describe(self) -> str:
        return type(self).__name__


class RuleStyleClassifier(StyleClassifier):
    """Offline default: keyword rules on title and description, then duration and sound."""

    def classify(self, frame: pd.DataFrame) -> StyleResult:
        from shortvid_assets.domain.analysis import classify_styles

        return StyleResult(styles=classify_styles(frame), classifier="rules")

    def describe(self) -> str:
        return "the deterministic rules (text, duration, sound)"


class OpenAIStyleClassifier(StyleClassifier):
    """OpenAI structured output in batches; the rules label what the model leaves out."""

    api_key: str = Field(description=f"OpenAI API key; set it with dg.EnvVar({OPENAI_KEY_ENV!r})")
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    timeout_s: float = 60
    max_retries: int = 3

    def client(self) -> OpenAIStyleClient:
        return OpenAIStyleClient(
            self.api_key,
            model=self.model,
            base_url=self.base_url,
            batch_size=self.batch_size,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
        )

    def classify(self, frame: pd.DataFrame) -> StyleResult:
        import pandas as pd

        from shortvid_assets.domain.analysis import classify_styles, style_inputs

        labeled = self.client().classify(style_inputs(frame))
        rules = classify_styles(frame)
        styles = pd.Series([labeled.labels.get(str(i)) for i in frame.index], index=frame.index, dtype=object)
        missing = styles.isna()
        styles[missing] = rules[missing]
        return StyleResult(
            styles=styles,
            classifier=f"openai:{self.model}",
            calls=len(labeled.calls),
            cost_usd=labeled.cost_usd,
            fallback=int(missing.sum()),
            problems=labeled.problems,
        )

    def describe(self) -> str:
        where = self.base_url or "the OpenAI API"
        return f"OpenAI {self.model} at {where} in batches of {self.batch_size}"


def style_classifier_from_env(environ: Mapping[str, str] | None = None) -> StyleClassifier:
    """The classifier `SHORTVID_STYLE_CLASSIFIER` asks for: `rules` (default) or `openai`."""
    if settings.choice(STYLE_CLASSIFIER_ENV, ("rules", "openai"), environ) == "rules":
        return RuleStyleClassifier()
    settings.require(
        OPENAI_KEY_ENV,
        needed_by=f"{STYLE_CLASSIFIER_ENV}=openai",
        instead=f"unset {STYLE_CLASSIFIER_ENV} to classify styles by rules",
        environ=environ,
    )
    options: dict = {"api_key": dg.EnvVar(OPENAI_KEY_ENV)}
    if model := settings.text("SHORTVID_STYLE_MODEL", environ=environ):
        options["model"] = model
    if base_url := settings.text("OPENAI_BASE_URL", environ=environ):
        options["base_url"] = base_url
    if settings.is_set("SHORTVID_STYLE_BATCH_SIZE", environ):
        options["batch_size"] = settings.number(
            "SHORTVID_STYLE_BATCH_SIZE", None, integer=True, minimum=1, environ=environ
        )
    return OpenAIStyleClassifier(**options)
