"""Where a run's steps execute, picked by SHORTVID_EXECUTOR when the code location loads.

- unset or `multiprocess`: Dagster's default, one process per step on the run's machine.
- `in_process`: every step in the run's own process (debugging, tiny machines).
- `celery`: steps become Celery tasks on SHORTVID_CELERY_BROKER (default the local Redis) and run
  in `shortvid worker` processes on any machine that reaches the broker and the Postgres
  instance; the result backend is SHORTVID_CELERY_BACKEND, default the broker.
Workers load the same code with the same variable, so set it for them too (`shortvid worker`
does).
"""

from __future__ import annotations

import dagster as dg

from shortvid_assets import settings

EXECUTOR_ENV = "SHORTVID_EXECUTOR"
BROKER_ENV = "SHORTVID_CELERY_BROKER"
BACKEND_ENV = "SHORTVID_CELERY_BACKEND"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
EXECUTORS = ("multiprocess", "in_process", "celery")


def executor_name() -> str:
    """The executor SHORTVID_EXECUTOR asks for (default multiprocess)."""
    return settings.choice(EXECUTOR_ENV, EXECUTORS)


def celery_broker() -> str:
    return settings.text(BROKER_ENV, DEFAULT_BROKER)


def celery_backend() -> str:
    return settings.text(BACKEND_ENV) or celery_broker()


def job_executor() -> dg.ExecutorDefinition | None:
    """The executor for shortvid's jobs; None keeps Dagster's default (multiprocess)."""
    name = executor_name()
    if name == "in_process":
        return dg.in_process_executor
    if name == "celery":
        try:
            from dagster_celery import celery_executor
        except ImportError:
            raise settings.SettingError(
                f"{EXECUTOR_ENV}=celery needs dagster-celery: pip install 'dagster-celery==0.29.*'"
            ) from None
        return celery_executor.configured(
            {"broker": celery_broker(), "backend": celery_backend()}, name="celery"
        )
    return None
