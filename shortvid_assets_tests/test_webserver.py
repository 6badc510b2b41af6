"""Protects what people see in the Dagster UI: every asset of the code location, with its partitions."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shortvid_assets import settings
from shortvid_assets.storage import postgres

EXPECTED = {
    "youtube_trends": "Daily",
    "tiktok_trends": "Daily",
    "trends": "Daily",
    "trend_report": "Daily",
    "video_script": "Multi-partitioned",
    "voiceover": "Multi-partitioned",
    "scene_clips": "Multi-partitioned",
    "composed_video": "Multi-partitioned",
    "review_status": "Multi-partitioned",
    "published_video": "Multi-partitioned",
    "video_performance": "Daily",
}
QUERY = "{ assetNodes { assetKey { path } partitionDefinition { description } } }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_definitions_validate(review_db_url):
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=settings.PROJECT_DIR,
        env={**os.environ, "DAGSTER_HOME": "", "SHORTVID_DATABASE_URL": review_db_url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "All code locations passed validation" in done.stderr + done.stdout


@pytest.mark.slow
def test_webserver_lists_every_asset_with_its_partitions(tmp_path, review_db_url):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((settings.PROJECT_DIR / "dagster.yaml").read_text())
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SHORTVID_DATABASE_URL": review_db_url,
        "SHORTVID_DAGSTER_STORAGE_URL": postgres.dagster_storage_url(review_db_url),
    }
    webserver = str(Path(sys.executable).with_name("dagster-webserver"))
    proc = subprocess.Popen(
        [webserver, "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=settings.PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        nodes = None
        while time.monotonic() < deadline and nodes is None:
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}, timeout=10)
                nodes = answer.json()["data"]["assetNodes"]
            except (httpx.HTTPError, KeyError, ValueError):
                time.sleep(1)
        assert nodes is not None, "the webserver did not answer within 120 s"
        seen = {n["assetKey"]["path"][-1]: n["partitionDefinition"]["description"] for n in nodes}
        assert set(seen) == set(EXPECTED)
        for asset, kind in EXPECTED.items():
            assert seen[asset].startswith(kind), (asset, seen[asset])
        assert "Dynamic partitions" in seen["composed_video"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
