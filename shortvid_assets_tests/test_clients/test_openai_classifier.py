"""Protects the OpenAI style classifier (ANLYS-2) against a fake OpenAI API: batching, structured output,
call counts and cost, what the model leaves out, retries and failures that never show the key."""

from __future__ import annotations

import pytest

from shortvid_assets.clients.openai_classifier import OpenAIStyleClient, StyleClassifierError
from shortvid_assets_tests.fakes.fake_openai import (
    CHAT,
    FAKE_KEY,
    FakeOpenAI,
    error_reply,
    rate_limited,
    refusal_reply,
    running_fake,
    server_error,
)
from shortvid_assets_tests.fakes.style_labels import label_reply, request_items

STYLES = ["cinematic", "talking-head", "montage", "text-heavy", "animation", "tutorial"]


@pytest.fixture
def fake():
    yield from running_fake()


def items(n: int) -> list[dict]:
    return [
        {
            "id": str(i),
            "title": f"video {i}",
            "description": "",
            "hashtags": ["fyp"],
            "duration_s": 20.0,
            "sound_name": None,
        }
        for i in range(n)
    ]


def client(fake: FakeOpenAI, **options) -> OpenAIStyleClient:
    return OpenAIStyleClient(
        FAKE_KEY, base_url=fake.base_url, max_retries=options.pop("max_retries", 2), **options
    )


def by_index(item: dict) -> str:
    return STYLES[int(item["id"]) % len(STYLES)]


def test_batches_of_the_configured_size_one_call_each(fake):
    fake.chat(*(label_reply(by_index) for _ in range(3)))

    result = client(fake, batch_size=25).classify(items(60))

    calls = fake.requests_to(CHAT)
    assert [len(request_items(r)) for r in calls] == [25, 25, 10]
    assert result.batches == 3 and len(result.calls) == 3
    assert result.labels == {str(i): STYLES[i % 6] for i in range(60)}
    assert result.unlabeled == [] and result.problems == []


def test_request_uses_strict_structured_output_and_deterministic_sampling(fake):
    fake.chat(label_reply())
    client(fake, model="gpt-4o-mini").classify(items(3))

    body = fake.requests_to(CHAT)[0].json
    assert body["model"] == "gpt-4o-mini" and body["temperature"] == 0
    spec = body["response_format"]["json_schema"]
    assert spec["strict"] is True
    label = spec["schema"]["$defs"]["StyleLabel"]
    assert sorted(label["properties"]["style"]["enum"]) == sorted(STYLES)
    assert fake.requests_to(CHAT)[0].headers["authorization"] == f"Bearer {FAKE_KEY}"


def test_cost_is_priced_from_the_reported_usage(fake):
    fake.chat(label_reply())
    result = client(fake).classify(items(10))

    call = result.calls[0]
    assert call.model == "gpt-4o-mini-2024-07-18"
    assert call.units == {"prompt_tokens": 600, "completion_tokens": 120}
    assert result.cost_usd == pytest.approx(600 * 0.15e-6 + 120 * 0.60e-6)


def test_ids_the_model_skips_are_reported_unlabeled(fake):
    fake.chat(label_reply(skip=2), label_reply())
    result = client(fake, batch_size=5).classify(items(8))

    assert result.unlabeled == ["3", "4"]
    assert len(result.labels) == 6


def test_labels_for_unknown_ids_are_ignored_and_counted(fake):
    fake.chat(label_reply(extra=[{"id": "999", "style": "animation"}]))
    result = client(fake).classify(items(4))

    assert "999" not in result.labels and len(result.labels) == 4
    assert result.problems == ["batch 1: 1 labels for ids it was not asked about"]


def test_a_refused_batch_leaves_only_its_items_unlabeled(fake):
    fake.chat(label_reply(), refusal_reply())
    result = client(fake, batch_size=3).classify(items(5))

    assert sorted(result.labels) == ["0", "1", "2"]
    assert result.unlabeled == ["3", "4"]
    assert result.problems == ["batch 2: refused"]
    assert len(result.calls) == 2  # a refusal is still a paid call


@pytest.mark.parametrize(
    "content",
    ['{"labels": [{"id": "0", "sty', '{"labels": [{"id": "0", "style": "vlogging"}]}', '{"tags": []}'],
    ids=["truncated-json", "unknown-style", "wrong-shape"],
)
def test_unreadable_output_leaves_the_batch_unlabeled(fake, content):
    fake.chat(label_reply(raw_content=content))
    result = client(fake).classify(items(2))

    assert result.labels == {} and result.unlabeled == ["0", "1"]
    assert result.problems and "unreadable output" in result.problems[0]


def test_rate_limit_and_server_error_are_retried_by_the_sdk(fake):
    fake.chat(rate_limited(0.01), server_error(), label_reply())
    result = client(fake, max_retries=2).classify(items(2))

    assert len(fake.requests_to(CHAT)) == 3
    assert len(result.labels) == 2 and len(result.calls) == 1


def test_a_rejected_key_raises_without_the_key(fake):
    fake.echo_key_in_errors = True  # the worst case: the API repeats the key it got
    bad_key = "sk-wrong-key-1234567890"
    with pytest.raises(StyleClassifierError) as caught:
        OpenAIStyleClient(bad_key, base_url=fake.base_url, max_retries=0).classify(items(2))

    message = str(caught.value)
    assert "HTTP 401" in message and "check the API key" in message
    assert bad_key not in message
    assert len(fake.requests_to(CHAT)) == 1


def test_failure_after_paid_batches_reports_what_was_paid(fake):
    fake.chat(label_reply(), error_reply(400, "bad request", type_="invalid_request_error"))
    with pytest.raises(StyleClassifierError) as caught:
        client(fake, batch_size=2, max_retries=0).classify(items(4))

    assert len(caught.value.calls) == 1
    assert "batch 2" in str(caught.value)


def test_timeout_raises_a_clear_error(fake):
    from shortvid_assets_tests.fakes.fake_openai import slow

    fake.chat(slow(1.0, label_reply()))
    with pytest.raises(StyleClassifierError, match="timed out"):
        client(fake, timeout_s=0.2, max_retries=0).classify(items(1))


def test_duplicate_ids_and_bad_batch_size_are_refused(fake):
    with pytest.raises(ValueError, match="unique id"):
        client(fake).classify([*items(2), *items(1)])
    with pytest.raises(ValueError, match="batch_size"):
        client(fake, batch_size=0)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        OpenAIStyleClient("", base_url=fake.base_url)
    assert fake.requests_to(CHAT) == []
