"""A fake OpenAI videos API (Sora) on 127.0.0.1 for the real openai SDK: create, poll, download.

`POST /v1/videos` takes multipart form fields (prompt, model, seconds, size) like the real API and
answers a `video` object `queued`; each `GET /v1/videos/{id}` advances it (queued -> in_progress ->
completed, or -> failed for prompts containing "FAIL"); `GET /v1/videos/{id}/content` streams the MP4.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
import time
from pathlib import Path
from typing import Any

from shortvid_assets_tests.fakes.server import FakeServer, Request, Response

FAKE_KEY = "sk-test-video-0123456789"
VIDEOS = "/v1/videos"


def _form(request: Request) -> dict[str, str]:
    """The text fields of a multipart/form-data body."""
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(head + request.body)
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[str(name)] = part.get_content() if part.get_content_type().startswith("text/") else ""
    return fields


class FakeOpenAIVideos(FakeServer):
    """Videos endpoints with the real status flow; `clip` is what every completed job downloads as."""

    def __init__(self, clip: Path, *, api_key: str = FAKE_KEY, polls_to_finish: int = 2) -> None:
        super().__init__()
        self.api_key = api_key
        self.clip_bytes = Path(clip).read_bytes()
        self.polls_to_finish = polls_to_finish
        self.jobs: dict[str, dict[str, Any]] = {}
        self.route("POST", VIDEOS, self._create)
        self.route("GET", rf"{VIDEOS}/(video_[a-z0-9]+)", self._retrieve)
        self.route("GET", rf"{VIDEOS}/(video_[a-z0-9]+)/content", self._content)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.api_key}"

    def _error(self, status: int, message: str, code: str | None = None) -> Response:
        return Response(status, {"error": {"message": message, "type": "invalid_request_error", "param": None,
                                           "code": code}})  # fmt: skip

    def _create(self, request: Request, match: re.Match[str]) -> Response:
        if not self._authorized(request):
            return self._error(401, "Incorrect API key provided", "invalid_api_key")
        form = _form(request)
        if form.get("seconds", "4") not in ("4", "8", "12"):
            return self._error(400, f"Invalid value for 'seconds': {form.get('seconds')!r}")
        if form.get("size", "720x1280") not in ("720x1280", "1280x720", "1024x1792", "1792x1024"):
            return self._error(400, f"Invalid value for 'size': {form.get('size')!r}")
        job_id = f"video_{len(self.jobs) + 1:04d}abc"
        self.jobs[job_id] = {
            "id": job_id,
            "object": "video",
            "model": form.get("model", "sora-2"),
            "status": "queued",
            "progress": 0,
            "created_at": int(time.time()),
            "completed_at": None,
            "expires_at": None,
            "prompt": form.get("prompt"),
            "seconds": form.get("seconds", "4"),
            "size": form.get("size", "720x1280"),
            "remixed_from_video_id": None,
            "error": None,
            "_polls": 0,
        }
        return Response(200, self._public(job_id))

    def _public(self, job_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.jobs[job_id].items() if not k.startswith("_")}

    def _retrieve(self, request: Request, match: re.Match[str]) -> Response:
        job = self.jobs.get(match.group(1))
        if job is None:
            return self._error(404, f"Video {match.group(1)} not found")
        job["_polls"] += 1
        if job["status"] in ("queued", "in_progress"):
            if job["_polls"] >= self.polls_to_finish:
                if "FAIL" in (job["prompt"] or ""):
                    job.update(
                        status="failed",
                        error={"code": "moderation_blocked", "message": "blocked by moderation"},
                    )
                else:
                    job.update(status="completed", progress=100, completed_at=int(time.time()))
            else:
                job.update(status="in_progress", progress=50)
        return Response(200, self._public(job["id"]), headers={"openai-poll-after-ms": "10"})

    def _content(self, request: Request, match: re.Match[str]) -> Response:
        job = self.jobs.get(match.group(1))
        if job is None or job["status"] != "completed":
            return self._error(404, "Video content is not ready")
        return Response(200, raw=self.clip_bytes, headers={"Content-Type": "video/mp4"})
