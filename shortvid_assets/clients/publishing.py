"""What a publishing platform client offers, so YouTube today and TikTok's Content Posting API later plug in alike.

Exactly-once publishing rests on three calls: `start` opens an upload session and returns it *before* any
byte is sent (the caller persists `UploadSession` with its publication row), `upload` sends the file, and
after a crash `resume` continues the persisted session from what the platform reports it has, while
`find_by_marker` finds a video whose upload completed but whose record did not. Every result says what it
cost (requests, quota units per bucket) so the caller can record it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from shortvid_assets.domain.publishing import UploadMetadata

# on_progress(bytes the platform confirmed, total bytes)
ProgressCallback = Callable[[int, int], None]


class CallCost(BaseModel):
    """Requests sent and quota units spent per quota bucket by one call."""

    requests: int = 0
    quota_units: dict[str, int] = Field(default_factory=dict)


class UploadSession(BaseModel):
    """A resumable upload session: persist it before uploading, resume it after a crash."""

    platform: str
    session_uri: str
    total_bytes: int = Field(gt=0)
    content_type: str
    marker: str
    started_at: datetime
    cost: CallCost = Field(default_factory=CallCost)


class PublishedVideo(BaseModel):
    """A finished upload: the platform's id for the video and what it reported back."""

    platform: str
    video_id: str
    url: str
    privacy_status: str | None = None
    upload_status: str | None = None
    bytes_sent: int = Field(ge=0, description="Bytes this call sent, resends included")
    cost: CallCost = Field(default_factory=CallCost)


class RemoteVideo(BaseModel):
    """An own video found on the platform (by its publication marker)."""

    platform: str
    video_id: str
    title: str
    published_at: datetime | None = None
    privacy_status: str | None = None
    url: str


class MarkerSearch(BaseModel):
    """The outcome of a marker search: the video if found, and how far the search looked."""

    video: RemoteVideo | None
    scanned: int
    cost: CallCost = Field(default_factory=CallCost)


class ThumbnailResult(BaseModel):
    video_id: str
    urls: dict[str, str] = Field(default_factory=dict)
    cost: CallCost = Field(default_factory=CallCost)


class VideoStatistics(BaseModel):
    """Public counts of one video; a count the owner hides (likes) is None, not 0."""

    video_id: str
    views: int | None
    likes: int | None
    comments: int | None


class StatisticsBatch(BaseModel):
    statistics: list[VideoStatistics]
    missing_ids: list[str] = Field(default_factory=list, description="Ids the platform did not return")
    cost: CallCost = Field(default_factory=CallCost)


@runtime_checkable
class PublishingPlatform(Protocol):
    """A platform that takes resumable uploads of own videos and reports their statistics."""

    platform: str

    def start(self, metadata: UploadMetadata, *, size: int, content_type: str = "video/mp4") -> UploadSession:
        """Open an upload session; nothing of the file is sent yet."""
        ...

    def upload(
        self, session: UploadSession, path: Path, *, on_progress: ProgressCallback | None = None
    ) -> PublishedVideo:
        """Send the file of a session opened just now, from its first byte."""
        ...

    def resume(
        self, session: UploadSession, path: Path, *, on_progress: ProgressCallback | None = None
    ) -> PublishedVideo:
        """Continue a persisted session from what the platform has, or return the video if it completed."""
        ...

    def find_by_marker(self, marker: str) -> MarkerSearch:
        """An own video whose description carries `marker`, if any."""
        ...

    def set_thumbnail(self, video_id: str, image_path: Path) -> ThumbnailResult: ...

    def statistics(self, video_ids: Sequence[str]) -> StatisticsBatch: ...
