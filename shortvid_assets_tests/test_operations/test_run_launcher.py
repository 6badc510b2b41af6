"""Protects the run launcher: runs fork from one server preloaded with the code location until that
location reloads, the server preloads the instance's storage, the code and the configured libraries,
and SHORTVID_RUN_LAUNCH picks the launch. The daemon tests (test_daemon, test_workers) run every
backfill through this launcher and terminate a forked run from another process.
"""

from __future__ import annotations

import psutil
import pytest

from shortvid_assets import settings
from shortvid_assets.orchestration.executors import stop_forkserver
from shortvid_assets.runtime import run_launcher

from . import forked
from .conftest import wait_until


def fork(server: run_launcher._Forkserver, generation: tuple, preload: list[str]) -> dict:
    receive, send = run_launcher._FORKSERVER.Pipe(duplex=False)
    process = server.start(generation, [forked.__name__, *preload], forked.report, (send,))
    send.close()
    assert receive.poll(120), "the forked process never reported"
    report = receive.recv()
    receive.close()
    process.join(60)
    assert process.exitcode == 0
    return report


@pytest.fixture
def server():
    yield run_launcher._Forkserver()
    stop_forkserver()  # the forkserver is this process's: nothing after this test forks from it


def test_runs_fork_from_one_preloaded_server_until_the_code_location_reloads(server):
    first = fork(server, ("shortvid", "server-1"), ["json.tool"])
    again = fork(server, ("shortvid", "server-1"), ["json.tool"])
    reloaded = fork(server, ("shortvid", "server-2"), ["xml.dom.minidom"])

    assert first["pid"] != again["pid"]
    assert first["parent"] == again["parent"], "a second run started a second server"
    assert first["loaded"] == {"json.tool": True, "xml.dom.minidom": False}
    assert reloaded["parent"] != first["parent"], "a reloaded code location kept the old server"
    assert reloaded["loaded"] == {"json.tool": False, "xml.dom.minidom": True}
    wait_until(lambda: not psutil.pid_exists(first["parent"]), 30, "the old server to exit", poll_s=0.2)


def test_a_warmed_server_serves_the_first_run(server):
    from multiprocessing import forkserver

    server.warm(("shortvid", "server-1"), [forked.__name__, "json.tool"])
    warmed = forkserver._forkserver._forkserver_pid
    assert warmed and psutil.pid_exists(warmed)
    first = fork(server, ("shortvid", "server-1"), ["json.tool"])
    assert first["parent"] == warmed and first["loaded"]["json.tool"]


def test_the_server_preloads_instance_storage_code_location_and_libraries(site):
    with site.instance() as instance:
        assert isinstance(instance.run_launcher, run_launcher.ShortvidRunLauncher)
        preload = run_launcher._preload(
            "shortvid_assets.definitions", instance.get_ref(), instance.run_launcher._preload_modules
        )

    assert preload[0] == run_launcher.__name__
    assert "shortvid_assets.runtime.instance_storage" in preload  # the project's dagster.yaml storage
    assert "shortvid_assets.definitions" in preload
    assert {"pandas", "openai"} <= set(preload)  # dagster.yaml's preload_modules
    assert len(preload) == len(set(preload))


@pytest.mark.parametrize(("value", "launch"), [(None, "fork"), ("fork", "fork"), ("GRPC", "grpc")])
def test_run_launch_setting(monkeypatch, value, launch):
    if value is None:
        monkeypatch.delenv(run_launcher.RUN_LAUNCH_ENV, raising=False)
    else:
        monkeypatch.setenv(run_launcher.RUN_LAUNCH_ENV, value)
    assert run_launcher.run_launch() == launch


def test_unknown_run_launch_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv(run_launcher.RUN_LAUNCH_ENV, "spawn")
    with pytest.raises(settings.SettingError, match="SHORTVID_RUN_LAUNCH='spawn' is not one of fork, grpc"):
        run_launcher.run_launch()


def test_the_fingerprint_changes_with_any_file_of_the_code_and_only_then(tmp_path, monkeypatch):
    package = tmp_path / "fingerprinted_code"
    (package / "assets").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "assets" / "__init__.py").write_text("")
    (package / "assets" / "video.py").write_text("LENGTH = 6\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    modules = ["fingerprinted_code.definitions", "json.tool"]

    first = run_launcher.code_fingerprint(modules, "fingerprinted_code")
    assert run_launcher.code_fingerprint(modules, "fingerprinted_code") == first
    assert any(path.endswith("video.py") for path, _, _ in first)
    assert any(path.endswith("json/__init__.py") for path, _, _ in first)  # a library: its top file only
    assert not any(path.endswith("json/tool.py") for path, _, _ in first)

    (package / "assets" / "video.py").write_text("LENGTH = 15\n")  # an edit deep in the package
    assert run_launcher.code_fingerprint(modules, "fingerprinted_code") != first
