"""What every OpenAI client of shortvid shares: the SDK client, priced models, error text, paid calls.

No key ever reaches an error message or a log line: every message built here goes through `redact`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx

from shortvid_assets.domain.costs import (
    PaidCall,
    PriceTable,
    UnknownModelPriceError,
    cost_of_chat,
    load_price_table,
)

if TYPE_CHECKING:  # the SDK is imported where a call is made: loading the code location never pays for it
    import openai
    from openai import OpenAI

log = logging.getLogger(__name__)

PROVIDER = "openai"


class OpenAIClientError(RuntimeError):
    """An OpenAI call failed; `calls` holds the paid calls made before the failure (REVIEW-5).

    `retryable` is True when the cause is transient (rate limit, server error, timeout, network):
    running the step again later may succeed, while a refusal or an invalid plan would repeat.
    """

    def __init__(self, message: str, *, calls: list[PaidCall] | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.calls = list(calls or [])
        self.retryable = retryable


class PricedOpenAIClient:
    """An OpenAI SDK client for one model whose prices are known before any paid call is made."""

    def __init__(
        self,
        api_key: str,
        *,
        model: str,
        priced_as: tuple[str, ...],
        base_url: str | None,
        timeout_s: float,
        max_retries: int,
        http_client: httpx.Client | None,
        price_table: PriceTable | None,
    ) -> None:
        self.model = model
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self._api_key = api_key
        self._prices = price_table or load_price_table()
        for kind in priced_as:
            self._prices.price(kind, model)  # an unpriced model fails here, before any paid call
        self._client = openai_client(
            api_key, base_url=base_url, timeout_s=timeout_s, max_retries=max_retries, http_client=http_client
        )


def openai_client(
    api_key: str,
    *,
    base_url: str | None,
    timeout_s: float,
    max_retries: int,
    http_client: httpx.Client | None,
) -> OpenAI:
    """An SDK client; it retries 408/409/429/5xx and timeouts with backoff, honouring Retry-After."""
    from openai import OpenAI

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
    import openai

    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


def api_error_message(
    exc: openai.OpenAIError, what: str, *, api_key: str, timeout_s: float, max_retries: int
) -> str:
    """A one-line explanation of an SDK error with what to do, never containing the API key."""
    import openai

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
