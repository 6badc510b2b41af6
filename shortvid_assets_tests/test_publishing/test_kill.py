"""Protects exactly-once publishing across a lost process: kill -9 of the publishing step mid-upload (a chunk
in flight), or after the platform stored the whole video but before the step recorded it, then running the
step again -> exactly one remote video, holding the approved bytes, with no second upload session opened.

The step runs in its own process against a local fake Google that holds one answer until the test has
killed that process.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from shortvid_assets.storage import publications
from shortvid_assets_tests.fakes.server import Response
from shortvid_assets_tests.fakes.youtube_publish import CHUNK_UNIT, FakeGooglePublishing

from .conftest import CLIENT_ID, CLIENT_SECRET, DAY, REFRESH_TOKEN, THEME, Site
from .test_published_video import PARTITION, failure_of, metadata_of, publish

HOLD_S = 120  # bounded: the handler gives up holding its answer after this long


class HoldingGoogle(FakeGooglePublishing):
    """Holds one upload answer: before storing the second chunk, or after storing the last one."""

    def __init__(self, hold: str) -> None:
        super().__init__(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN)
        self.hold = hold
        self.holding = threading.Event()
        self.release = threading.Event()

    def _put_upload(self, request, match):
        content_range = request.headers.get("content-range", "")
        first = re.match(r"bytes (\d+)-", content_range)
        if self.release.is_set() or first is None:
            return super()._put_upload(request, match)
        if self.hold == "mid-upload" and int(first.group(1)) > 0:
            self.holding.set()
            self.release.wait(HOLD_S)
            return Response(drop=True)
        response = super()._put_upload(request, match)
        if self.hold == "after the last byte" and response.status in (200, 201):
            self.holding.set()
            self.release.wait(HOLD_S)
        return response


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("hold", ["mid-upload", "after the last byte"])
def test_kill_9_of_the_publishing_step_then_running_it_again_gives_exactly_one_video(
    hold, workspace, db_url, instance, approved_factory
):
    with HoldingGoogle(hold) as google:
        site: Site = approved_factory(google)
        video = Path(site.paths.artifacts.review_file("approved", DAY, THEME, "mp4"))
        command = [sys.executable, "-m", "shortvid_assets_tests.test_publishing.run_publish",
                   site.paths.data_dir, site.paths.output_dir, site.paths.themes_file, db_url, google.url,
                   PARTITION]  # fmt: skip
        process = subprocess.Popen(command, start_new_session=True)
        try:
            wait_for(
                lambda: google.holding.is_set() or process.poll() is not None, 180, "the upload to start"
            )
            assert process.poll() is None, "the publishing process ended before it could be killed"
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            google.release.set()
        assert process.returncode == -signal.SIGKILL

        conn = site.connect()
        try:
            killed = publications.publication_for(conn, DAY, THEME, "youtube")
        finally:
            conn.close()
        assert killed.status == "uploading" and killed.session_uri  # stored before the first byte
        assert len(google.videos) == (1 if hold == "after the last byte" else 0)
        assert len(google.sessions) == 1

        result = publish(site)
        assert result.success, failure_of(result)

        [remote] = google.videos.values()
        assert remote.content == video.read_bytes()
        assert len(google.sessions) == 1 and google.quota_used["videos.insert"] == 1  # no second session
        meta = metadata_of(result)
        assert meta["action"] == "resumed" and meta["video_id"] == remote.resource["id"]
        if hold == "mid-upload":  # resumed from the server's Range, not from byte 0
            assert meta["bytes_sent"] == video.stat().st_size - CHUNK_UNIT
        else:
            assert meta["bytes_sent"] == 0
        assert publish(site).success and len(google.videos) == 1
