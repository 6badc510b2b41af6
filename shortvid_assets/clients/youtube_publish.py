"""Publishing own videos to YouTube: Data API v3 resumable uploads, thumbnails, statistics, Analytics.

The resumable upload protocol (developers.google.com/youtube/v3/guides/using_resumable_upload_protocol):
`start` POSTs the video resource to `/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`
with `X-Upload-Content-Length`/`-Type` and returns the session URI from `Location` before any byte is sent.
`upload` PUTs the file in chunks (a multiple of 256 KiB, the last one shorter) with
`Content-Range: bytes a-b/total`; the server answers 308 Resume Incomplete with `Range: bytes=0-N` (no
Range: nothing stored) and the next chunk starts at N+1, until 200/201 brings the video resource. After a
dropped connection or a 5xx the client asks how far the server got (`PUT`, empty body,
`Content-Range: bytes */total`) and continues from there, never from 0. `resume` does the same for a
session persisted before a crash (a completed session answers the status query with the video). A 404/410
means the session expired (about a week): look for the video with `find_by_marker` before starting again.

Quota (developers.google.com/youtube/v3/determine_quota_cost, granular buckets since 2026-06-01):
videos.insert is billed 1 unit in its own bucket (default 100 calls a day), thumbnails.set 50 and the list
methods 1 in the shared 10,000-unit bucket; before June 2026 an insert cost 1600 shared units. The costs are
a constructor argument; every result reports the units it spent per bucket. YouTube Analytics has its own
quota and is not counted in units.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, Field

from shortvid_assets.clients.google_api import (
    ApiError,
    GoogleApiSession,
    InsufficientScopeError,
    QuotaCost,
    QuotaLedger,
    TransientFailure,
)
from shortvid_assets.clients.google_oauth import SCOPE_ANALYTICS, GoogleOAuthCredentials
from shortvid_assets.clients.http import Clock, Sleep, utc_now
from shortvid_assets.clients.publishing import (
    CallCost,
    MarkerSearch,
    ProgressCallback,
    PublishedVideo,
    RemoteVideo,
    StatisticsBatch,
    ThumbnailResult,
    UploadSession,
    VideoStatistics,
)
from shortvid_assets.domain.publishing import UploadMetadata

log = logging.getLogger(__name__)

API_BASE_URL = "https://www.googleapis.com/youtube/v3"
UPLOAD_BASE_URL = "https://www.googleapis.com/upload/youtube/v3"
ANALYTICS_BASE_URL = "https://youtubeanalytics.googleapis.com/v2"
CHUNK_UNIT = 256 * 1024  # the protocol requires chunks in multiples of 256 KiB (all but the last)
DEFAULT_CHUNK_SIZE = 32 * CHUNK_UNIT  # 8 MiB
MAX_IDS_PER_CALL = 50  # videos.list
ANALYTICS_MAX_ROWS = 200  # a report with dimensions=video returns at most 200 rows
MAX_THUMBNAIL_BYTES = 50 * 1024 * 1024  # raised from 2 MB on 2026-09-14
ANALYTICS_METRICS = ("views", "averageViewDuration", "averageViewPercentage", "engagedViews")

QUOTA_COSTS: Mapping[str, QuotaCost] = {
    "videos.insert": QuotaCost("videos.insert", 1),
    "thumbnails.set": QuotaCost("default", 50),
    "videos.list": QuotaCost("default", 1),
    "channels.list": QuotaCost("default", 1),
    "playlistItems.list": QuotaCost("default", 1),
}

_RANGE = re.compile(r"^bytes=0-(\d+)$")


class UploadSessionExpiredError(ApiError):
    """The resumable session is gone (404/410): check `find_by_marker`, then start a new session."""


class VideoAnalytics(BaseModel):
    """Analytics of one own video over a date range."""

    video_id: str
    views: int | None = None
    average_view_duration_s: float | None = None
    average_view_percentage: float | None = None
    engaged_views: int | None = None


class AnalyticsReport(BaseModel):
    """Analytics rows, or why they are not available (no yt-analytics.readonly scope)."""

    available: bool
    reason: str | None = None
    start_date: date
    end_date: date
    rows: list[VideoAnalytics] = Field(default_factory=list)
    cost: CallCost = Field(default_factory=CallCost)


def video_resource(metadata: UploadMetadata) -> dict[str, Any]:
    """The `videos` resource (parts snippet and status) that videos.insert takes."""
    status: dict[str, Any] = {
        "privacyStatus": metadata.privacy_status,
        "selfDeclaredMadeForKids": metadata.made_for_kids,
        "containsSyntheticMedia": metadata.contains_synthetic_media,
    }
    if metadata.publish_at is not None:
        status["publishAt"] = metadata.publish_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "snippet": {
            "title": metadata.title,
            "description": metadata.description,
            "tags": metadata.tags,
            "categoryId": metadata.category_id,
            "defaultLanguage": metadata.default_language,
        },
        "status": status,
    }


def confirmed_bytes(range_header: str | None) -> int:
    """Bytes the server holds, from a 308's `Range: bytes=0-N` (N+1); no header means none."""
    if range_header is None or not range_header.strip():
        return 0
    match = _RANGE.match(range_header.strip())
    if not match:
        raise ValueError(f"unreadable Range header in a 308 answer: {range_header!r}")
    return int(match.group(1)) + 1


