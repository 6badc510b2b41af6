"""Style classification by OpenAI (ANLYS-2): trends in batches, one structured-output call per batch.

Each call sends up to `batch_size` videos (title, description, hashtags, duration, sound) under short
ids and gets back `{"labels": [{"id", "style"}]}` through strict structured outputs
(`chat.completions.parse`), so every style is one of the known values. What the model leaves out —
an id it skipped, a batch it refused or answered in an unreadable shape — is reported as unlabeled
for the caller to classify otherwise; an API failure (after the SDK's retries) raises
`StyleClassifierError` with what to do, never with the key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from shortvid_assets.clients.openai_common import (
    OpenAIClientError,
    PricedOpenAIClient,
    api_error_message,
    chat_call,
    json_body,
)
from shortvid_assets.domain.costs import PaidCall, PriceTable, total_cost
from shortvid_assets.domain.models import Style

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 25
SYSTEM_PROMPT = """You label trending short vertical videos by their production style, from metadata only.
Styles:
- cinematic: polished footage, scenery, b-roll, "shot on", 4k, aesthetic visuals without a speaker
- talking-head: one person speaking to camera: storytime, opinions, reactions, explanations
- montage: quick cuts of many clips: day in my life, vlogs, compilations, recaps
- text-heavy: the message is on-screen text: lists, tips, facts, "read this"
- animation: animated, cartoon or 3D-rendered content
- tutorial: step-by-step how-to, DIY, recipes and demonstrations
Give every video exactly one style, using its id as given. Answer for every id."""


class StyleClassifierError(OpenAIClientError):
    """The style classification call failed (after retries); `calls` holds what was paid before."""


class StyleLabel(BaseModel):
    id: str
    style: Style


class StyleLabels(BaseModel):
    """The structured output of one batch: a style per video id."""

    labels: list[StyleLabel]


@dataclass
class StyleClassification:
    """Styles by item id, what they cost, and what the model left unlabeled."""

    labels: dict[str, Style]
    calls: list[PaidCall] = field(default_factory=list)
    batches: int = 0
    unlabeled: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def cost_usd(self) -> float:
        return total_cost(self.calls)


class OpenAIStyleClient(PricedOpenAIClient):
    """Labels videos with one of the known styles through the OpenAI chat API, in batches."""

    def __init__(
        self,
        api_key: str,
        *,
        model: str = "gpt-4o-mini",
        base_url: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        timeout_s: float = 60,
        max_retries: int = 3,
        http_client: httpx.Client | None = None,
        price_table: PriceTable | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
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
        self.batch_size = batch_size

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIStyleClient(model={self.model!r}, batch_size={self.batch_size})"

    def classify(self, items: Sequence[Mapping[str, Any]]) -> StyleClassification:
        """A style for each item (a mapping with a unique `id`), batch by batch."""
        ids = [str(item["id"]) for item in items]
        if len(set(ids)) != len(ids):
            raise ValueError("style classification needs a unique id per item")
        result = StyleClassification(labels={})
        for start in range(0, len(items), self.batch_size):
            batch = items[start : start + self.batch_size]
            self._classify_batch(batch, result, number=start // self.batch_size + 1)
        result.unlabeled = [i for i in ids if i not in result.labels]
        log.info(
            "OpenAI %s labeled %d of %d videos in %d calls ($%.5f); %d unlabeled",
            self.model,
            len(result.labels),
            len(ids),
            len(result.calls),
            result.cost_usd,
            len(result.unlabeled),
        )
        return result

    def _messages(self, batch: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
        videos = "\n".join(json.dumps(dict(item), ensure_ascii=False) for item in batch)
        return [
            {"role": "system", "content": SYSTEM_PROMPT},
            {
                "role": "user",
                "content": f"Label these {len(batch)} videos (one JSON object per line):\n{videos}",
            },
        ]

    def _classify_batch(
        self, batch: Sequence[Mapping[str, Any]], result: StyleClassification, number: int
    ) -> None:
        import openai

        wanted = {str(item["id"]) for item in batch}
        try:
            raw = self._client.chat.completions.with_raw_response.parse(
                model=self.model, messages=self._messages(batch), response_format=StyleLabels, temperature=0
            )
        except openai.OpenAIError as exc:
            message = api_error_message(
                exc,
                f"style classification (batch {number}, model {self.model})",
                api_key=self._api_key,
                timeout_s=self.timeout_s,
                max_retries=self.max_retries,
            )
            raise StyleClassifierError(message, calls=result.calls) from None
        body = json_body(raw)
        result.calls.append(
            chat_call(str(body.get("model") or self.model), body.get("usage"), self._prices, self.model)
        )
        result.batches += 1
        try:
            completion = raw.parse()
        except (
            ValidationError,
            openai.LengthFinishReasonError,
            openai.ContentFilterFinishReasonError,
        ) as exc:
            result.problems.append(f"batch {number}: unreadable output ({type(exc).__name__})")
            return
        message = completion.choices[0].message
        if message.refusal or message.parsed is None:
            result.problems.append(f"batch {number}: {'refused' if message.refusal else 'empty output'}")
            return
        strangers = 0
        for label in message.parsed.labels:
            if label.id not in wanted:
                strangers += 1
            else:
                result.labels.setdefault(label.id, label.style)
        if strangers:
            result.problems.append(f"batch {number}: {strangers} labels for ids it was not asked about")
