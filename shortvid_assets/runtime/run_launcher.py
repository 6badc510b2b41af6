"""The run launcher: each run's process forked from a server that has already imported the code location.

Dagster's default launcher asks the code server to start every run in a fresh interpreter, which
imports Dagster and the code location again before the run's first step: on 2 cores busy with other
runs' renders that was most of each run's launch (Scale issue: `benchmarks/backfill.py`, launch by
phase). This launcher keeps one forkserver in the process that launches runs (the daemon): it imports
Dagster, the instance's storage and the code location once, and each run forks from it. A run
then executes exactly as in the code server's run process (Dagster's own function, same events,
same cancellation by interrupt).

The forkserver is replaced when the code changes: a file of the code location's package, or the
install of a library it preloads (`code_fingerprint`), so a run never executes older code than a
fresh interpreter would. Not on each of the daemon's workspace reloads: the daemon restarts its code
servers every 60 s whether or not anything changed, and a new forkserver costs seconds of CPU. Runs
whose code lives in another Python environment, or with `SHORTVID_RUN_LAUNCH=grpc`, go through the
code server as before.
"""

from __future__ import annotations

import contextlib
import importlib.util
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.launcher import DefaultRunLauncher, LaunchRunContext
from dagster._serdes import ConfigurableClassData

from shortvid_assets import settings
from shortvid_assets.orchestration.executors import stop_forkserver

RUN_LAUNCH_ENV = "SHORTVID_RUN_LAUNCH"
RUN_LAUNCHES = ("fork", "grpc")
PID_TAG = "shortvid/run_pid"
HOST_TAG = "shortvid/run_host"
# How long a forked run may take to load its instance and find its run before the launch fails.
START_TIMEOUT_S = 120.0
_FORKSERVER = multiprocessing.get_context("forkserver")


def run_launch() -> str:
    """How runs start: `fork` (default) from a preloaded forkserver, or `grpc` through the code server."""
    return settings.choice(RUN_LAUNCH_ENV, RUN_LAUNCHES)


