"""Fixtures for running the asset graph on a private workspace: tiny renders, a fresh database."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from shortvid_assets.definitions import build_resources
from shortvid_assets.partitions import theme_partitions
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.resources.video_format import VideoFormat
from shortvid_assets_tests.tiny import MINICUP, SMALL, themes_yaml

DAY = "2026-11-24"
THEME = "minicup"
THEMES_YAML = themes_yaml(MINICUP)


@pytest.fixture
def workspace(tmp_path: Path) -> ShortvidPaths:
    themes = tmp_path / "themes.yaml"
    themes.write_text(THEMES_YAML)
    return ShortvidPaths(
        data_dir=str(tmp_path / "data"), output_dir=str(tmp_path / "output"), themes_file=str(themes)
    )


@pytest.fixture
def graph_resources(workspace: ShortvidPaths, review_db_url: str) -> dict[str, object]:
    """The offline resources, pointed at this test's folders and database, rendering tiny videos."""
    return {
        **build_resources(),
        "paths": workspace,
        "video_format": VideoFormat(**SMALL),
        "review_db": ReviewDatabase(url=review_db_url),
    }


@pytest.fixture
def instance() -> dg.DagsterInstance:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(theme_partitions.name, [THEME])
        yield instance
