"""What paid API calls cost (REVIEW-5): one dated price table, overridable by a JSON or YAML file.

Units follow how OpenAI bills: chat models per 1M input and output tokens, speech (TTS) models
per 1M input characters, transcription models per minute of audio. Cached input tokens are
billed at the full input price here, so a cost is an upper bound when prompt caching applies.

Override or extend the table with a file named by `SHORTVID_PRICE_TABLE` (or passed to
`load_price_table`); entries in the file replace or add to the built-in ones, model by model::

    as_of: 2026-11-01
    chat:
      gpt-4o-mini: {input_per_1m: 0.15, output_per_1m: 0.60}
    speech:
      tts-1: {per_1m_chars: 15.0}
    transcription:
      whisper-1: {per_minute: 0.006}
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shortvid_assets import settings

PRICE_TABLE_ENV = "SHORTVID_PRICE_TABLE"

CallKind = Literal["chat", "speech", "transcription"]

# A dated snapshot suffix the API reports in responses ("gpt-4o-mini-2024-07-18").
_SNAPSHOT_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")


class ChatPrice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_per_1m: float = Field(ge=0, description="USD per 1M input (prompt) tokens")
    output_per_1m: float = Field(ge=0, description="USD per 1M output (completion) tokens")


class SpeechPrice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_1m_chars: float = Field(ge=0, description="USD per 1M input characters")


class TranscriptionPrice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_minute: float = Field(ge=0, description="USD per minute of audio")


class PriceTable(BaseModel):
    """USD prices of the models shortvid calls, as of one date."""

    model_config = ConfigDict(extra="forbid")

    as_of: date
    source: str = ""
    chat: dict[str, ChatPrice] = Field(default_factory=dict)
    speech: dict[str, SpeechPrice] = Field(default_factory=dict)
    transcription: dict[str, TranscriptionPrice] = Field(default_factory=dict)

    def price(self, kind: CallKind, model: str) -> ChatPrice | SpeechPrice | TranscriptionPrice:
        """The price of `model` for `kind`, trying the dated snapshot's alias second."""
        section: dict[str, Any] = getattr(self, kind)
        name = model.strip().lower()
        for candidate in (name, _SNAPSHOT_SUFFIX.sub("", name)):
            if candidate in section:
                return section[candidate]
        raise UnknownModelPriceError(kind, model, self)


class PriceTableError(ValueError):
    """The price table override file is missing or invalid; the message names the file and the problem."""


class UnknownModelPriceError(KeyError):
    """No price for a model: the message names the model and how to add its price."""

    _EXAMPLE_UNITS: ClassVar[dict[str, str]] = {
        "chat": "{input_per_1m: <USD>, output_per_1m: <USD>}",
        "speech": "{per_1m_chars: <USD>}",
        "transcription": "{per_minute: <USD>}",
    }

    def __init__(self, kind: CallKind, model: str, table: PriceTable) -> None:
        known = ", ".join(sorted(getattr(table, kind))) or "none"
        message = (
            f"no {kind} price for model {model!r} in the price table (as of {table.as_of}; "
            f"known {kind} models: {known}). Add it to a YAML or JSON file as "
            f"`{kind}: {{{model}: {self._EXAMPLE_UNITS[kind]}}}` and set {PRICE_TABLE_ENV} to that file's path."
        )
        super().__init__(message)
        self.kind = kind
        self.model = model

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


