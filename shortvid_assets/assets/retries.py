"""The retry policy of every stage that calls outside (ORCH-3): 3 retries with exponential backoff and jitter."""

import dagster as dg


def outside_call_retry(delay_s: float = 2) -> dg.RetryPolicy:
    """Three retries, waiting about `delay_s`, then twice, then four times as long (± jitter)."""
    return dg.RetryPolicy(
        max_retries=3, delay=delay_s, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    )
