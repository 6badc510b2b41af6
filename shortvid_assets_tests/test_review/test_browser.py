"""Protects the review page in a real browser: headless Chromium (Debian's package) driven by
Playwright signs in, plays the composed video (its currentTime advances), approves it; then the
review sensor's tick and run file the video in output/approved/."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from shortvid_assets.definitions import build_definitions
from shortvid_assets.orchestration.jobs import REVIEW_JOB, review_status_job
from shortvid_assets.orchestration.sensors import build_review_decisions_sensor
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.review.app import ReviewAppSettings, create_app
from shortvid_assets.review.app.auth import Reviewers, Signer
from shortvid_assets.runtime.runner import run_day
from shortvid_assets.storage import postgres, review_decisions
from shortvid_assets_tests.test_assets import conftest as graph_fixtures
from shortvid_assets_tests.test_assets.conftest import DAY, THEME

# The graph fixtures (tiny offline renders on a private workspace), shared with test_assets.
workspace = graph_fixtures.workspace
graph_resources = graph_fixtures.graph_resources
instance = graph_fixtures.instance

CHROMIUM = Path(os.environ.get("SHORTVID_CHROMIUM", "/usr/bin/chromium"))
ENSURE_CHROMIUM = Path(__file__).resolve().parents[2] / "scripts" / "ensure-chromium.sh"
LAUNCH_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "maya-browser-0123456789abcdef0123456789abcdef"  # >= 128 bits, as the page requires


@pytest.fixture(scope="module")
def pg_server_url(embedded_pg_dir: Path) -> str:
    """The browser test runs once, on the embedded server (the end-to-end test covers both servers)."""
    return postgres.embedded_server_url(embedded_pg_dir)


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium, installed by scripts/ensure-chromium.sh when missing; skip only if that fails."""
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed in the venv")
    if not CHROMIUM.exists() and ENSURE_CHROMIUM.exists():
        subprocess.run(["bash", str(ENSURE_CHROMIUM)], check=False, timeout=600)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(
            f"no Chromium at {CHROMIUM} and scripts/ensure-chromium.sh could not install Debian's chromium "
            "package (no apt-get, no root, or no package registry)"
        )
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def review_page(workspace, review_db_url) -> Iterator[str]:
    """The review page served by uvicorn on 127.0.0.1 in a thread; its base URL."""
    import uvicorn

    settings = ReviewAppSettings(
        artifacts=workspace.artifacts,
        themes_file=Path(workspace.themes_file),
        database_url=review_db_url,
        reviewers=Reviewers.parse(f"maya:{TOKEN}"),
        signer=Signer.from_value("browser-test-secret-0123456789"),
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the review page did not start within 20 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_reviewer_plays_and_approves_in_chromium_and_the_sensor_files_it(
    chromium,
    instance,
    graph_resources,
    workspace,
    review_db_url,
    review_page,
    tmp_path,
):
    from playwright.sync_api import sync_playwright

    defs = build_definitions(graph_resources)
    assert all(r.success for r in run_day(instance, DAY, [THEME], defs=defs))
    assert workspace.artifacts.review_file("review", DAY, THEME, "mp4").exists()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=LAUNCH_FLAGS)
        try:
            page = browser.new_page()
            page.goto(review_page + "/")
            assert page.url.endswith("/login")
            page.fill("#token", TOKEN)
            page.click("#sign-in")
            page.wait_for_selector("#reviewer")
            assert page.inner_text("#reviewer") == "maya"
            assert "Awaiting review (1)" in page.content()
            page.click(f'[data-partition="{DAY}|{THEME}"] a')
            page.wait_for_selector("#player")
            assert page.evaluate(
                "() => document.querySelector('.card img') === null"
            )  # on the video page now

            # Play the video: its current time must advance (decoded and played, not just fetched).
            page.evaluate(
                "() => { const v = document.getElementById('player'); v.muted = true; return v.play(); }"
            )
            page.wait_for_function("() => document.getElementById('player').currentTime > 0.5", timeout=15000)
            played = page.evaluate("() => document.getElementById('player').currentTime")
            assert played > 0.5
            assert page.evaluate("() => document.getElementById('player').videoWidth") == 216
            page.screenshot(path=str(tmp_path / "review-page.png"), full_page=True)

            page.fill("#note", "hook lands, ship it")
            page.click("#approve")
            page.wait_for_selector("#flash")
            assert "recorded" in page.inner_text("#flash")
            assert "hook lands, ship it" in page.inner_text("#history")
        finally:
            browser.close()

    conn = postgres.connect(review_db_url)
    try:
        (saved,) = review_decisions.list_decisions(conn)
    finally:
        conn.close()
    assert (saved.decision, saved.reviewer, saved.note) == ("approved", "maya", "hook lands, ship it")

    # The sensor applies it: one tick, one run, and the files are in output/approved/.
    context = dg.build_sensor_context(
        instance=instance,
        resources={"review_db": ReviewDatabase(url=review_db_url), "paths": graph_resources["paths"]},
    )
    (request,) = build_review_decisions_sensor(review_status_job)(context).run_requests
    assert request.run_key.startswith(f"review-decision-{saved.id}-")
    result = defs.resolve_job_def(REVIEW_JOB).execute_in_process(
        instance=instance, partition_key=request.partition_key
    )
    assert result.success
    assert workspace.artifacts.review_file("approved", DAY, THEME, "mp4").exists()
    assert workspace.artifacts.review_file("approved", DAY, THEME, "jpg").exists()
    assert not workspace.artifacts.review_file("review", DAY, THEME, "mp4").exists()
    shutil.copyfile(tmp_path / "review-page.png", "/tmp/shortvid-review-page.png")