def _count(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _session_label(session_uri: str) -> str:
    """A short, log-safe name for a session (the URI itself is a credential to the upload)."""
    upload_id = httpx.URL(session_uri).params.get("upload_id") or session_uri
    return f"…{upload_id[-6:]}"


class YouTubePublisher:
    """Uploads own videos to YouTube and reads their statistics (implements `PublishingPlatform`)."""

    platform = "youtube"

    def __init__(
        self,
        credentials: GoogleOAuthCredentials,
        *,
        api_base_url: str = API_BASE_URL,
        upload_base_url: str = UPLOAD_BASE_URL,
        analytics_base_url: str = ANALYTICS_BASE_URL,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        quota_costs: Mapping[str, QuotaCost] = QUOTA_COSTS,
        timeout_s: float = 120.0,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        marker_scan_limit: int = 250,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_UNIT:
            raise ValueError(
                f"chunk_size must be a positive multiple of 256 KiB ({CHUNK_UNIT}), got {chunk_size}"
            )
        self.api_base_url = api_base_url.rstrip("/")
        self.upload_base_url = upload_base_url.rstrip("/")
        self.analytics_base_url = analytics_base_url.rstrip("/")
        self.chunk_size = chunk_size
        self.quota_costs = dict(quota_costs)
        self.max_retries = max_retries
        self.marker_scan_limit = marker_scan_limit
        self._clock = clock or utc_now
        self.ledger = QuotaLedger()
        self._api = GoogleApiSession(
            credentials,
            service="YouTube Data API",
            timeout_s=timeout_s,
            max_retries=max_retries,
            backoff_s=backoff_s,
            transport=transport,
            sleep=sleep,
            ledger=self.ledger,
        )
        self._uploads_playlist: str | None = None
        self._engaged_views = True

    def __repr__(self) -> str:
        return f"YouTubePublisher(api_base_url={self.api_base_url!r}, chunk_size={self.chunk_size})"

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> YouTubePublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _cost(self, mark: tuple[int, Any]) -> CallCost:
        requests, units = self.ledger.since(mark)
        return CallCost(requests=requests, quota_units=units)

    def _call(self, method: str, url: str, api_method: str, **kwargs: Any) -> Any:
        response = self._api.request(method, url, api_method=api_method, cost=self.quota_costs.get(api_method),
                                     **kwargs)  # fmt: skip
        return self._api.json(response, api_method)

    # --- uploads ----------------------------------------------------------------------------------------

    def start(self, metadata: UploadMetadata, *, size: int, content_type: str = "video/mp4") -> UploadSession:
        """Open a resumable session for a file of `size` bytes; persist the result before calling `upload`."""
        if size <= 0:
            raise ValueError(f"cannot upload an empty file (size {size})")
        mark = self.ledger.mark()
        response = self._api.request(
            "POST",
            f"{self.upload_base_url}/videos",
            api_method="videos.insert",
            cost=self.quota_costs.get("videos.insert"),
            params={"uploadType": "resumable", "part": "snippet,status"},
            json_body=video_resource(metadata),
            headers={"X-Upload-Content-Length": str(size), "X-Upload-Content-Type": content_type},
        )
        location = response.headers.get("Location")
        if not location:
            raise ValueError(
                "videos.insert (resumable) answered without a Location header: no session to upload to"
            )
        session = UploadSession(
            platform=self.platform,
            session_uri=location,
            total_bytes=size,
            content_type=content_type,
            marker=metadata.marker,
            started_at=self._clock(),
            cost=self._cost(mark),
        )
        log.info(
            "YouTube upload session %s opened for %d bytes (%s)",
            _session_label(location),
            size,
            metadata.marker,
        )
        return session

    def publish(
        self,
        metadata: UploadMetadata,
        path: Path,
        *,
        on_session: Callable[[UploadSession], None],
        on_progress: ProgressCallback | None = None,
        content_type: str = "video/mp4",
    ) -> PublishedVideo:
        """`start`, hand the session to `on_session` (persist it there), then `upload`."""
        session = self.start(metadata, size=Path(path).stat().st_size, content_type=content_type)
        on_session(session)
        return self.upload(session, path, on_progress=on_progress)

    def upload(
        self, session: UploadSession, path: Path, *, on_progress: ProgressCallback | None = None
    ) -> PublishedVideo:
        """Send the file of a fresh session from byte 0, chunk by chunk."""
        return self._transfer(session, Path(path), on_progress, ask_first=False)

    def resume(
        self, session: UploadSession, path: Path, *, on_progress: ProgressCallback | None = None
    ) -> PublishedVideo:
        """Continue a persisted session from what the server holds; a completed session returns its video."""
        return self._transfer(session, Path(path), on_progress, ask_first=True)

    def _transfer(
        self, session: UploadSession, path: Path, on_progress: ProgressCallback | None, *, ask_first: bool
    ) -> PublishedVideo:
        size = path.stat().st_size
        total = session.total_bytes
        if size != total:
            raise ValueError(
                f"{path} has {size} bytes but the upload session was opened for {total}: the file changed; "
                "only the approved render may be uploaded"
            )
        mark = self.ledger.mark()
        label = _session_label(session.session_uri)
        offset = 0
        bytes_sent = 0
        failures = 0
        need_status = ask_first
        with path.open("rb") as file:
            while True:
                try:
                    if need_status:
                        response = self._put(session, b"", f"bytes */{total}")
                    else:
                        file.seek(offset)
                        chunk = file.read(min(self.chunk_size, total - offset))
                        bytes_sent += len(chunk)
                        response = self._put(
                            session, chunk, f"bytes {offset}-{offset + len(chunk) - 1}/{total}"
                        )
                except TransientFailure as exc:
                    failures += 1
                    if failures > self.max_retries:
                        raise self._api.error(
                            f"{exc}; gave up after {failures} failed attempts without progress at byte {offset} "
                            f"of {total}. The session is kept: call resume() later",
                            method="PUT", path="/upload/youtube/v3/videos", status_code=exc.status_code,
                            attempts=failures,
                        ) from None  # fmt: skip
                    log.warning("YouTube upload %s: %s at byte %d of %d; asking the server how far it got",
                                label, exc, offset, total)  # fmt: skip
                    self._api.backoff(failures - 1, exc.retry_after_s)
                    need_status = True
                    continue
                need_status = False
                if response.status_code in (200, 201):
                    if on_progress is not None:
                        on_progress(total, total)
                    return self._finished(response, bytes_sent, mark)
                held = confirmed_bytes(response.headers.get("Range"))
                if held > total:
                    raise ValueError(f"the server reports {held} bytes of a {total}-byte upload")
                if held > offset:
                    failures = 0
                elif held < offset:
                    log.warning("YouTube upload %s: the server holds %d bytes, not %d; continuing from its count",
                                label, held, offset)  # fmt: skip
                offset = held
                if on_progress is not None:
                    on_progress(offset, total)
                if offset == total:  # all bytes stored but no final answer yet: ask again
                    need_status = True

    def _put(self, session: UploadSession, content: bytes, content_range: str) -> httpx.Response:
        headers = {"Content-Range": content_range}
        if content:
            headers["Content-Type"] = session.content_type
        try:
            return self._api.send("PUT", session.session_uri, api_method="videos.insert.upload", content=content,
                                  headers=headers, ok_statuses=(308,))  # fmt: skip
        except ApiError as exc:
            if exc.status_code in (404, 410):
                raise UploadSessionExpiredError(
                    f"YouTube upload session {_session_label(session.session_uri)} has expired (HTTP "
                    f"{exc.status_code}): look for the video with find_by_marker({session.marker!r}) before "
                    "starting a new session",
                    service=exc.service, method=exc.method, path=exc.path, status_code=exc.status_code,
                    reason=exc.reason, api_message=exc.api_message,
                ) from None  # fmt: skip
            raise

    def _finished(self, response: httpx.Response, bytes_sent: int, mark: tuple[int, Any]) -> PublishedVideo:
        body = self._api.json(response, "videos.insert")
        video_id = body.get("id") if isinstance(body, Mapping) else None
        if not isinstance(video_id, str) or not video_id:
            raise ValueError("the upload completed but the answer has no video id")
        status = body.get("status") if isinstance(body.get("status"), Mapping) else {}
        log.info("YouTube upload complete: video %s (%d bytes sent)", video_id, bytes_sent)
        return PublishedVideo(
            platform=self.platform,
            video_id=video_id,
            url=f"https://www.youtube.com/shorts/{video_id}",
            privacy_status=status.get("privacyStatus"),
            upload_status=status.get("uploadStatus"),
            bytes_sent=bytes_sent,
            cost=self._cost(mark),
        )

    # --- finding an upload again -------------------------------------------------------------------------

    def _uploads_playlist_id(self) -> str:
        if self._uploads_playlist is None:
            body = self._call("GET", f"{self.api_base_url}/channels", "channels.list",
                              params={"part": "contentDetails", "mine": "true"})  # fmt: skip
            items = body.get("items") or []
            try:
                self._uploads_playlist = str(items[0]["contentDetails"]["relatedPlaylists"]["uploads"])
            except (IndexError, KeyError, TypeError):
                raise ValueError(
                    "channels.list mine=true returned no channel with an uploads playlist: the authorized "
                    "Google account has no YouTube channel"
                ) from None
        return self._uploads_playlist

    def find_by_marker(self, marker: str) -> MarkerSearch:
        """The newest own upload whose description or title holds `marker`, scanning the uploads playlist.

        search.list cannot do this reliably (its index lags and skips private videos); the uploads playlist
        lists every own video, newest first, private and scheduled ones included for the owner.
        """
        if not marker.strip():
            raise ValueError("marker is empty")
        mark = self.ledger.mark()
        playlist = self._uploads_playlist_id()
        scanned = 0
        page_token: str | None = None
        while scanned < self.marker_scan_limit:
            params = {"part": "snippet,status", "playlistId": playlist, "maxResults": MAX_IDS_PER_CALL}
            if page_token:
                params["pageToken"] = page_token
            body = self._call(
                "GET", f"{self.api_base_url}/playlistItems", "playlistItems.list", params=params
            )
            items = body.get("items") or []
            for item in items:
                scanned += 1
                snippet = item.get("snippet") or {}
                if marker in (snippet.get("description") or "") or marker in (snippet.get("title") or ""):
                    video_id = (snippet.get("resourceId") or {}).get("videoId")
                    if not video_id:
                        continue
                    found = RemoteVideo(
                        platform=self.platform,
                        video_id=video_id,
                        title=snippet.get("title") or "",
                        published_at=snippet.get("publishedAt"),
                        privacy_status=(item.get("status") or {}).get("privacyStatus"),
                        url=f"https://www.youtube.com/shorts/{video_id}",
                    )
                    log.info("YouTube: %s found as video %s", marker, video_id)
                    return MarkerSearch(video=found, scanned=scanned, cost=self._cost(mark))
            page_token = body.get("nextPageToken")
            if not page_token or not items:
                break
        log.info("YouTube: %s not found among the %d newest uploads", marker, scanned)
        return MarkerSearch(video=None, scanned=scanned, cost=self._cost(mark))

    # --- thumbnails and statistics -----------------------------------------------------------------------

    def set_thumbnail(
        self, video_id: str, image_path: Path, *, content_type: str | None = None
    ) -> ThumbnailResult:
        """Set a video's custom thumbnail (JPEG or PNG; the channel must be allowed custom thumbnails)."""
        image_path = Path(image_path)
        data = image_path.read_bytes()
        if not data:
            raise ValueError(f"thumbnail {image_path} is empty")
        if len(data) > MAX_THUMBNAIL_BYTES:
            raise ValueError(
                f"thumbnail {image_path} has {len(data)} bytes, over YouTube's {MAX_THUMBNAIL_BYTES}"
            )
        content_type = content_type or mimetypes.guess_type(image_path.name)[0] or "application/octet-stream"
        mark = self.ledger.mark()
        body = self._call("POST", f"{self.upload_base_url}/thumbnails/set", "thumbnails.set",
                          params={"videoId": video_id}, content=data,
                          headers={"Content-Type": content_type})  # fmt: skip
        urls: dict[str, str] = {}
        for item in body.get("items") or []:
            for size, thumb in (item or {}).items():
                if isinstance(thumb, Mapping) and isinstance(thumb.get("url"), str):
                    urls[size] = thumb["url"]
        return ThumbnailResult(video_id=video_id, urls=urls, cost=self._cost(mark))

    def statistics(self, video_ids: Sequence[str]) -> StatisticsBatch:
        """Views, likes and comments of own videos, 50 ids per videos.list call; hidden counts are None."""
        ids = list(dict.fromkeys(i for i in video_ids if i))
        mark = self.ledger.mark()
        stats: list[VideoStatistics] = []
        for start in range(0, len(ids), MAX_IDS_PER_CALL):
            batch = ids[start : start + MAX_IDS_PER_CALL]
            body = self._call("GET", f"{self.api_base_url}/videos", "videos.list",
                              params={"part": "statistics", "id": ",".join(batch)})  # fmt: skip
            for item in body.get("items") or []:
                if not isinstance(item, Mapping) or item.get("id") not in batch:
                    continue
                counts = item.get("statistics") or {}
                stats.append(VideoStatistics(video_id=item["id"], views=_count(counts.get("viewCount")),
                                             likes=_count(counts.get("likeCount")),
                                             comments=_count(counts.get("commentCount"))))  # fmt: skip
        returned = {s.video_id for s in stats}
        return StatisticsBatch(
            statistics=stats, missing_ids=[i for i in ids if i not in returned], cost=self._cost(mark)
        )

    # --- YouTube Analytics ---------------------------------------------------------------------------------

    def analytics(self, video_ids: Sequence[str], *, start_date: date, end_date: date) -> AnalyticsReport:
        """Retention and views per own video from YouTube Analytics v2, or "not available" without its scope."""
        if end_date < start_date:
            raise ValueError(f"end_date {end_date} is before start_date {start_date}")
        ids = list(dict.fromkeys(i for i in video_ids if i))
        mark = self.ledger.mark()
        self._api.credentials.access_token()  # learn the granted scopes
        granted = self._api.credentials.granted_scopes
        if granted is not None and SCOPE_ANALYTICS not in granted:
            return self._unavailable("the refresh token was not granted yt-analytics.readonly", start_date,
                                     end_date, mark)  # fmt: skip
        rows: list[VideoAnalytics] = []
        for start in range(0, len(ids), ANALYTICS_MAX_ROWS):
            batch = ids[start : start + ANALYTICS_MAX_ROWS]
            try:
                body = self._analytics_query(batch, start_date, end_date)
            except InsufficientScopeError as exc:
                return self._unavailable(f"Analytics refused the token's scopes: {exc.api_message or exc}",
                                         start_date, end_date, mark)  # fmt: skip
            rows.extend(_analytics_rows(body))
        return AnalyticsReport(available=True, start_date=start_date, end_date=end_date, rows=rows,
                               cost=self._cost(mark))  # fmt: skip

    def _unavailable(
        self, reason: str, start_date: date, end_date: date, mark: tuple[int, Any]
    ) -> AnalyticsReport:
        log.info("YouTube Analytics not available: %s", reason)
        return AnalyticsReport(available=False, reason=reason, start_date=start_date, end_date=end_date,
                               cost=self._cost(mark))  # fmt: skip

    def _analytics_query(self, batch: list[str], start_date: date, end_date: date) -> Any:
        while True:
            metrics = [m for m in ANALYTICS_METRICS if self._engaged_views or m != "engagedViews"]
            params = {
                "ids": "channel==MINE",
                "startDate": start_date.isoformat(),
                "endDate": end_date.isoformat(),
                "metrics": ",".join(metrics),
                "dimensions": "video",
                "filters": "video==" + ",".join(batch),
                "sort": "-views",
                "maxResults": len(batch),
            }
            try:
                return self._call("GET", f"{self.analytics_base_url}/reports", "analytics.reports.query",
                                  params=params)  # fmt: skip
            except ApiError as exc:
                # engagedViews is newer than the other metrics; where a report refuses it, ask without it.
                if (
                    self._engaged_views
                    and exc.status_code == 400
                    and "engagedViews" in (exc.api_message or "")
                ):
                    log.info("YouTube Analytics refuses engagedViews here; asking without it")
                    self._engaged_views = False
                    continue
                raise


def _analytics_rows(body: Any) -> list[VideoAnalytics]:
    """Rows of a `resultTable` (`columnHeaders` + `rows`) as VideoAnalytics, by column name."""
    headers = [h.get("name") for h in body.get("columnHeaders") or [] if isinstance(h, Mapping)]
    if "video" not in headers:
        raise ValueError(f"Analytics report without a video column (columns: {headers})")
    result = []
    for row in body.get("rows") or []:
        values = dict(zip(headers, row, strict=False))

        def number(name: str, values: dict[str, Any] = values) -> float | None:
            value = values.get(name)
            return float(value) if isinstance(value, int | float) else None

        views, engaged = number("views"), number("engagedViews")
        result.append(
            VideoAnalytics(
                video_id=str(values["video"]),
                views=int(views) if views is not None else None,
                average_view_duration_s=number("averageViewDuration"),
                average_view_percentage=number("averageViewPercentage"),
                engaged_views=int(engaged) if engaged is not None else None,
            )
        )
    return result
