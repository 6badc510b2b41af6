"""A fake YouTube Data API v3 speaking the real wire format of `search.list` and `videos.list`.

Resources follow the published shapes: search results carry `id{kind, videoId}` and a `snippet`; video
resources carry `snippet` (title, description, tags, thumbnails, channelId/Title, publishedAt),
`statistics` (counts as decimal strings) and `contentDetails.duration` (ISO-8601). Errors use Google's
`{"error": {"code", "message", "errors": [{"message", "domain", "reason"}]}}`. The API key is checked in
the `X-Goog-Api-Key` header (or `key` parameter), and quota is metered: search 100 units, videos 1.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shortvid_assets_tests.fakes.server import FakeServer, Request, Response

QUOTA_MESSAGE = (
    'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">'
    "quota</a>."
)


def google_error(code: int, message: str, reason: str, domain: str = "youtube.parameter") -> dict[str, Any]:
    """A Google API error body."""
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
        }
    }


def quota_exceeded() -> Response:
    return Response(403, google_error(403, QUOTA_MESSAGE, "quotaExceeded", "youtube.quota"))


def iso_duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"PT{minutes}M{secs}S" if minutes else f"PT{secs}S"


def make_video(
    video_id: str,
    *,
    title: str | None = None,
    description: str = "",
    tags: list[str] | None = None,
    views: int = 1000,
    likes: int | None = 100,
    comments: int | None = 10,
    duration_s: float = 30,
    published_at: datetime | None = None,
    channel_id: str = "UCfakechannel000000000001",
    channel_title: str = "Fake Channel",
    live_broadcast: str = "none",
) -> dict[str, Any]:
    """A `videos` resource with parts snippet, statistics and contentDetails.

    `live_broadcast` is `snippet.liveBroadcastContent`: "live" or "upcoming" give the `P0D` duration the
    API reports for a broadcast that is running or not started yet.
    """
    published_at = published_at or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    statistics: dict[str, str] = {"viewCount": str(views), "favoriteCount": "0"}
    if likes is not None:
        statistics["likeCount"] = str(likes)
    if comments is not None:
        statistics["commentCount"] = str(comments)
    snippet: dict[str, Any] = {
        "publishedAt": published_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "channelId": channel_id,
        "title": title if title is not None else f"Video {video_id} #shorts",
        "description": description,
        "thumbnails": {
            "default": {"url": f"https://i.ytimg.com/vi/{video_id}/default.jpg", "width": 120, "height": 90},
            "high": {"url": f"https://i.ytimg.com/vi/{video_id}/hqdefault.jpg", "width": 480, "height": 360},
        },
        "channelTitle": channel_title,
        "categoryId": "22",
        "liveBroadcastContent": live_broadcast,
        "localized": {"title": title or f"Video {video_id}", "description": description},
    }
    if tags is not None:
        snippet["tags"] = tags
    return {
        "kind": "youtube#video",
        "etag": f"etag-{video_id}",
        "id": video_id,
        "snippet": snippet,
        "contentDetails": {
            "duration": iso_duration(duration_s) if live_broadcast == "none" else "P0D",
            "dimension": "2d",
            "definition": "hd",
            "caption": "false",
            "licensedContent": False,
            "contentRating": {},
            "projection": "rectangular",
        },
        "statistics": statistics,
    }


@dataclass
class StoredVideo:
    """A video as the fake's search index sees it (for filtering and ordering), plus the served resource."""

    resource: dict[str, Any]
    published_at: datetime
    duration_s: float
    views: int
    video_id: str


