"""Fixtures for operations tests: a Dagster home on Postgres, tiny workspaces, and subprocess helpers.

The heavy tests here start real processes (the daemon, run workers, a Celery worker), so they use one
PostgreSQL server only: `SHORTVID_TEST_DATABASE_URL`'s when set, else the embedded one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from shortvid_assets import settings
from shortvid_assets.definitions import build_resources
from shortvid_assets.partitions import theme_partitions
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.resources.video_format import VideoFormat
from shortvid_assets.storage import postgres
from shortvid_assets_tests.conftest import TEST_DATABASE_URL_ENV
from shortvid_assets_tests.tiny import MINICUP, SMALL, TINYTEA, themes_yaml

THEMES = ("minicup", "tinytea")
THEMES_YAML = themes_yaml(MINICUP, TINYTEA)


@pytest.fixture(scope="session")
def ops_server_url(request: pytest.FixtureRequest) -> str:
    """One PostgreSQL server for the operations tests: the local one when configured, else the embedded."""
    url = os.environ.get(TEST_DATABASE_URL_ENV, "").strip()
    if url:
        return url
    return postgres.embedded_server_url(request.getfixturevalue("embedded_pg_dir"))


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new empty database on `server_url`, dropped afterwards."""
    name = f"svops_{uuid.uuid4().hex[:16]}"
    url = postgres.create_database(server_url, name)
    try:
        yield url
    finally:
        postgres.drop_database(server_url, name)


@dataclass
class Site:
    """A shortvid deployment in a temporary folder: Dagster home and review database on Postgres."""

    root: Path
    home: Path
    storage_url: str
    review_url: str
    paths: ShortvidPaths
    env: dict[str, str]

    def instance(self) -> dg.DagsterInstance:
        """The site's Dagster instance, read from its dagster.yaml (the project's)."""
        return dg.DagsterInstance.from_config(str(self.home))

    def resources(self) -> dict[str, object]:
        return {
            **build_resources(),
            "paths": self.paths,
            "video_format": VideoFormat(**SMALL),
            "review_db": ReviewDatabase(url=self.review_url),
        }

    def process_env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, **self.env, **extra}


@contextlib.contextmanager
def make_site(root: Path, server_url: str, themes_yaml: str = THEMES_YAML) -> Iterator[Site]:
    """Databases, folders and environment of a site; the project's dagster.yaml as its instance config."""
    root.mkdir(parents=True, exist_ok=True)
    home = root / "dagster_home"
    home.mkdir()
    shutil.copyfile(settings.PROJECT_DIR / "dagster.yaml", home / "dagster.yaml")
    themes = root / "themes.yaml"
    themes.write_text(themes_yaml)
    paths = ShortvidPaths(
        data_dir=str(root / "data"), output_dir=str(root / "output"), themes_file=str(themes)
    )
    with fresh_database(server_url) as storage_url, fresh_database(server_url) as review_url:
        env = {
            "DAGSTER_HOME": str(home),
            "SHORTVID_HOME": str(root / "state"),
            "SHORTVID_DAGSTER_STORAGE_URL": storage_url,
            "SHORTVID_DATABASE_URL": review_url,
            "SHORTVID_DATA_DIR": paths.data_dir,
            "SHORTVID_OUTPUT_DIR": paths.output_dir,
            "SHORTVID_THEMES_FILE": paths.themes_file,
            "SHORTVID_VIDEO_WIDTH": str(SMALL["width"]),
            "SHORTVID_VIDEO_HEIGHT": str(SMALL["height"]),
            "SHORTVID_VIDEO_PRESET": SMALL["preset"],
        }
        site = Site(root, home, storage_url, review_url, paths, env)
        with contextlib.ExitStack() as stack:
            patch = stack.enter_context(pytest.MonkeyPatch.context())
            for key, value in env.items():
                patch.setenv(key, value)
            instance = site.instance()
            instance.add_dynamic_partitions(theme_partitions.name, list(THEMES))
            instance.dispose()
            yield site


@pytest.fixture
def site(tmp_path: Path, ops_server_url: str) -> Iterator[Site]:
    """A fresh site for one test, its environment exported for the test's duration."""
    with make_site(tmp_path / "site", ops_server_url) as made:
        yield made


@pytest.fixture
def review_url(ops_server_url: str) -> Iterator[str]:
    """An empty database for review decisions on the operations server."""
    with fresh_database(ops_server_url) as url:
        yield url


@pytest.fixture
def workspace(tmp_path: Path) -> ShortvidPaths:
    """Folders and a themes file (two 6 s themes) for one test."""
    themes = tmp_path / "themes.yaml"
    themes.write_text(THEMES_YAML)
    return ShortvidPaths(
        data_dir=str(tmp_path / "data"), output_dir=str(tmp_path / "output"), themes_file=str(themes)
    )


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A throwaway local instance with the theme partitions."""
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(theme_partitions.name, list(THEMES))
        yield instance


def wait_until(condition: Callable[[], object], timeout_s: float, what: str, poll_s: float = 1.0):
    """Poll `condition` until it returns something truthy; fail the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(poll_s)


def stop_process_group(process: subprocess.Popen, grace_s: float = 15.0) -> None:
    """SIGTERM the process group we started, then SIGKILL whatever is left of it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)
