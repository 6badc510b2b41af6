"""Protects the price table (REVIEW-5): costs from usage, snapshot names, the override file, unknown models."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from shortvid_assets.domain.costs import (
    DEFAULT_PRICE_TABLE,
    PRICE_TABLE_ENV,
    PaidCall,
    PriceTableError,
    UnknownModelPriceError,
    cost_of_chat,
    cost_of_speech,
    cost_of_transcription,
    load_price_table,
    total_cost,
)


@pytest.fixture(autouse=True)
def no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PRICE_TABLE_ENV, raising=False)


@pytest.mark.parametrize(
    ("model", "prompt_tokens", "completion_tokens", "usd"),
    [
        ("gpt-4o-mini", 1_000_000, 1_000_000, 0.75),
        ("gpt-4o-mini-2024-07-18", 2_000, 500, (2_000 * 0.15 + 500 * 0.60) / 1e6),
        ("GPT-4o", 1_000, 0, 0.0025),
        ("gpt-4.1-nano", 0, 1_000_000, 0.40),
    ],
)
def test_chat_cost_from_token_usage(
    model: str, prompt_tokens: int, completion_tokens: int, usd: float
) -> None:
    assert cost_of_chat(model, prompt_tokens, completion_tokens) == pytest.approx(usd)


def test_speech_and_transcription_costs() -> None:
    assert cost_of_speech("tts-1", 1_000_000) == pytest.approx(15.0)
    assert cost_of_speech("tts-1-hd", 500) == pytest.approx(0.015)
    assert cost_of_transcription("whisper-1", 90) == pytest.approx(0.009)
    assert cost_of_transcription("gpt-4o-mini-transcribe", 60) == pytest.approx(0.003)


def test_the_table_is_dated() -> None:
    assert DEFAULT_PRICE_TABLE.as_of == date(2026, 3, 21)
    assert load_price_table() is DEFAULT_PRICE_TABLE


def test_unknown_model_names_the_model_and_how_to_add_a_price() -> None:
    with pytest.raises(UnknownModelPriceError) as caught:
        cost_of_chat("gpt-9-turbo", 10, 10)

    message = str(caught.value)
    assert "no chat price for model 'gpt-9-turbo'" in message
    assert "gpt-4o-mini" in message  # lists what is known
    assert "chat: {gpt-9-turbo: {input_per_1m: <USD>, output_per_1m: <USD>}}" in message
    assert PRICE_TABLE_ENV in message
    with pytest.raises(UnknownModelPriceError, match=r"speech: \{gpt-4o-mini: \{per_1m_chars"):
        cost_of_speech("gpt-4o-mini", 10)  # a chat model is not a speech model


def test_yaml_override_from_the_environment_adds_and_replaces_prices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    override = tmp_path / "prices.yaml"
    override.write_text(
        "as_of: 2026-11-01\n"
        "chat:\n"
        "  gpt-4o-mini: {input_per_1m: 0.20, output_per_1m: 0.80}\n"
        "  gpt-9-turbo: {input_per_1m: 1.0, output_per_1m: 2.0}\n"
        "transcription:\n"
        "  whisper-1: {per_minute: 0.01}\n"
    )
    monkeypatch.setenv(PRICE_TABLE_ENV, str(override))

    table = load_price_table()

    assert table.as_of == date(2026, 11, 1)
    assert cost_of_chat("gpt-9-turbo", 1_000_000, 1_000_000) == pytest.approx(3.0)
    assert cost_of_chat("gpt-4o-mini", 1_000_000, 0) == pytest.approx(0.20)
    assert cost_of_chat("gpt-4o", 1_000_000, 0) == pytest.approx(2.50)  # untouched entries stay
    assert cost_of_transcription("whisper-1", 60) == pytest.approx(0.01)
    assert cost_of_speech("tts-1", 1_000_000) == pytest.approx(15.0)


def test_json_override_by_path(tmp_path: Path) -> None:
    override = tmp_path / "prices.json"
    override.write_text(json.dumps({"speech": {"my-tts": {"per_1m_chars": 4.0}}}))

    table = load_price_table(override)

    assert cost_of_speech("my-tts", 250_000, table) == pytest.approx(1.0)
    assert table.as_of == DEFAULT_PRICE_TABLE.as_of


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("chat:\n  gpt-x: {input_per_1m: -1, output_per_1m: 1}\n", "chat.gpt-x.input_per_1m"),
        ("chat:\n  gpt-x: {input_per_1m: 1}\n", "output_per_1m: Field required"),
        ("prices: {}\n", "unknown top-level keys ['prices']"),
        ("chat: [1, 2]\n", "'chat' must map model names to prices"),
        ("chat: {gpt-x: {input_per_1m: 1, output_per_1m: [}\n", "not valid YAML"),
    ],
)
def test_invalid_override_names_the_file_and_the_problem(tmp_path: Path, content: str, problem: str) -> None:
    override = tmp_path / "prices.yaml"
    override.write_text(content)

    with pytest.raises(PriceTableError) as caught:
        load_price_table(override)

    assert str(override) in str(caught.value)
    assert problem in str(caught.value)


def test_missing_override_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PRICE_TABLE_ENV, str(tmp_path / "nope.yaml"))

    with pytest.raises(PriceTableError, match="price table file not found"):
        cost_of_chat("gpt-4o-mini", 1, 1)


def test_total_cost_sums_paid_calls() -> None:
    calls = [
        PaidCall(
            provider="openai", model="gpt-4o-mini", kind="chat", units={"prompt_tokens": 1}, cost_usd=0.25
        ),
        PaidCall(provider="openai", model="tts-1", kind="speech", units={"characters": 9}, cost_usd=0.5),
    ]

    assert total_cost(calls) == pytest.approx(0.75)
    assert total_cost([]) == 0
    assert calls[1].to_dict() == {
        "provider": "openai",
        "model": "tts-1",
        "kind": "speech",
        "units": {"characters": 9},
        "cost_usd": 0.5,
    }