class _Forkserver:
    """This process's forkserver, preloaded with one code location and replaced when its code changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation: tuple | None = None

    def _use(self, generation: tuple, preload: list[str]) -> None:
        if generation != self._generation:
            stop_forkserver()
            _FORKSERVER.set_forkserver_preload(preload)
            self._generation = generation

    def warm(self, generation: tuple, preload: list[str]) -> None:
        """Start the server now (it imports its modules in the background), not at the first run."""
        from multiprocessing import forkserver

        with self._lock:
            self._use(generation, preload)
            forkserver.ensure_running()

    def start(self, generation: tuple, preload: list[str], target, args: tuple) -> multiprocessing.Process:
        with self._lock:
            self._use(generation, preload)
            process = _FORKSERVER.Process(target=target, args=args, daemon=False)
            process.start()
            return process


_forkserver = _Forkserver()


def code_fingerprint(modules: list[str], code_package: str | None) -> tuple:
    """What the forkserver's imports come from: every .py file of the code location's top package (path,
    modification time, size) and the top file of each other preloaded package (rewritten by an upgrade)."""
    stamps = []
    for name in dict.fromkeys(m.split(".")[0] for m in modules):
        spec = importlib.util.find_spec(name)  # a top-level name: finds without importing
        if spec is None or spec.origin is None:
            continue
        files = [Path(spec.origin)]
        if name == code_package and spec.submodule_search_locations:
            files = sorted(
                f for folder in spec.submodule_search_locations for f in Path(folder).rglob("*.py")
            )
        for file in files:
            with contextlib.suppress(OSError):
                stat = file.stat()
                stamps.append((str(file), stat.st_mtime_ns, stat.st_size))
    return tuple(stamps)


def _preload(module: str | None, instance_ref, extra: list[str]) -> list[str]:
    """Modules the forkserver imports once: this module (each run's entry), Dagster's run path, the
    instance's classes (its storage: dagster_postgres alone took ~0.5 s per run), the code location
    and the launcher's `preload_modules` (libraries the code location imports only in the steps that
    use them). A module that fails to import is left to the run, which reports the error."""
    modules = [__name__, "dagster._grpc.impl", "dagster._core.execution.api"]
    for data in instance_ref:
        if isinstance(data, ConfigurableClassData):
            modules.append(data.module_name)
    return list(dict.fromkeys([*modules, *([module] if module else []), *extra]))


def _generation(preload: list[str], module: str | None) -> tuple:
    """What a forkserver was started for: its modules and the state of the files they come from."""
    return tuple(preload), code_fingerprint(preload, module.split(".")[0] if module else None)


def execute_forked_run(serialized_args: str, recon_job, status) -> None:
    """The run's process: Dagster's code-server run body, its start reported on `status`."""
    from dagster._grpc.impl import _run_in_subprocess
    from dagster._utils.interrupts import capture_interrupts

    def report(message) -> None:
        with contextlib.suppress(OSError):  # the launcher stops listening once the run has started
            status.send(message)  # pickled, as through the code server's queue

    with capture_interrupts():
        _run_in_subprocess(
            serialized_args,
            recon_job,
            multiprocessing.Event(),  # set only at the end: cancellation comes as an interrupt (terminate)
            subprocess_status_handler=report,
            run_event_handler=lambda event: None,
        )
    status.close()


class ShortvidRunLauncher(DefaultRunLauncher):
    """Dagster's default launcher, with each run forked from a preloaded forkserver (module docstring)."""

    def __init__(
        self, inst_data: ConfigurableClassData | None = None, preload_modules: list[str] | None = None
    ) -> None:
        super().__init__(inst_data=inst_data)
        self._preload_modules = list(preload_modules or [])

    @classmethod
    def config_type(cls):
        return {"preload_modules": dg.Field([str], is_required=False, default_value=[])}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]):
        return cls(inst_data=inst_data, preload_modules=config_value.get("preload_modules"))

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        origin = run.job_code_origin
        if (
            run_launch() != "fork"
            or origin is None
            or self._code_location(context) is None
            # the code lives in another Python environment
            or os.path.realpath(origin.executable_path) != os.path.realpath(sys.executable)
        ):
            super().launch_run(context)
            return
        self._fork(run, origin)
        self._run_ids.add(run.run_id)

    def warm(self, module: str) -> None:
        """Start the forkserver for the code location in `module` now, so the first run need not wait."""
        preload = _preload(module, self._instance.get_ref(), self._preload_modules)
        _forkserver.warm(_generation(preload, module), preload)

    @staticmethod
    def _code_location(context: LaunchRunContext):
        """The run's code location when it is served by a code server."""
        from dagster._core.remote_representation.code_location import GrpcServerCodeLocation

        if context.workspace is None or context.dagster_run.remote_job_origin is None:
            return None
        name = context.dagster_run.remote_job_origin.repository_origin.code_location_origin.location_name
        location = context.workspace.get_code_location(name)
        return location if isinstance(location, GrpcServerCodeLocation) else None

    def _fork(self, run: dg.DagsterRun, origin) -> None:
        from dagster._core.errors import DagsterLaunchFailedError
        from dagster._grpc.impl import IPCErrorMessage, StartRunInSubprocessSuccessful
        from dagster._grpc.types import ExecuteExternalJobArgs
        from dagster._serdes import serialize_value
        from dagster._utils.hosted_user_process import recon_job_from_origin

        instance_ref = self._instance.get_ref()
        args = serialize_value(
            ExecuteExternalJobArgs(
                job_origin=run.remote_job_origin, run_id=run.run_id, instance_ref=instance_ref
            )
        )
        module = getattr(origin.repository_origin.code_pointer, "module", None)
        preload = _preload(module, instance_ref, self._preload_modules)
        receive, send = _FORKSERVER.Pipe(duplex=False)
        try:
            process = _forkserver.start(
                _generation(preload, module),
                preload,
                execute_forked_run,
                (args, recon_job_from_origin(origin), send),
            )
            send.close()
            self._instance.add_run_tags(
                run.run_id, {PID_TAG: str(process.pid), HOST_TAG: socket.gethostname()}
            )
            deadline = time.monotonic() + START_TIMEOUT_S
            while not receive.poll(0.05):
                if not process.is_alive() and not receive.poll(0):
                    raise DagsterLaunchFailedError(
                        f"the run's process (pid {process.pid}) exited with code {process.exitcode} before it started"
                    )
                if time.monotonic() > deadline:
                    raise DagsterLaunchFailedError(
                        f"the run's process (pid {process.pid}) did not start within {START_TIMEOUT_S:.0f} s"
                    )
            message = receive.recv()
        finally:
            receive.close()
            send.close()
        if isinstance(message, IPCErrorMessage):
            raise DagsterLaunchFailedError(
                message.message, serializable_error_info=message.serializable_error_info
            )
        if not isinstance(message, StartRunInSubprocessSuccessful):
            raise DagsterLaunchFailedError(f"the run's process reported {message!r} instead of its start")

    def terminate(self, run_id: str) -> bool:
        """Interrupt a forked run's process, as the code server does with its own runs."""
        if not self.has_instance:
            return False
        run = self._instance.get_run_by_id(run_id)
        if not run or run.is_finished:
            return False
        if PID_TAG not in run.tags:
            return super().terminate(run_id)
        self._instance.report_run_canceling(run)
        pid, host = int(run.tags[PID_TAG]), run.tags.get(HOST_TAG)
        if host != socket.gethostname() or not _is_forked_run(pid):
            self._instance.report_engine_event(
                f"Cannot reach the run's process (pid {pid} on {host}) from {socket.gethostname()}: "
                "terminate it from the machine whose daemon launched it.",
                dagster_run=run,
                cls=self.__class__,
            )
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)  # Dagster turns it into the run's cancellation
        return True


def _is_forked_run(pid: int) -> bool:
    """Whether `pid` is still a process forked from a forkserver (and not a reused pid)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"multiprocessing.forkserver" in cmdline.read()
    except OSError:
        return False
