"""Where approved videos are published: YouTube (Data API v3), a local folder (demo, tests), or nowhere.

`publisher_from_env()` picks one by `SHORTVID_PUBLISH`: `off` (the default: nothing is ever uploaded,
`published_video` refuses and the publish sensor skips), `youtube` (OAuth 2.0 installed-app
credentials from `YOUTUBE_OAUTH_CLIENT_ID` / `_CLIENT_SECRET` / `_REFRESH_TOKEN`; run
`shortvid publish auth` for the refresh token), or `local` (a folder that takes uploads like a
platform, with the same resumable sessions, so the demo runs the whole loop offline).

`publish_once` is the exactly-once protocol on top of any `PublishingPlatform`: under a per-video
Postgres advisory lock it reads the `publications` row, resumes a stored session or finds the remote
video by its marker, and only otherwise claims the row, opens a session, stores it, uploads and
completes the row. Quota and upload-limit errors mark the row failed and are never retried.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import dagster as dg
import psycopg2.extensions
from pydantic import Field

from shortvid_assets import clock, settings
from shortvid_assets.clients.google_api import QuotaExceededError, UploadLimitExceededError
from shortvid_assets.clients.google_oauth import TOKEN_URL, GoogleOAuthCredentials
from shortvid_assets.clients.publishing import (
    CallCost,
    MarkerSearch,
    ProgressCallback,
    PublishedVideo,
    PublishingPlatform,
    RemoteVideo,
    StatisticsBatch,
    ThumbnailResult,
    UploadSession,
    VideoStatistics,
)
from shortvid_assets.clients.youtube_publish import (
    ANALYTICS_BASE_URL,
    API_BASE_URL,
    CHUNK_UNIT,
    DEFAULT_CHUNK_SIZE,
    UPLOAD_BASE_URL,
    AnalyticsReport,
    UploadSessionExpiredError,
    YouTubePublisher,
)
from shortvid_assets.domain.files import atomic_path, write_text_atomic
from shortvid_assets.domain.publishing import PrivacyStatus, UploadMetadata
from shortvid_assets.storage import publications

log = logging.getLogger(__name__)

PUBLISH_TARGETS = ("off", "youtube", "local")
PRIVACY_STATUSES = ("private", "unlisted", "public")
DEFAULT_DAILY_CAP = 10
# publishAt must lie in the future when the upload starts; a slot closer than this moves a day on.
MIN_SCHEDULE_LEAD = timedelta(minutes=30)


class PublishingDisabled(RuntimeError):
    """SHORTVID_PUBLISH is off: nothing may be uploaded."""


class Publisher(dg.ConfigurableResource, ABC):
    """A platform approved videos are uploaded to, with the upload policy (privacy, schedule, daily cap)."""

    privacy_status: str = Field(default="private", description="private, unlisted or public")
    publish_at: str | None = Field(
        default=None,
        description="HH:MM (UTC): schedule the video public at the next such time (private only)",
    )
    made_for_kids: bool = False
    daily_upload_cap: int = Field(default=DEFAULT_DAILY_CAP, ge=0, description="uploads started per UTC day")

    @property
    def enabled(self) -> bool:
        return True

    @property
    @abstractmethod
    def platform_name(self) -> str: ...

    @abstractmethod
    def describe(self) -> str:
        """Which implementation runs, for logs; never contains a secret."""

    @abstractmethod
    @contextlib.contextmanager
    def platform(self) -> Iterator[PublishingPlatform]:
        """A connected platform client for one step."""

    def privacy(self) -> PrivacyStatus:
        if self.privacy_status not in PRIVACY_STATUSES:
            raise ValueError(
                f"privacy status {self.privacy_status!r} is not one of {', '.join(PRIVACY_STATUSES)}: "
                "fix SHORTVID_PUBLISH_PRIVACY"
            )
        return self.privacy_status  # type: ignore[return-value]

    def scheduled_time(self, now: datetime) -> datetime | None:
        """The publishAt of an upload starting at `now`: the next HH:MM (UTC) at least 30 minutes ahead."""
        return next_publish_time(self.publish_at, now) if self.publish_at else None


def next_publish_time(hh_mm: str, now: datetime) -> datetime:
    """The next `HH:MM` UTC after `now` + 30 minutes (YouTube wants publishAt in the future)."""
    try:
        hour, minute = (int(part) for part in hh_mm.strip().split(":"))
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise ValueError
    except ValueError:
        raise ValueError(
            f"publish time {hh_mm!r} is not HH:MM (UTC, e.g. 17:00): fix SHORTVID_PUBLISH_AT"
        ) from None
    earliest = now.astimezone(UTC) + MIN_SCHEDULE_LEAD
    slot = earliest.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return slot if slot >= earliest else slot + timedelta(days=1)


class DisabledPublisher(Publisher):
    """SHORTVID_PUBLISH=off (the default): nothing is published, and saying so is the whole job."""

    @property
    def enabled(self) -> bool:
        return False

    @property
    def platform_name(self) -> str:
        return "off"

    def describe(self) -> str:
        return "off (SHORTVID_PUBLISH=off: nothing is uploaded)"

    @contextlib.contextmanager
    def platform(self) -> Iterator[PublishingPlatform]:
        raise PublishingDisabled(
            "publishing is off (SHORTVID_PUBLISH=off): set SHORTVID_PUBLISH=youtube (with the YOUTUBE_OAUTH_* "
            "variables) or SHORTVID_PUBLISH=local to publish approved videos"
        )
        yield  # pragma: no cover


class YouTubePublisherResource(Publisher):
    """YouTube Data API v3 resumable uploads with an OAuth refresh token (`shortvid publish auth`)."""

    client_id: str
    client_secret: str = Field(description="give it as dg.EnvVar('YOUTUBE_OAUTH_CLIENT_SECRET')")
    refresh_token: str = Field(description="give it as dg.EnvVar('YOUTUBE_OAUTH_REFRESH_TOKEN')")
    token_url: str = TOKEN_URL
    api_base_url: str = API_BASE_URL
    upload_base_url: str = UPLOAD_BASE_URL
    analytics_base_url: str = ANALYTICS_BASE_URL
    chunk_size: int = DEFAULT_CHUNK_SIZE
    timeout_s: float = 120.0

    @property
    def platform_name(self) -> str:
        return "youtube"

    def describe(self) -> str:
        return (
            f"youtube at {self.upload_base_url} (privacy {self.privacy_status}, "
            f"publishAt {self.publish_at or 'none'}, daily cap {self.daily_upload_cap})"
        )

    @contextlib.contextmanager
    def platform(self) -> Iterator[YouTubePublisher]:
        credentials = GoogleOAuthCredentials(
            self.client_id, self.client_secret, self.refresh_token, token_url=self.token_url
        )
        with YouTubePublisher(
            credentials,
            api_base_url=self.api_base_url,
            upload_base_url=self.upload_base_url,
            analytics_base_url=self.analytics_base_url,
            chunk_size=self.chunk_size,
            timeout_s=self.timeout_s,
        ) as client:
            yield client


class LocalFolderPublisher(Publisher):
    """Offline: "publishes" into a folder through the same resumable-session protocol (demo and tests)."""

    folder: str

    @property
    def platform_name(self) -> str:
        return "local"

    def describe(self) -> str:
        return f"local folder {self.folder} (offline; nothing leaves this machine)"

    @contextlib.contextmanager
    def platform(self) -> Iterator[LocalFolderPlatform]:
        yield LocalFolderPlatform(Path(self.folder))


def publisher_from_env() -> Publisher:
    """The publisher named by SHORTVID_PUBLISH (off by default), configured from the environment."""
    target = settings.choice("SHORTVID_PUBLISH", PUBLISH_TARGETS)
    policy: dict[str, Any] = {
        "privacy_status": settings.choice("SHORTVID_PUBLISH_PRIVACY", PRIVACY_STATUSES),
        "publish_at": settings.text("SHORTVID_PUBLISH_AT"),
        "made_for_kids": settings.flag("SHORTVID_PUBLISH_MADE_FOR_KIDS", False),
        "daily_upload_cap": settings.number(
            "SHORTVID_PUBLISH_DAILY_CAP", DEFAULT_DAILY_CAP, integer=True, minimum=0
        ),
    }
    if policy["publish_at"]:
        next_publish_time(policy["publish_at"], clock.now())  # a bad value fails at load, in one line
        if policy["privacy_status"] != "private":
            raise settings.SettingError(
                "SHORTVID_PUBLISH_AT schedules a private video to go public: it needs "
                f"SHORTVID_PUBLISH_PRIVACY=private, not {policy['privacy_status']}"
            )
    if target == "off":
        publisher: Publisher = DisabledPublisher(**policy)
    elif target == "local":
        folder = settings.path("SHORTVID_PUBLISH_DIR", settings.output_dir() / "published")
        publisher = LocalFolderPublisher(folder=str(folder), **policy)
    else:
        for name in ("YOUTUBE_OAUTH_CLIENT_ID", "YOUTUBE_OAUTH_CLIENT_SECRET", "YOUTUBE_OAUTH_REFRESH_TOKEN"):
            if not settings.is_set(name):
                log.warning("SHORTVID_PUBLISH=youtube but %s is not set: published_video will fail", name)
        publisher = YouTubePublisherResource(
            client_id=settings.text("YOUTUBE_OAUTH_CLIENT_ID", ""),
            client_secret=dg.EnvVar("YOUTUBE_OAUTH_CLIENT_SECRET"),
            refresh_token=dg.EnvVar("YOUTUBE_OAUTH_REFRESH_TOKEN"),
            token_url=settings.text("SHORTVID_GOOGLE_TOKEN_URL", TOKEN_URL),
            api_base_url=settings.text("SHORTVID_YOUTUBE_BASE_URL", API_BASE_URL),
            upload_base_url=settings.text("SHORTVID_YOUTUBE_UPLOAD_URL", UPLOAD_BASE_URL),
            analytics_base_url=settings.text("SHORTVID_YOUTUBE_ANALYTICS_URL", ANALYTICS_BASE_URL),
            **policy,
        )
    log.info("publisher: %s", publisher.describe())
    return publisher


# --- the offline platform ------------------------------------------------------------------------------


class LocalFolderPlatform:
    """A folder that takes resumable uploads like a platform: `sessions/` holds open uploads, `videos/` the
    finished ones (`<id>.mp4` + `<id>.json` with the video resource and counts anyone may edit)."""

    platform = "local"

    def __init__(self, folder: Path, *, chunk_size: int = 4 * CHUNK_UNIT) -> None:
        self.folder = Path(folder)
        self.chunk_size = chunk_size

    def _session_file(self, session_uri: str) -> Path:
        return self.folder / "sessions" / f"{session_uri.rsplit('/', 1)[-1]}.json"

    def _video_json(self, video_id: str) -> Path:
        return self.folder / "videos" / f"{video_id}.json"

    def start(self, metadata: UploadMetadata, *, size: int, content_type: str = "video/mp4") -> UploadSession:
        if size <= 0:
            raise ValueError(f"cannot upload an empty file (size {size})")
        now = clock.now()
        upload_id = hashlib.sha256(f"{metadata.marker}:{now.isoformat()}".encode()).hexdigest()[:20]
        uri = f"local://{self.folder}/sessions/{upload_id}"
        resource = {"snippet": metadata.model_dump(mode="json"), "total": size}
        write_text_atomic(self._session_file(uri), json.dumps(resource))
        return UploadSession(platform=self.platform, session_uri=uri, total_bytes=size, content_type=content_type,
                             marker=metadata.marker, started_at=now)  # fmt: skip

    def upload(
        self, session: UploadSession, path: Path, *, on_progress: ProgressCallback | None = None
    ) -> PublishedVideo:
        return self._transfer(session, Path(path), on_progress)

    def resume(
        self, session: UploadSession, path: Path, *, on_progress: ProgressCallback | None = None
    ) -> PublishedVideo:
        return self._transfer(session, Path(path), on_progress)

    def _transfer(
        self, session: UploadSession, path: Path, on_progress: ProgressCallback | None
    ) -> PublishedVideo:
        state_file = self._session_file(session.session_uri)
        if not state_file.exists():
            raise UploadSessionExpiredError(
                f"local upload session {state_file.stem} is gone: look for the video by its marker",
                service="local", method="PUT", path=str(state_file), status_code=404,
            )  # fmt: skip
        state = json.loads(state_file.read_text())
        if state.get("video_id"):
            return self._published(state["video_id"], 0)
        if path.stat().st_size != session.total_bytes:
            raise ValueError(
                f"{path} changed size since its upload session opened: only the approved render is uploaded"
            )
        part = state_file.with_suffix(".part")
        held = part.stat().st_size if part.exists() else 0
        sent = 0
        with path.open("rb") as source, part.open("ab") as target:
            source.seek(held)
            while chunk := source.read(self.chunk_size):
                target.write(chunk)
                target.flush()
                sent += len(chunk)
                if on_progress is not None:
                    on_progress(held + sent, session.total_bytes)
        video_id = "lv" + hashlib.sha256(state_file.stem.encode()).hexdigest()[:9]
        video = self.folder / "videos" / f"{video_id}.mp4"
        video.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(video) as tmp:
            shutil.move(part, tmp)
        snippet = state["snippet"]
        write_text_atomic(self._video_json(video_id), json.dumps({
            "id": video_id, "title": snippet["title"], "description": snippet["description"],
            "privacy_status": snippet["privacy_status"], "published_at": clock.now().isoformat(),
            "metadata": snippet, "views": 0, "likes": 0, "comments": 0,
        }, indent=1))  # fmt: skip
        write_text_atomic(state_file, json.dumps({**state, "video_id": video_id}))
        return self._published(video_id, sent)

    def _published(self, video_id: str, sent: int) -> PublishedVideo:
        info = json.loads(self._video_json(video_id).read_text())
        return PublishedVideo(platform=self.platform, video_id=video_id, url=self._video_json(video_id).with_suffix(".mp4").as_uri(),
                              privacy_status=info.get("privacy_status"), upload_status="processed", bytes_sent=sent)  # fmt: skip

    def find_by_marker(self, marker: str) -> MarkerSearch:
        scanned = 0
        for path in sorted((self.folder / "videos").glob("*.json"), reverse=True):
            scanned += 1
            info = json.loads(path.read_text())
            if marker in info.get("description", "") or marker in info.get("title", ""):
                video = RemoteVideo(platform=self.platform, video_id=info["id"], title=info["title"],
                                    published_at=info.get("published_at"), privacy_status=info.get("privacy_status"),
                                    url=path.with_suffix(".mp4").as_uri())  # fmt: skip
                return MarkerSearch(video=video, scanned=scanned)
        return MarkerSearch(video=None, scanned=scanned)

    def set_thumbnail(self, video_id: str, image_path: Path) -> ThumbnailResult:
        target = self.folder / "videos" / f"{video_id}.jpg"
        with atomic_path(target) as tmp:
            shutil.copyfile(image_path, tmp)
        return ThumbnailResult(video_id=video_id, urls={"default": target.as_uri()})

    def statistics(self, video_ids: Sequence[str]) -> StatisticsBatch:
        stats, missing = [], []
        for video_id in dict.fromkeys(video_ids):
            path = self._video_json(video_id)
            if not path.exists():
                missing.append(video_id)
                continue
            info = json.loads(path.read_text())
            stats.append(VideoStatistics(video_id=video_id, views=info.get("views"), likes=info.get("likes"),
                                         comments=info.get("comments")))  # fmt: skip
        return StatisticsBatch(statistics=stats, missing_ids=missing)

    def analytics(self, video_ids: Sequence[str], *, start_date: date, end_date: date) -> AnalyticsReport:
        return AnalyticsReport(available=False, reason="a local folder has no YouTube Analytics",
                               start_date=start_date, end_date=end_date)  # fmt: skip


# --- exactly once --------------------------------------------------------------------------------------


class PublishRefused(Exception):
    """The video must not be uploaded (not approved, re-rendered, published already, cap reached)."""


class PublishStopped(Exception):
    """The platform refused for a reason a retry would not heal (quota, upload limit): the API's message."""