class FakeYouTube(FakeServer):
    """A fake YouTube Data API at `base_url` (…/youtube/v3)."""

    PAGE_TOKEN = re.compile(r"^CAE(\d+)QAA$")

    def __init__(self, api_key: str, *, quota_limit: int = 10_000) -> None:
        super().__init__()
        self.api_key = api_key
        self.quota_limit = quota_limit
        self.quota_used = 0
        self.videos: list[StoredVideo] = []
        self.extra_search_items: list[Any] = []  # raw items appended to the first search page
        self.unlisted_ids: set[str] = set()  # found by search, gone by videos.list (deleted/private)
        self.route("GET", "/youtube/v3/search", self._search)
        self.route("GET", "/youtube/v3/videos", self._videos)

    @property
    def base_url(self) -> str:
        return f"{self.url}/youtube/v3"

    def add(
        self,
        resource: dict[str, Any],
        *,
        published_at: datetime | None = None,
        duration_s: float | None = None,
        views: int | None = None,
        video_id: str | None = None,
    ) -> dict[str, Any]:
        """Index a video resource; the search facts default to what the resource says when it is well formed."""
        snippet = resource.get("snippet") if isinstance(resource.get("snippet"), dict) else {}
        stats = resource.get("statistics") if isinstance(resource.get("statistics"), dict) else {}
        if published_at is None:
            try:
                published_at = datetime.fromisoformat(str(snippet.get("publishedAt")).replace("Z", "+00:00"))
            except ValueError:
                published_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        if views is None:
            try:
                views = int(stats.get("viewCount", 0))
            except (TypeError, ValueError):
                views = 0
        video_id = video_id if video_id is not None else str(resource.get("id"))
        duration_s = 30.0 if duration_s is None else duration_s
        self.videos.append(StoredVideo(resource, published_at, duration_s, views, video_id))
        return resource

    def add_many(
        self, count: int, *, start: datetime, prefix: str = "vid", duration_s: float = 30
    ) -> list[str]:
        """`count` well-formed videos posted a minute apart from `start`, views descending by index."""
        ids = []
        for index in range(count):
            video_id = f"{prefix}{index:04d}"
            self.add(
                make_video(
                    video_id,
                    views=1_000_000 - index,
                    duration_s=duration_s,
                    published_at=start + timedelta(minutes=index),
                ),
                duration_s=duration_s,
            )
            ids.append(video_id)
        return ids

    # --- handlers ----------------------------------------------------------------------------------------

    def _auth(self, request: Request) -> Response | None:
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        if key != self.api_key:
            return Response(
                400,
                google_error(400, "API key not valid. Please pass a valid API key.", "badRequest", "global"),
            )
        return None

    def _charge(self, cost: int) -> Response | None:
        if self.quota_used + cost > self.quota_limit:
            return quota_exceeded()
        self.quota_used += cost
        return None

    def _search(self, request: Request, match: re.Match[str]) -> Response:
        if (denied := self._auth(request)) or (denied := self._charge(100)):
            return denied
        q = request.query
        if q.get("part") != "snippet":
            return Response(400, google_error(400, "'part' must be 'snippet'", "invalidPart"))
        if q.get("videoDuration") and q.get("type") != "video":
            return Response(
                400, google_error(400, "videoDuration requires type=video", "invalidSearchFilter")
            )
        try:
            max_results = int(q.get("maxResults", "5"))
        except ValueError:
            max_results = -1
        if not 0 <= max_results <= 50:
            return Response(400, google_error(400, "Invalid value for maxResults", "invalidParameter"))
        offset = 0
        if token := q.get("pageToken"):
            token_match = self.PAGE_TOKEN.match(token)
            if not token_match:
                return Response(
                    400, google_error(400, "The request specifies an invalid page token.", "invalidPageToken")
                )
            offset = int(token_match.group(1))

        def parse(name: str) -> datetime | None:
            return datetime.fromisoformat(q[name].replace("Z", "+00:00")) if q.get(name) else None

        after, before = parse("publishedAfter"), parse("publishedBefore")
        hits = [
            v
            for v in self.videos
            if (after is None or v.published_at >= after)
            and (before is None or v.published_at < before)
            and (q.get("videoDuration") != "short" or v.duration_s < 240)
        ]
        if q.get("order") == "viewCount":
            hits.sort(key=lambda v: v.views, reverse=True)
        page = hits[offset : offset + max_results]
        items: list[Any] = [self.search_item(v) for v in page]
        if offset == 0:
            items.extend(copy.deepcopy(self.extra_search_items))
        body: dict[str, Any] = {
            "kind": "youtube#searchListResponse",
            "etag": f"search-{offset}",
            "regionCode": q.get("regionCode", "US"),
            "pageInfo": {"totalResults": len(hits), "resultsPerPage": max_results},
            "items": items,
        }
        if offset + max_results < len(hits):
            body["nextPageToken"] = f"CAE{offset + max_results}QAA"
        if offset:
            body["prevPageToken"] = f"CAE{max(0, offset - max_results)}QAB"
        return Response(200, body)

    @staticmethod
    def search_item(video: StoredVideo) -> dict[str, Any]:
        """The `search.list` result for a stored video."""
        resource = video.resource
        snippet = resource.get("snippet") if isinstance(resource.get("snippet"), dict) else {}
        return {
            "kind": "youtube#searchResult",
            "etag": f"s-{video.video_id}",
            "id": {"kind": "youtube#video", "videoId": video.video_id},
            "snippet": {
                key: snippet.get(key)
                for key in ("publishedAt", "channelId", "title", "description", "thumbnails", "channelTitle")
            }
            | {
                "liveBroadcastContent": snippet.get("liveBroadcastContent", "none"),
                "publishTime": snippet.get("publishedAt"),
            },
        }

    def _videos(self, request: Request, match: re.Match[str]) -> Response:
        if (denied := self._auth(request)) or (denied := self._charge(1)):
            return denied
        q = request.query
        ids = [i for i in q.get("id", "").split(",") if i]
        if len(ids) > 50:
            return Response(400, google_error(400, "Too many video ids (max 50).", "invalidFilters"))
        parts = set(q.get("part", "").split(","))
        if not parts or parts == {""}:
            return Response(400, google_error(400, "No filter selected.", "missingRequiredParameter"))
        by_id = {v.video_id: v.resource for v in self.videos}
        items = []
        for video_id in ids:
            if video_id in by_id and video_id not in self.unlisted_ids:
                resource = copy.deepcopy(by_id[video_id])
                for part in ("snippet", "statistics", "contentDetails"):
                    if part not in parts:
                        resource.pop(part, None)
                items.append(resource)
        return Response(
            200,
            {
                "kind": "youtube#videoListResponse",
                "etag": "videos",
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            },
        )
