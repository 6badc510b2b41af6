"""A fake Apify API v2 speaking the real wire format of actor runs and dataset items.

`POST /v2/acts/{actorId}/runs` answers 201 `{"data": run}`; `GET /v2/actor-runs/{runId}` answers
`{"data": run}` and moves the run along a scripted list of statuses, one step per poll;
`GET /v2/datasets/{id}/items` answers a JSON array sliced by `offset`/`limit` with the
`X-Apify-Pagination-*` headers; like the real API, it can cap a response below the limit asked for
(`page_cap`), so a short page need not be the last. Errors use `{"error": {"type", "message"}}`. Auth is the
`Authorization: Bearer <token>` header (or `token` parameter). Items follow clockworks/tiktok-scraper.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

from shortvid_assets_tests.fakes.server import FakeServer, Request, Response


def apify_error(status: int, kind: str, message: str) -> Response:
    return Response(status, {"error": {"type": kind, "message": message}})


def make_tiktok_item(
    video_id: str,
    *,
    text: str | None = None,
    author: str = "creator",
    views: int = 50_000,
    likes: int = 5_000,
    comments: int = 120,
    shares: int = 40,
    duration_s: float = 21,
    posted_at: datetime | None = None,
    music: str = "original sound - creator",
    hashtags: list[str] | None = None,
) -> dict[str, Any]:
    """A dataset item in the clockworks/tiktok-scraper shape."""
    posted_at = posted_at or datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    hashtags = ["fyp", "viral"] if hashtags is None else hashtags
    text = text if text is not None else f"Clip {video_id} " + " ".join(f"#{tag}" for tag in hashtags)
    return {
        "id": video_id,
        "text": text,
        "textLanguage": "en",
        "createTime": int(posted_at.timestamp()),
        "createTimeISO": posted_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "isAd": False,
        "authorMeta": {
            "id": "68" + "".join(str(ord(c) % 10) for c in author).ljust(17, "0")[:17],
            "name": author,
            "nickName": author.title(),
            "verified": False,
            "fans": 12000,
            "heart": 340000,
            "video": 87,
        },
        "musicMeta": {
            "musicName": music,
            "musicAuthor": author,
            "musicOriginal": True,
            "musicId": f"7{video_id}",
        },
        "webVideoUrl": f"https://www.tiktok.com/@{author}/video/{video_id}",
        "videoMeta": {
            "height": 1024,
            "width": 576,
            "duration": duration_s,
            "coverUrl": f"https://p16-sign.tiktokcdn.com/obj/{video_id}.jpeg",
            "definition": "540p",
            "format": "mp4",
        },
        "diggCount": likes,
        "shareCount": shares,
        "playCount": views,
        "collectCount": 12,
        "commentCount": comments,
        "mentions": [],
        "hashtags": [{"id": str(i), "name": tag, "title": "", "cover": ""} for i, tag in enumerate(hashtags)],
        "isSlideshow": False,
        "isPinned": False,
    }


class FakeApify(FakeServer):
    """A fake Apify API at `url`; one actor, runs following `statuses`, one dataset per run."""

    def __init__(
        self,
        token: str,
        *,
        actor_id: str = "clockworks~tiktok-scraper",
        items: list[Any] | None = None,
        statuses: list[str] | None = None,
        status_message: str | None = None,
        total_header: int | None = None,
        dataset_id: str | None = "ds0000000000000001",
        page_cap: int | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.actor_id = actor_id
        self.items: list[Any] = items if items is not None else []
        self.statuses = statuses or ["READY", "RUNNING", "SUCCEEDED"]
        self.status_message = status_message
        self.total_header = total_header  # overrides X-Apify-Pagination-Total (it is known to lie)
        self.dataset_id = dataset_id
        self.page_cap = page_cap  # at most this many items per response, whatever the limit
        self.runs: dict[str, dict[str, Any]] = {}
        self._poll_index: dict[str, int] = {}
        self.run_inputs: list[Any] = []
        self.aborted: list[str] = []
        self.route("POST", r"/v2/acts/(?P<actor>[^/]+)/runs", self._start)
        self.route("GET", r"/v2/actor-runs/(?P<run>[^/]+)", self._get_run)
        self.route("POST", r"/v2/actor-runs/(?P<run>[^/]+)/abort", self._abort)
        self.route("GET", r"/v2/datasets/(?P<dataset>[^/]+)/items", self._items)

    @property
    def base_url(self) -> str:
        return self.url

    def _auth(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        token = (
            header.removeprefix("Bearer ").strip()
            if header.startswith("Bearer ")
            else request.query.get("token")
        )
        if not token:
            return apify_error(401, "token-not-provided", "Authentication token was not provided")
        if token != self.token:
            return apify_error(
                401, "user-or-token-not-found", "User was not found or authentication token is not valid"
            )
        return None

    def _run(self, run_id: str, status: str) -> dict[str, Any]:
        finished = status in {"SUCCEEDED", "FAILED", "ABORTED", "TIMED-OUT"}
        run: dict[str, Any] = {
            "id": run_id,
            "actId": "GdWCkxBtKWOsKjdch",
            "userId": "fakeUser000001",
            "startedAt": "2026-03-02T00:00:01.000Z",
            "finishedAt": "2026-03-02T00:03:01.000Z" if finished else None,
            "status": status,
            "meta": {"origin": "API", "userAgent": "python-httpx"},
            "stats": {"inputBodyLen": 60, "restartCount": 0, "resurrectCount": 0},
            "options": {"build": "latest", "timeoutSecs": 3600, "memoryMbytes": 1024, "diskMbytes": 2048},
            "buildId": "fakeBuild00001",
            "buildNumber": "0.0.412",
            "exitCode": 0 if status == "SUCCEEDED" else (1 if finished else None),
            "defaultKeyValueStoreId": "kv0000000000000001",
            "defaultRequestQueueId": "rq0000000000000001",
            "containerUrl": f"https://{run_id}.runs.apify.net",
            "usageTotalUsd": 0.0123,
        }
        if self.dataset_id is not None:
            run["defaultDatasetId"] = self.dataset_id
        if self.status_message is not None:
            run["statusMessage"] = self.status_message
        return run

    def _start(self, request: Request, match: re.Match[str]) -> Response:
        if denied := self._auth(request):
            return denied
        if match.group("actor") != self.actor_id:
            return apify_error(404, "record-not-found", "Actor was not found")
        run_id = f"run{len(self.runs) + 1:013d}"
        self.run_inputs.append(request.json())
        self._poll_index[run_id] = 0
        self.runs[run_id] = self._run(run_id, self.statuses[0])
        return Response(201, {"data": self.runs[run_id]})

    def _get_run(self, request: Request, match: re.Match[str]) -> Response:
        if denied := self._auth(request):
            return denied
        run_id = match.group("run")
        if run_id not in self.runs:
            return apify_error(404, "record-not-found", "Actor run was not found")
        if run_id not in self.aborted:
            index = min(self._poll_index[run_id] + 1, len(self.statuses) - 1)
            self._poll_index[run_id] = index
            self.runs[run_id] = self._run(run_id, self.statuses[index])
        return Response(200, {"data": self.runs[run_id]})

    def _abort(self, request: Request, match: re.Match[str]) -> Response:
        if denied := self._auth(request):
            return denied
        run_id = match.group("run")
        if run_id not in self.runs:
            return apify_error(404, "record-not-found", "Actor run was not found")
        self.aborted.append(run_id)
        self.runs[run_id] = self._run(run_id, "ABORTING")
        return Response(200, {"data": self.runs[run_id]})

    def _items(self, request: Request, match: re.Match[str]) -> Response:
        if denied := self._auth(request):
            return denied
        if match.group("dataset") != self.dataset_id:
            return apify_error(404, "record-not-found", "Dataset was not found")
        offset = int(request.query.get("offset", "0"))
        limit = int(request.query.get("limit", "999999999999"))
        served = limit if self.page_cap is None else min(limit, self.page_cap)
        page = copy.deepcopy(self.items[offset : offset + served])
        total = self.total_header if self.total_header is not None else len(self.items)
        headers = {
            "X-Apify-Pagination-Offset": str(offset),
            "X-Apify-Pagination-Limit": str(limit),
            "X-Apify-Pagination-Count": str(len(page)),
            "X-Apify-Pagination-Total": str(total),
        }
        return Response(200, page, headers=headers)