Action = Literal["uploaded", "resumed", "found by marker", "already published"]


@dataclass
class PublishOutcome:
    """What `publish_once` did, and what it spent."""

    publication: publications.Publication
    action: Action
    bytes_sent: int = 0
    quota_units: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    thumbnail: str | None = None

    def spent(self, cost: CallCost) -> None:
        self.requests += cost.requests
        for bucket, units in cost.quota_units.items():
            self.quota_units[bucket] = self.quota_units.get(bucket, 0) + units


def _session_of(row: publications.Publication) -> UploadSession:
    return UploadSession(platform=row.platform, session_uri=row.session_uri or "", total_bytes=row.total_bytes or 1,
                         content_type="video/mp4", marker=row.marker,
                         started_at=row.upload_started_at or row.updated_at)  # fmt: skip


def publish_once(
    conn: psycopg2.extensions.connection,
    client: PublishingPlatform,
    *,
    day: str,
    theme: str,
    sha256: str,
    decision_id: int | None,
    metadata: UploadMetadata,
    video: Path,
    thumbnail: Path | None,
    features: dict[str, Any],
    daily_cap: int,
    still_approved: Callable[[], str | None],
    log: Callable[[str], None] = log.info,
) -> PublishOutcome:
    """Publish the approved render of one video exactly once; see the module docstring for the protocol.

    `still_approved()` is asked right before a session opens: it returns why the render may no longer
    be uploaded (a rejection that arrived meanwhile), or None.
    """
    platform = client.platform
    with publications.publishing_lock(conn, day, theme, platform) as locked:
        if not locked:
            raise PublishRefused(
                f"another run is publishing {day}|{theme} to {platform} right now: nothing was sent twice; "
                "this run stops"
            )
        outcome = _publish_locked(conn, client, day=day, theme=theme, sha256=sha256, decision_id=decision_id,
                                  metadata=metadata, video=video, features=features, daily_cap=daily_cap,
                                  still_approved=still_approved, log=log)  # fmt: skip
        if thumbnail is not None and outcome.action != "already published":
            try:
                result = client.set_thumbnail(outcome.publication.remote_id or "", thumbnail)
            except Exception as exc:  # the video is published: a thumbnail refused must not undo that
                log(f"thumbnail not set on {outcome.publication.remote_id}: {exc}")
            else:
                outcome.spent(result.cost)
                outcome.thumbnail = next(iter(result.urls.values()), "set")
                outcome.publication = publications.add_quota_units(
                    conn, outcome.publication.id, result.cost.quota_units
                )
        return outcome


