"""A fake Pexels API on 127.0.0.1: `/videos/search` in the real JSON shape, rate-limit headers, file downloads.

Each video lists several `video_files` renditions whose `link`s point back at this server, so the
client downloads real MP4 bytes. The key is checked like the real API (401 without it).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from shortvid_assets_tests.fakes.server import FakeServer, Request, Response

SEARCH = "/videos/search"
FILES = r"/video-files/(\d+)\.mp4"


class FakePexels(FakeServer):
    """Serves search results built from `add_video`; every file link streams `clip` (a real MP4)."""

    def __init__(self, api_key: str, clip: Path, *, limit: int = 200) -> None:
        super().__init__()
        self.api_key = api_key
        self.clip_bytes = Path(clip).read_bytes()
        self.limit = limit
        self.videos: list[dict[str, Any]] = []
        self.route("GET", SEARCH, self._search)
        self.route("GET", FILES, self._file)

    def add_video(
        self, video_id: int, *, duration: int = 10, author: str = "Ana Videographer", portrait: bool = True
    ) -> dict[str, Any]:
        """One search result in the API's shape, with sd/hd/uhd renditions."""
        sizes = (
            [(360, 640), (720, 1280), (1080, 1920)] if portrait else [(640, 360), (1280, 720), (1920, 1080)]
        )
        files = [
            {
                "id": video_id * 10 + i,
                "quality": quality,
                "file_type": "video/mp4",
                "width": w,
                "height": h,
                "fps": 29.97,
                "link": f"{{base}}/video-files/{video_id * 10 + i}.mp4",
                "size": len(self.clip_bytes),
            }
            for i, (quality, (w, h)) in enumerate(zip(("sd", "hd", "uhd"), sizes, strict=True))
        ]
        files.append({"id": video_id * 10 + 9, "quality": "hls", "file_type": "video/hls", "width": None,
                      "height": None, "fps": None, "link": f"{{base}}/hls/{video_id}.m3u8"})  # fmt: skip
        w, h = sizes[-1]
        video = {
            "id": video_id,
            "width": w,
            "height": h,
            "duration": duration,
            "full_res": None,
            "tags": [],
            "url": f"https://www.pexels.com/video/coffee-pour-{video_id}/",
            "image": f"https://images.pexels.com/videos/{video_id}/pictures/preview-0.jpg",
            "avg_color": None,
            "user": {"id": 1000 + video_id, "name": author, "url": f"https://www.pexels.com/@user{video_id}"},
            "video_files": files,
            "video_pictures": [
                {
                    "id": video_id * 100,
                    "nr": 0,
                    "picture": f"https://images.pexels.com/videos/{video_id}/0.jpg",
                }
            ],
        }
        self.videos.append(video)
        return video

    def _headers(self) -> dict[str, str]:
        used = len(self.calls("GET", SEARCH))
        return {
            "X-Ratelimit-Limit": str(self.limit),
            "X-Ratelimit-Remaining": str(max(0, self.limit - used)),
            "X-Ratelimit-Reset": "1893456000",
        }

    def _search(self, request: Request, match: re.Match[str]) -> Response:
        if request.headers.get("authorization") != self.api_key:
            return Response(401, {"error": "Unauthorized"}, headers=self._headers())
        per_page = int(request.query.get("per_page", 15))
        page = int(request.query.get("page", 1))
        chosen = self.videos[(page - 1) * per_page : page * per_page]
        body = {
            "page": page,
            "per_page": per_page,
            "total_results": len(self.videos),
            "url": f"https://www.pexels.com/search/videos/{request.query.get('query', '')}/",
            "videos": [self._with_base(v) for v in chosen],
        }
        if page * per_page < len(self.videos):
            body["next_page"] = f"{self.url}{SEARCH}?page={page + 1}&per_page={per_page}"
        return Response(200, body, headers=self._headers())

    def _with_base(self, video: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(video.get("video_files"), list):
            return video  # a deliberately malformed entry goes out as it is
        files = [{**f, "link": f["link"].replace("{base}", self.url)} for f in video["video_files"]]
        return {**video, "video_files": files}

    def _file(self, request: Request, match: re.Match[str]) -> Response:
        return Response(200, raw=self.clip_bytes, headers={"Content-Type": "video/mp4"})