# Source: OpenAI's pricing page (https://platform.openai.com/docs/pricing) as reported in March 2026.
# gpt-4o-mini-tts is billed by tokens ($0.60/1M text in, $12/1M audio out); its per-character price
# here is the measured equivalent (≈ $15.9 per 1M characters, Nov 2025). Verify before relying on it.
DEFAULT_PRICE_TABLE = PriceTable(
    as_of=date(2026, 3, 21),
    source="https://platform.openai.com/docs/pricing (March 2026)",
    chat={
        "gpt-4o-mini": ChatPrice(input_per_1m=0.15, output_per_1m=0.60),
        "gpt-4o": ChatPrice(input_per_1m=2.50, output_per_1m=10.00),
        "gpt-4.1": ChatPrice(input_per_1m=2.00, output_per_1m=8.00),
        "gpt-4.1-mini": ChatPrice(input_per_1m=0.40, output_per_1m=1.60),
        "gpt-4.1-nano": ChatPrice(input_per_1m=0.10, output_per_1m=0.40),
        "gpt-5": ChatPrice(input_per_1m=1.25, output_per_1m=10.00),
        "gpt-5-mini": ChatPrice(input_per_1m=0.25, output_per_1m=2.00),
        "gpt-5-nano": ChatPrice(input_per_1m=0.05, output_per_1m=0.40),
        "gpt-5.1": ChatPrice(input_per_1m=1.25, output_per_1m=10.00),
        "gpt-5.4": ChatPrice(input_per_1m=2.50, output_per_1m=15.00),
        "o3": ChatPrice(input_per_1m=2.00, output_per_1m=8.00),
        "o4-mini": ChatPrice(input_per_1m=1.10, output_per_1m=4.40),
    },
    speech={
        "tts-1": SpeechPrice(per_1m_chars=15.00),
        "tts-1-hd": SpeechPrice(per_1m_chars=30.00),
        "gpt-4o-mini-tts": SpeechPrice(per_1m_chars=15.90),
    },
    transcription={
        "whisper-1": TranscriptionPrice(per_minute=0.006),
        "gpt-4o-transcribe": TranscriptionPrice(per_minute=0.006),
        "gpt-4o-mini-transcribe": TranscriptionPrice(per_minute=0.003),
    },
)


def load_price_table(path: Path | str | None = None) -> PriceTable:
    """The built-in table merged with the override file at `path`, else at $SHORTVID_PRICE_TABLE."""
    if path is None:
        path = settings.text(PRICE_TABLE_ENV)
    if path is None:
        return DEFAULT_PRICE_TABLE
    override = _read_override(Path(path).expanduser())
    merged = DEFAULT_PRICE_TABLE.model_dump()
    for section in ("chat", "speech", "transcription"):
        entries = override.get(section) or {}
        if not isinstance(entries, dict):
            raise PriceTableError(f"{path}: '{section}' must map model names to prices, got {entries!r}")
        merged[section].update({str(name).strip().lower(): value for name, value in entries.items()})
    for key in ("as_of", "source"):
        if override.get(key) is not None:
            merged[key] = override[key]
    unknown = set(override) - {"as_of", "source", "chat", "speech", "transcription"}
    if unknown:
        raise PriceTableError(
            f"{path}: unknown top-level keys {sorted(unknown)}; expected as_of, source, chat, speech, transcription"
        )
    try:
        return PriceTable.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise PriceTableError(f"{path}: invalid price table: {problems}") from None


def _read_override(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise PriceTableError(f"{path}: price table file not found (from {PRICE_TABLE_ENV} or the caller)")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise PriceTableError(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise PriceTableError(f"{path}: expected a mapping with chat/speech/transcription sections")
    return data


def cost_of_chat(
    model: str, prompt_tokens: int, completion_tokens: int, table: PriceTable | None = None
) -> float:
    """USD cost of one chat completion from its token usage."""
    price = (table or load_price_table()).price("chat", model)
    assert isinstance(price, ChatPrice)
    return (prompt_tokens * price.input_per_1m + completion_tokens * price.output_per_1m) / 1_000_000


def cost_of_speech(model: str, characters: int, table: PriceTable | None = None) -> float:
    """USD cost of synthesizing `characters` characters of text."""
    price = (table or load_price_table()).price("speech", model)
    assert isinstance(price, SpeechPrice)
    return characters * price.per_1m_chars / 1_000_000


def cost_of_transcription(model: str, seconds: float, table: PriceTable | None = None) -> float:
    """USD cost of transcribing `seconds` seconds of audio."""
    price = (table or load_price_table()).price("transcription", model)
    assert isinstance(price, TranscriptionPrice)
    return seconds / 60.0 * price.per_minute


@dataclass
class PaidCall:
    """One paid API call and what it cost (REVIEW-5)."""

    provider: str
    model: str
    kind: CallKind
    units: dict[str, float] = field(default_factory=dict)
    cost_usd: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def total_cost(calls: Iterable[PaidCall]) -> float:
    """The summed cost of paid calls, in USD."""
    return sum(call.cost_usd for call in calls)