def _publish_locked(
    conn: psycopg2.extensions.connection,
    client: PublishingPlatform,
    *,
    day: str,
    theme: str,
    sha256: str,
    decision_id: int | None,
    metadata: UploadMetadata,
    video: Path,
    features: dict[str, Any],
    daily_cap: int,
    still_approved: Callable[[], str | None],
    log: Callable[[str], None],
) -> PublishOutcome:
    platform = client.platform
    existing = publications.publication_for(conn, day, theme, platform)
    row: publications.Publication | None = None
    if existing is not None and existing.status == "published":
        if existing.video_sha256 != sha256:
            raise PublishRefused(
                f"{day}|{theme} is already published as {existing.url} (render {existing.video_sha256[:12]}); "
                f"this render ({sha256[:12]}) is not uploaded over it"
            )
        return PublishOutcome(existing, "already published")
    if existing is not None and existing.status in ("claimed", "uploading"):
        outcome = PublishOutcome(existing, "resumed")
        # A dead attempt: its session may have finished the upload without the row hearing of it.
        if existing.status == "uploading" and existing.session_uri and existing.video_sha256 == sha256:
            log(f"{day}|{theme}: resuming the upload session stored by an earlier attempt")
            try:
                done = client.resume(_session_of(existing), video)
            except UploadSessionExpiredError as exc:
                log(f"{day}|{theme}: {exc}")
            else:
                outcome.spent(done.cost)
                outcome.bytes_sent = done.bytes_sent
                outcome.publication = publications.complete_publication(
                    conn, existing.id, remote_id=done.video_id, url=done.url, published_at=clock.now(),
                    privacy_status=done.privacy_status, quota_units=done.cost.quota_units,
                )  # fmt: skip
                return outcome
        if existing.status == "uploading":
            search = client.find_by_marker(existing.marker)
            outcome.spent(search.cost)
            if search.video is not None:
                log(
                    f"{day}|{theme}: found the earlier upload as {search.video.video_id} by {existing.marker}"
                )
                outcome.action = "found by marker"
                outcome.publication = publications.complete_publication(
                    conn, existing.id, remote_id=search.video.video_id, url=search.video.url,
                    published_at=clock.now(), privacy_status=search.video.privacy_status,
                    quota_units=search.cost.quota_units,
                )  # fmt: skip
                if existing.video_sha256 != sha256:
                    raise PublishRefused(
                        f"{day}|{theme}: an earlier render ({existing.video_sha256[:12]}) finished uploading as "
                        f"{search.video.url}; this render ({sha256[:12]}) is not uploaded over it"
                    )
                return outcome
        # Nothing of the old attempt reached the platform as a video: a new session may start.
        if problem := still_approved():
            raise PublishRefused(problem)
        _check_cap(conn, platform, daily_cap, existing.id)
        row = publications.restart_publication(conn, existing.id, video_sha256=sha256, decision_id=decision_id,
                                               marker=metadata.marker, features=features)  # fmt: skip
    else:
        if problem := still_approved():
            raise PublishRefused(problem)
        _check_cap(conn, platform, daily_cap, None)
        row, claimed = publications.claim_publication(
            conn, partition_date=day, theme=theme, platform=platform, video_sha256=sha256,
            decision_id=decision_id, marker=metadata.marker, features=features,
        )  # fmt: skip
        if not claimed:  # cannot happen under the lock; refuse rather than guess
            raise PublishRefused(
                f"{day}|{theme} has a publication row in state {row.status}: not uploading again"
            )
    return _upload(conn, client, row, metadata, video, log)


