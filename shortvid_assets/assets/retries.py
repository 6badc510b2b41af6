"""Retries (ORCH-3): every stage that calls outside retries 3 times with exponential backoff and jitter,
and no stage retries what a retry cannot fix (a missing input file, an invalid plan, a bad setting or
themes file, text Postgres refuses): those fail at once."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import dagster as dg
import psycopg2
from pydantic import ValidationError

from shortvid_assets.domain.themes import ThemeConfigError, UnknownThemeError
from shortvid_assets.settings import SettingError
from shortvid_assets.storage.artifacts import MissingArtifact

# The same inputs fail the same way again: a step that raises one of these is not retried.
FINAL_ERRORS: tuple[type[BaseException], ...] = (
    MissingArtifact,
    ValidationError,
    SettingError,
    ThemeConfigError,
    UnknownThemeError,
    psycopg2.DataError,
)


def outside_call_retry(delay_s: float = 2) -> dg.RetryPolicy:
    """Three retries, waiting about `delay_s`, then twice, then four times as long (± jitter)."""
    return dg.RetryPolicy(
        max_retries=3, delay=delay_s, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    )


def _final(exc: BaseException) -> dg.Failure:
    return dg.Failure(
        description=f"{type(exc).__name__}: {exc} (not retried: the same inputs would fail again)",
        metadata={"error_type": type(exc).__name__, "retryable": False},
        allow_retries=False,
    )


def no_retry_for_bad_input(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Put under `@dg.asset`: errors in `FINAL_ERRORS` become a Failure without retries."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except FINAL_ERRORS as exc:
                raise _final(exc) from exc

        return generator

    @functools.wraps(fn)
    def function(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FINAL_ERRORS as exc:
            raise _final(exc) from exc

    return function
