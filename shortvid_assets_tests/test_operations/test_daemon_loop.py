"""`shortvid daemon`: the backfill loop is a setting, and Dagster's backfill loop really reads it."""

from __future__ import annotations

import inspect

import pytest
from click.testing import CliRunner
from dagster._daemon import backfill as dagster_backfill
from dagster._daemon import controller

from shortvid_assets.cli import main
from shortvid_assets.runtime import daemon


def test_the_backfill_loop_setting_reaches_the_constant_dagsters_loop_reads_each_pass(monkeypatch):
    monkeypatch.setattr(
        controller, "DEFAULT_DAEMON_INTERVAL_SECONDS", controller.DEFAULT_DAEMON_INTERVAL_SECONDS
    )
    daemon.set_backfill_loop(3)
    assert controller.DEFAULT_DAEMON_INTERVAL_SECONDS == 3
    # The loop imports the constant when it runs, so setting it before the daemon starts takes effect;
    # a Dagster that reads it otherwise fails this test instead of silently keeping 30 s.
    loop = inspect.getsource(dagster_backfill.execute_backfill_iteration_loop)
    assert "from dagster._daemon.controller import DEFAULT_DAEMON_INTERVAL_SECONDS" in loop
    assert "DEFAULT_DAEMON_INTERVAL_SECONDS - loop_duration" in loop


@pytest.mark.parametrize(("value", "expected"), [(None, 5.0), ("2", 2.0), ("60", 60.0)])
def test_the_loop_defaults_to_5_s(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(daemon.BACKFILL_LOOP_ENV, raising=False)
    else:
        monkeypatch.setenv(daemon.BACKFILL_LOOP_ENV, value)
    assert daemon.backfill_loop_s() == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [(daemon.BACKFILL_LOOP_ENV, v) for v in ("0", "61", "fast", "-1")] + [("SHORTVID_RUN_LAUNCH", "spawn")],
)
def test_a_bad_loop_or_launch_is_refused_in_one_line_before_the_daemon_starts(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    started = []
    monkeypatch.setattr(daemon, "run_daemon", lambda *args: started.append(args))
    result = CliRunner().invoke(main, ["daemon"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], result.output
    assert not started