def _check_cap(conn: psycopg2.extensions.connection, platform: str, cap: int, own_id: int | None) -> None:
    started = publications.uploads_started_on(conn, platform, clock.today(), excluding=own_id)
    if started >= cap:
        raise PublishRefused(
            f"the daily upload cap is reached: {started} uploads to {platform} started today (UTC), cap {cap} "
            "(SHORTVID_PUBLISH_DAILY_CAP); this video waits for tomorrow"
        )


def _upload(
    conn: psycopg2.extensions.connection,
    client: PublishingPlatform,
    row: publications.Publication,
    metadata: UploadMetadata,
    video: Path,
    log: Callable[[str], None],
) -> PublishOutcome:
    outcome = PublishOutcome(row, "uploaded")
    try:
        session = client.start(metadata, size=video.stat().st_size)
    except (QuotaExceededError, UploadLimitExceededError) as exc:
        publications.fail_publication(conn, row.id, error=str(exc))
        raise PublishStopped(str(exc)) from None
    outcome.spent(session.cost)
    # The session is stored before any byte is sent: a crash from here on resumes it.
    row = publications.record_session(
        conn, row.id, session_uri=session.session_uri, total_bytes=session.total_bytes, started_at=session.started_at,
        privacy_status=metadata.privacy_status, publish_at=metadata.publish_at, quota_units=session.cost.quota_units,
    )  # fmt: skip
    log(f"{row.partition_date}|{row.theme}: upload session stored, sending {session.total_bytes} bytes")
    done = client.upload(session, video)
    outcome.spent(done.cost)
    outcome.bytes_sent = done.bytes_sent
    outcome.publication = publications.complete_publication(
        conn, row.id, remote_id=done.video_id, url=done.url, published_at=clock.now(),
        privacy_status=done.privacy_status, quota_units=done.cost.quota_units,
    )  # fmt: skip
    return outcome


def fetch_analytics(
    client: PublishingPlatform, video_ids: Sequence[str], start: date, end: date
) -> AnalyticsReport:
    """YouTube Analytics for the ids, or "not available" from a platform without it."""
    analytics = getattr(client, "analytics", None)
    if analytics is None:
        return AnalyticsReport(available=False, reason=f"{client.platform} has no analytics", start_date=start,
                               end_date=end)  # fmt: skip
    return analytics(video_ids, start_date=start, end_date=end)
