"""Where a run's steps execute, picked by SHORTVID_EXECUTOR when the code location loads.

- unset or `auto`: a run's steps run one after another in the run's own process, unless steps of the
  run that may overlap include CPU work (a step in the render pool), which then run one process per
  step forked from a server that has already imported the code location (and unless the run's process
  changed its settings since it loaded the code location). A video partition's chain
  (video_script -> voiceover -> scene_clips -> composed_video -> review_status) can only run one step
  after another; the day's trends run its two collections one after the other, as each mostly waits
  on HTTP. Measured with `benchmarks/backfill.py`: a fresh interpreter per step re-imported the code
  location for ~2.5 s of CPU each time, which cost more than a small video's render; a trends run's
  own forkserver still cost ~2 s of CPU before its first step, and its steps imported pandas again.
- `multiprocess`: one process per step, always, forked from that preloaded server.
- `spawn`: Dagster's stock multiprocess executor, a fresh interpreter per step (the former default;
  kept to measure against).
- `in_process`: every step in the run's own process (debugging, tiny machines).
- `celery`: steps become Celery tasks on SHORTVID_CELERY_BROKER (default the local Redis) and run
  in `shortvid worker` processes on any machine that reaches the broker and the Postgres
  instance; the result backend is SHORTVID_CELERY_BACKEND, default the broker.
Workers load the same code with the same variable, so set it for them too (`shortvid worker`
does). Pools hold in every mode: a step waits for its pool's slot whichever process runs it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import dagster as dg

from shortvid_assets import settings

EXECUTOR_ENV = "SHORTVID_EXECUTOR"
BROKER_ENV = "SHORTVID_CELERY_BROKER"
BACKEND_ENV = "SHORTVID_CELERY_BACKEND"
VISIBILITY_ENV = "SHORTVID_CELERY_VISIBILITY_TIMEOUT_S"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
# Longer than any step may take (the render's own timeout is 900 s): a step still running when it
# expires is handed to a second worker as well.
DEFAULT_VISIBILITY_TIMEOUT_S = 3600
EXECUTORS = ("auto", "multiprocess", "spawn", "in_process", "celery")
# The settings this process loaded the code location with (this module loads with it).
_LOADED_WITH = settings.values()


def executor_name() -> str:
    """The executor SHORTVID_EXECUTOR asks for (default auto)."""
    return settings.choice(EXECUTOR_ENV, EXECUTORS)


def celery_broker() -> str:
    return settings.text(BROKER_ENV, DEFAULT_BROKER)


def celery_backend() -> str:
    return settings.text(BACKEND_ENV) or celery_broker()


def celery_visibility_timeout_s() -> int:
    """Seconds after which a step's task that no worker acknowledged (its worker died) is delivered again."""
    return int(settings.number(VISIBILITY_ENV, DEFAULT_VISIBILITY_TIMEOUT_S, integer=True, minimum=10))


