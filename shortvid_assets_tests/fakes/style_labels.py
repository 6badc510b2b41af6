"""Chat replies of the fake OpenAI API for style classification: labels computed from the request.

The classifier sends one video per line as JSON (with an `id`) and asks for strict structured output
`{"labels": [{"id", "style"}]}`; `label_reply` reads the request the way the model would and answers
in that shape, through the real chat-completion wire format of `fake_openai`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from shortvid_assets_tests.fakes.fake_openai import SNAPSHOTS, RecordedRequest, Reply, chat_completion


def request_items(request: RecordedRequest) -> list[dict[str, Any]]:
    """The videos a classification request carries (one JSON object per line of the user message)."""
    user = next(m for m in request.json["messages"] if m["role"] == "user")["content"]
    return [json.loads(line) for line in user.splitlines() if line.startswith("{")]


def label_reply(
    style_of: Callable[[dict[str, Any]], str] = lambda item: "montage",
    *,
    skip: int = 0,
    extra: list[dict[str, str]] | None = None,
    raw_content: str | None = None,
) -> Callable[[RecordedRequest], Reply]:
    """A reply labeling every requested video with `style_of(item)`, leaving out the last `skip` ones.

    `extra` labels are appended as given (e.g. ids nobody asked about); `raw_content` replaces the
    whole answer (e.g. truncated JSON).
    """

    def reply(request: RecordedRequest) -> Reply:
        items = request_items(request)
        kept = items[: len(items) - skip] if skip else items
        labels = [{"id": item["id"], "style": style_of(item)} for item in kept] + list(extra or [])
        content = raw_content if raw_content is not None else json.dumps({"labels": labels})
        model = SNAPSHOTS.get(request.json["model"], request.json["model"])
        body = chat_completion(
            content, model=model, prompt_tokens=60 * len(items), completion_tokens=12 * len(items)
        )
        return Reply(body=body)

    return reply
