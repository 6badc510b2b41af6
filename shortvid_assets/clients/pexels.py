"""Pexels stock video (VIDEO-1 option): search by the scene prompt, download one file, record attribution.

API: `GET /videos/search?query=&orientation=&size=&per_page=` with the key in the `Authorization`
header (never in a URL). The answer lists videos with `user` (the videographer, for attribution), the
page `url`, `duration` and `video_files` (one entry per rendition: quality, width, height, fps, link).
Pexels asks for credit to the videographer and Pexels; it is recorded with every clip. The free tier
allows 200 requests per hour (`X-Ratelimit-*` headers); 429 answers are retried after backoff.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shortvid_assets.clients.http import ApiError, ErrorDetail, JsonHttp, redact
from shortvid_assets.domain.files import atomic_path

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.pexels.com"
SERVICE = "pexels"
MAX_DOWNLOAD_BYTES = 300 * 1024 * 1024
Orientation = Literal["portrait", "landscape", "square"]
_STOPWORDS = {"a", "an", "the", "of", "and", "with", "in", "on", "at", "for", "to", "shot", "close", "up"}


class PexelsError(RuntimeError):
    """No usable stock clip: the API failed, found nothing usable, or the download failed."""


class PexelsUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    name: str
    url: str


class PexelsVideoFile(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    quality: str | None = None
    file_type: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    link: str


class PexelsVideo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    width: int
    height: int
    url: str
    duration: float = Field(ge=0)
    user: PexelsUser
    video_files: list[PexelsVideoFile]
    image: str | None = None


class StockClip(BaseModel):
    """A downloaded stock clip and the credit it needs."""

    path: str
    video_id: int
    page_url: str
    file_link: str
    width: int | None
    height: int | None
    duration_s: float
    author: str
    author_url: str
    query: str

    @property
    def attribution(self) -> str:
        return f"Video by {self.author} on Pexels ({self.page_url})"


def orientation_for(width: int, height: int) -> Orientation:
    """The Pexels orientation filter matching an output size."""
    if height > width:
        return "portrait"
    return "landscape" if width > height else "square"


def search_query(prompt: str, max_words: int = 6) -> str:
    """A short keyword query from a visual prompt (Pexels matches keywords, not sentences)."""
    words = [w for w in re.findall(r"\b[^\W\d_][\w'-]*", prompt.lower()) if w not in _STOPWORDS]
    return " ".join(words[:max_words]) or "abstract background"


def choose_file(video: PexelsVideo, width: int, height: int) -> PexelsVideoFile | None:
    """The smallest MP4 rendition that still covers the output size (else the largest MP4)."""
    mp4 = [
        f for f in video.video_files if (f.file_type or "video/mp4") == "video/mp4" and f.width and f.height
    ]
    if not mp4:
        return None
    short_side = min(width, height)
    covering = [f for f in mp4 if min(f.width or 0, f.height or 0) >= short_side]
    pool = covering or mp4
    key = (
        (lambda f: (f.width or 0) * (f.height or 0))
        if covering
        else (lambda f: -(f.width or 0) * (f.height or 0))
    )
    return min(pool, key=key)


def _pexels_error(body: Any) -> ErrorDetail:
    if isinstance(body, dict):
        message = body.get("error") or body.get("code") or body.get("message")
        return ErrorDetail(message=str(message) if message else None)
    return ErrorDetail()


class PexelsClient:
    """Search Pexels videos and download one rendition with httpx."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 30.0,
        max_retries: int = 3,
        backoff_s: float = 1.0,
        per_page: int = 15,
        transport: httpx.BaseTransport | None = None,
        sleep=None,
    ) -> None:
        if not api_key or not api_key.strip():
            raise ValueError("no Pexels API key: set PEXELS_API_KEY, or use SHORTVID_VISUALS=procedural")
        self._key = api_key.strip()
        self._timeout_s = timeout_s
        self._per_page = max(1, min(80, per_page))
        extra = {"sleep": sleep} if sleep is not None else {}
        self._http = JsonHttp(
            service=SERVICE,
            base_url=base_url,
            headers={"Authorization": self._key, "User-Agent": "shortvid"},
            secrets=[self._key],
            timeout_s=timeout_s,
            max_retries=max_retries,
            backoff_s=backoff_s,
            error_parser=_pexels_error,
            transport=transport,
            **extra,
        )
        self._transport = transport
        self.remaining_requests: int | None = None

    def close(self) -> None:
        self._http.close()

    def search(
        self, query: str, *, orientation: Orientation, min_duration_s: float = 0.0
    ) -> list[PexelsVideo]:
        """Videos matching `query` in that orientation, at least `min_duration_s` long, in the API's order."""
        params = {"query": query, "orientation": orientation, "size": "medium", "per_page": self._per_page}
        try:
            body, headers = self._http.request_json("GET", "/videos/search", params=params)
        except ApiError as exc:
            raise PexelsError(f"Pexels search for {query!r} failed: {exc}") from exc
        remaining = headers.get("X-Ratelimit-Remaining")
        if remaining is not None and remaining.strip().isdigit():
            self.remaining_requests = int(remaining)
        if not isinstance(body, dict) or not isinstance(body.get("videos"), list):
            raise PexelsError(
                f"Pexels search for {query!r} answered without a `videos` list; is base_url right?"
            )
        videos = []
        for item in body["videos"]:
            try:
                video = PexelsVideo.model_validate(item)
            except ValidationError as exc:
                log.warning("skipping a malformed Pexels video: %s", str(exc).splitlines()[0])
                continue
            if video.duration >= min_duration_s:
                videos.append(video)
        return videos

    def download(self, link: str, out: Path) -> Path:
        """Stream one video file to `out` (atomically); the key is not sent to the file host."""
        out = Path(out)
        try:
            with (
                httpx.Client(
                    timeout=self._timeout_s, follow_redirects=True, transport=self._transport
                ) as client,
                client.stream("GET", link) as response,
            ):
                if response.status_code != 200:
                    raise PexelsError(
                        f"downloading a Pexels video failed: HTTP {response.status_code} for {link}"
                    )
                size = 0
                with atomic_path(out) as tmp, tmp.open("wb") as fh:
                    for chunk in response.iter_bytes(1 << 16):
                        size += len(chunk)
                        if size > MAX_DOWNLOAD_BYTES:
                            raise PexelsError(
                                f"the Pexels video at {link} is larger than {MAX_DOWNLOAD_BYTES} bytes"
                            )
                        fh.write(chunk)
                    fh.close()
                    if size == 0:
                        raise PexelsError(f"the Pexels video at {link} is empty")
        except httpx.HTTPError as exc:
            raise PexelsError(
                redact(f"downloading a Pexels video from {link} failed: {exc}", [self._key])
            ) from exc
        return out

    def stock_clip(
        self, prompt: str, out: Path, *, width: int, height: int, min_duration_s: float, pick: int = 0
    ) -> StockClip:
        """Search for the prompt and download a fitting rendition of one result (`pick` rotates results)."""
        query = search_query(prompt)
        videos = self.search(query, orientation=orientation_for(width, height), min_duration_s=min_duration_s)
        candidates = [(v, f) for v in videos if (f := choose_file(v, width, height)) is not None]
        if not candidates:
            raise PexelsError(
                f"Pexels found no MP4 video of at least {min_duration_s:g}s for {query!r}; "
                f"change the scene's visual prompt or use SHORTVID_VISUALS=procedural"
            )
        video, file = candidates[pick % len(candidates)]
        self.download(file.link, out)
        return StockClip(
            path=str(out),
            video_id=video.id,
            page_url=video.url,
            file_link=file.link,
            width=file.width,
            height=file.height,
            duration_s=video.duration,
            author=video.user.name,
            author_url=video.user.url,
            query=query,
        )