def celery_worker_settings() -> dict[str, object]:
    """Celery settings that lose no step when a worker dies mid-step (kill -9, machine lost).

    A task is acknowledged only when its step has ended (`acks_late`); a worker process killed mid-step
    gives its task back at once (`reject_on_worker_lost`); a whole worker lost leaves its task
    unacknowledged, and Redis hands it to another worker after the visibility timeout. Each worker
    takes one task at a time, so a long render never holds a second step hostage.
    """
    visibility = celery_visibility_timeout_s()
    return {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_transport_options": {
            "visibility_timeout": visibility,
            # how often a live worker looks for tasks of dead ones (kombu's default is every ~100 s)
            "unacked_restore_interval": max(1, min(10, visibility // 6)),
            "unacked_restore_throttle": 1,
        },
    }


# Pools whose steps keep the CPU busy: two of them at once need two processes.
CPU_POOLS = frozenset({"render"})


def overlapping_steps(plan) -> list[tuple]:
    """Pairs of the execution plan's steps that may run at once (neither depends on the other)."""
    steps = plan.get_steps_to_execute_in_topo_order()
    ancestors: dict[str, set[str]] = {}
    for step in steps:
        direct = step.get_execution_dependency_keys()
        ancestors[step.key] = set(direct).union(*(ancestors.get(k, set()) for k in direct))
    return [(a, b) for a, b in itertools.combinations(steps, 2) if a.key not in ancestors[b.key]]


def steps_always_sequential(plan) -> bool:
    """True when every step of the execution plan depends, directly or not, on the one before it."""
    return not overlapping_steps(plan)


def steps_need_processes(plan) -> bool:
    """True when steps that may run at once include CPU work (a step in a CPU pool)."""
    return any(a.pool in CPU_POOLS or b.pool in CPU_POOLS for a, b in overlapping_steps(plan))


def stop_forkserver() -> None:
    """Stop this process's forkserver, if one runs: the next run's steps fork from a fresh one.

    A forkserver keeps the environment and the code location it started with. A run process that Dagster
    launches is fresh anyway; a process that runs several jobs (tests, scripts) must not fork the next
    run's steps from the last run's settings. Processes forked from the old server keep running.
    """
    import multiprocessing.forkserver

    stop = getattr(multiprocessing.forkserver._forkserver, "_stop", None)
    if stop is not None:
        stop()


class ChainAwareExecutor(dg.Executor):
    """Runs a run's steps in its process, and one process per step where overlapping steps do CPU work.

    Without an in-process executor every run's steps take a process each.
    """

    def __init__(self, in_process: dg.Executor | None, multiprocess: dg.Executor) -> None:
        self._in_process = in_process
        self._multiprocess = multiprocess

    @property
    def retries(self):
        return self._multiprocess.retries

    @property
    def step_dependency_config(self):
        return self._multiprocess.step_dependency_config

    def execute(self, plan_context, execution_plan) -> Iterator[dg.DagsterEvent]:
        # In this process only while its code location still matches the environment: a process that
        # changed its settings since (a test, a script) runs the steps in fresh processes instead.
        if (
            self._in_process is not None
            and not steps_need_processes(execution_plan)
            and settings.values() == _LOADED_WITH
        ):
            yield from self._in_process.execute(plan_context, execution_plan)
            return
        try:
            yield from self._multiprocess.execute(plan_context, execution_plan)
        finally:
            stop_forkserver()


def _forkserver(preload: Sequence[str] | None = None) -> dict[str, object]:
    return {"forkserver": {"preload_modules": list(preload)} if preload else {}}


def _executor_config_schema() -> dg.Field:
    """`auto` by default; also Dagster's own `multiprocess` and `in_process` run config, which tests and
    `dagster job execute --config` use, so a run that names one gets exactly that executor."""
    from dagster._core.definitions.executor_definition import IN_PROC_CONFIG, MULTI_PROC_CONFIG

    auto = {"max_concurrent": dg.Field(dg.Noneable(int), default_value=None)}
    return dg.Field(
        dg.Selector({"auto": auto, "multiprocess": MULTI_PROC_CONFIG, "in_process": IN_PROC_CONFIG}),
        default_value={"auto": {}},
    )


def _requirements(config) -> list:
    return [] if "in_process" in config else dg.multiple_process_executor_requirements()


@dg.executor(name="auto", config_schema=_executor_config_schema(), requirements=_requirements)
def chain_aware_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """A run's steps in its process; overlapping CPU steps one process each, forked from a preloaded server."""
    from dagster._core.definitions.executor_definition import (
        _core_in_process_executor_creation,
        _core_multiprocess_executor_creation,
    )

    config = init_context.executor_config
    if "in_process" in config:
        return _core_in_process_executor_creation(config["in_process"])
    if "multiprocess" in config:
        return ChainAwareExecutor(None, _core_multiprocess_executor_creation(config["multiprocess"]))
    multiprocess = _core_multiprocess_executor_creation(
        # forkserver with no module named preloads the job's own module: the code location
        {
            "max_concurrent": config["auto"]["max_concurrent"],
            "retries": {"enabled": {}},
            "start_method": _forkserver(),
        }
    )
    in_process = _core_in_process_executor_creation({"retries": {"enabled": {}}})
    return ChainAwareExecutor(in_process, multiprocess)


def job_executor() -> dg.ExecutorDefinition | None:
    """The executor for shortvid's jobs; None keeps Dagster's stock multiprocess executor (`spawn`)."""
    name = executor_name()
    if name == "auto":
        return chain_aware_executor
    if name == "multiprocess":
        return chain_aware_executor.configured(
            {"multiprocess": {"start_method": _forkserver()}}, name="multiprocess"
        )
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
            {
                "broker": celery_broker(),
                "backend": celery_backend(),
                "config_source": celery_worker_settings(),
            },
            name="celery",
        )
    return None
