"""A fake Google for publishing: OAuth token endpoint, YouTube resumable uploads, thumbnails, own-video
listings, statistics and YouTube Analytics reports, speaking the real wire formats.

- `POST /token`: form-encoded `grant_type=refresh_token` or `authorization_code` (PKCE checked); answers
  `{"access_token", "expires_in", "scope", "token_type"}` or `{"error": "invalid_grant", ...}` with 400.
- `POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`: a session URI in `Location`.
  `PUT <session URI>` with `Content-Range: bytes a-b/total` stores a chunk (a must equal the bytes held,
  non-final chunks a multiple of 256 KiB) and answers `308` + `Range: bytes=0-N`, then `201` + the video
  resource; `Content-Range: bytes */total` asks for the status. Faults per chunk (`chunk_faults`): drop the
  connection after storing part of the chunk, answer a 5xx, or reject the access token once (401).
- `POST /upload/youtube/v3/thumbnails/set`, `GET /youtube/v3/channels|playlistItems|videos`,
  `GET /v2/reports` (Analytics `resultTable`; 403 insufficient scope without yt-analytics.readonly).
Quota is metered per bucket as Google does since June 2026 (videos.insert its own bucket).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs

from shortvid_assets_tests.fakes.server import FakeServer, Request, Response
from shortvid_assets_tests.fakes.youtube import QUOTA_MESSAGE, google_error

SCOPE_UPLOAD = "https://www.googleapis.com/auth/youtube.upload"
SCOPE_READONLY = "https://www.googleapis.com/auth/youtube.readonly"
SCOPE_ANALYTICS = "https://www.googleapis.com/auth/yt-analytics.readonly"
CHUNK_UNIT = 256 * 1024
CHANNEL_ID = "UCfakeOwnChannel000000001"
UPLOADS_PLAYLIST = "UUfakeOwnChannel000000001"
QUOTA_COSTS = {
    "videos.insert": ("videos.insert", 1),
    "thumbnails.set": ("default", 50),
    "list": ("default", 1),
}
UPLOAD_LIMIT_MESSAGE = "The user has exceeded the number of videos they may upload."


def quota_exceeded() -> Response:
    return Response(403, google_error(403, QUOTA_MESSAGE, "quotaExceeded", "youtube.quota"))


def upload_limit_exceeded(status: int = 400) -> Response:
    return Response(
        status, google_error(status, UPLOAD_LIMIT_MESSAGE, "uploadLimitExceeded", "youtube.video")
    )


def server_error(status: int = 503) -> Response:
    return Response(status, google_error(status, "Backend Error", "backendError", "global"))


def unauthorized() -> Response:
    body = google_error(401, "Request had invalid authentication credentials.", "authError", "global")
    body["error"]["status"] = "UNAUTHENTICATED"
    return Response(401, body, headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})


def insufficient_scope() -> Response:
    body = {
        "error": {
            "code": 403,
            "message": "Request had insufficient authentication scopes.",
            "errors": [
                {
                    "message": "Insufficient Permission",
                    "domain": "global",
                    "reason": "insufficientPermissions",
                }
            ],
            "status": "PERMISSION_DENIED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                }
            ],
        }
    }
    return Response(403, body, headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'})


@dataclass
class ChunkFault:
    """What the next data-carrying PUT meets: a normal answer ("ok"), a dropped connection, an error status,
    or a rejected token; `store_bytes` of the chunk are kept before a drop or an error."""

    kind: Literal["ok", "drop", "status", "unauthorized"]
    store_bytes: int = 0  # how much of the chunk the server keeps before failing
    response: Response | None = None


@dataclass
class UploadSessionState:
    upload_id: str
    resource: dict[str, Any]
    total: int
    content_type: str
    data: bytearray = field(default_factory=bytearray)
    video_id: str | None = None
    puts: int = 0


@dataclass
class OwnVideo:
    resource: dict[str, Any]
    content: bytes
    views: int = 0
    likes: int | None = 0
    comments: int | None = 0
    analytics: dict[str, float] = field(default_factory=dict)


class FakeGooglePublishing(FakeServer):
    """Token endpoint, YouTube Data API (uploads, thumbnails, lists) and YouTube Analytics on one server."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        scopes: tuple[str, ...] = (SCOPE_UPLOAD, SCOPE_READONLY, SCOPE_ANALYTICS),
        quota_limits: dict[str, int] | None = None,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_tokens: dict[str, tuple[str, ...]] = {refresh_token: scopes}
        self.auth_codes: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, tuple[str, ...]] = {}
        self.issued_tokens: list[str] = []
        self.expires_in = 3599
        self.report_scope = True  # include `scope` in token answers (Google does)
        self.quota_limits = quota_limits or {"default": 10_000, "videos.insert": 100}
        self.quota_used: Counter[str] = Counter()
        self.sessions: dict[str, UploadSessionState] = {}
        self.videos: dict[str, OwnVideo] = {}  # insertion order = upload order
        self.chunk_faults: list[ChunkFault] = []
        self.thumbnails: dict[str, bytes] = {}
        self.reject_engaged_views = False
        self._ids = itertools.count(1)
        self.route("POST", "/token", self._token)
        self.route("POST", "/upload/youtube/v3/videos", self._start_upload)
        self.route("PUT", "/upload/youtube/v3/videos", self._put_upload)
        self.route("POST", "/upload/youtube/v3/thumbnails/set", self._set_thumbnail)
        self.route("GET", "/youtube/v3/channels", self._channels)
        self.route("GET", "/youtube/v3/playlistItems", self._playlist_items)
        self.route("GET", "/youtube/v3/videos", self._videos)
        self.route("GET", "/v2/reports", self._reports)

    # --- URLs for the clients ----------------------------------------------------------------------------

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/youtube/v3"

    @property
    def upload_base_url(self) -> str:
        return f"{self.url}/upload/youtube/v3"

    @property
    def analytics_base_url(self) -> str:
        return f"{self.url}/v2"

    # --- setup and inspection ----------------------------------------------------------------------------

    def add_video(self, video_id: str, *, title: str = "A video", description: str = "", views: int = 0,
                  likes: int | None = 0, comments: int | None = 0, privacy: str = "public",
                  analytics: dict[str, float] | None = None) -> None:  # fmt: skip
        """An own video uploaded earlier (not through this fake's upload endpoint)."""
        resource = {"kind": "youtube#video", "id": video_id,
                    "snippet": {"title": title, "description": description, "publishedAt": "2026-11-01T12:00:00Z"},
                    "status": {"privacyStatus": privacy, "uploadStatus": "processed"}}  # fmt: skip
        self.videos[video_id] = OwnVideo(resource, b"", views, likes, comments, analytics or {})

    def grant_code(
        self, code: str, *, redirect_uri: str, scopes: tuple[str, ...], code_challenge: str | None
    ) -> None:
        """Make `code` a valid authorization code, as if the user consented on Google's page."""
        self.auth_codes[code] = {"redirect_uri": redirect_uri, "scopes": scopes, "challenge": code_challenge}

    def revoke_access_tokens(self) -> None:
        self.access_tokens.clear()

    def token_calls(self) -> list[Request]:
        return self.calls("POST", "/token")

    def chunk_puts(self) -> list[Request]:
        return [
            r
            for r in self.calls("PUT", "/upload/youtube/v3/videos")
            if not r.headers.get("content-range", "").startswith("bytes */")
        ]

    def status_queries(self) -> list[Request]:
        return [
            r
            for r in self.calls("PUT", "/upload/youtube/v3/videos")
            if r.headers.get("content-range", "").startswith("bytes */")
        ]

    # --- helpers -----------------------------------------------------------------------------------------

    def _token_scopes(self, request: Request) -> tuple[str, ...] | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return None
        return self.access_tokens.get(header[len("Bearer ") :])

    def _auth(self, request: Request, *needed: str) -> Response | None:
        scopes = self._token_scopes(request)
        if scopes is None:
            return unauthorized()
        if needed and not any(scope in scopes for scope in needed):
            return insufficient_scope()
        return None

    def _charge(self, method: str) -> Response | None:
        bucket, units = QUOTA_COSTS.get(method, QUOTA_COSTS["list"])
        if self.quota_used[bucket] + units > self.quota_limits.get(bucket, 10_000):
            return quota_exceeded()
        self.quota_used[bucket] += units
        return None

    def _new_token(self, scopes: tuple[str, ...]) -> dict[str, Any]:
        token = (
            f"ya29.fake-access-{next(self._ids):04d}-{hashlib.sha1(repr(scopes).encode()).hexdigest()[:8]}"
        )
        self.access_tokens[token] = scopes
        self.issued_tokens.append(token)
        body: dict[str, Any] = {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}
        if self.report_scope:
            body["scope"] = " ".join(scopes)
        return body

    # --- handlers ----------------------------------------------------------------------------------------

    def _token(self, request: Request, match: re.Match[str]) -> Response:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return Response(400, {"error": "invalid_request", "error_description": "form body expected"})
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return Response(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        grant = form.get("grant_type")
        if grant == "refresh_token":
            scopes = self.refresh_tokens.get(form.get("refresh_token", ""))
            if scopes is None:
                return Response(
                    400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
                )
            return Response(200, self._new_token(scopes))
        if grant == "authorization_code":
            grant_info = self.auth_codes.pop(form.get("code", ""), None)
            if grant_info is None or grant_info["redirect_uri"] != form.get("redirect_uri"):
                return Response(400, {"error": "invalid_grant", "error_description": "Bad Request"})
            if grant_info["challenge"]:
                verifier = form.get("code_verifier", "")
                digest = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                )
                if digest != grant_info["challenge"]:
                    return Response(
                        400, {"error": "invalid_grant", "error_description": "Invalid code verifier."}
                    )
            refresh = f"1//fake-refresh-{next(self._ids):04d}"
            self.refresh_tokens[refresh] = grant_info["scopes"]
            return Response(200, self._new_token(grant_info["scopes"]) | {"refresh_token": refresh})
        return Response(
            400, {"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant}"}
        )

    def _start_upload(self, request: Request, match: re.Match[str]) -> Response:
        if denied := self._auth(request, SCOPE_UPLOAD):
            return denied
        q = request.query
        if q.get("uploadType") != "resumable":
            return Response(400, google_error(400, "uploadType must be resumable here", "badRequest"))
        if set(q.get("part", "").split(",")) != {"snippet", "status"}:
            return Response(400, google_error(400, "part must be snippet,status", "invalidPart"))
        if denied := self._charge("videos.insert"):
            return denied
        try:
            total = int(request.headers["x-upload-content-length"])
        except (KeyError, ValueError):
            return Response(400, google_error(400, "X-Upload-Content-Length required", "badRequest"))
        content_type = request.headers.get("x-upload-content-type", "")
        if not (content_type.startswith("video/") or content_type == "application/octet-stream"):
            return Response(400, google_error(400, "Media type not supported.", "mediaBodyRequired"))
        resource = request.json() or {}
        snippet, status = resource.get("snippet") or {}, resource.get("status") or {}
        title, description = snippet.get("title", ""), snippet.get("description", "")
        if not title or len(title) > 100 or re.search("[<>]", title):
            return Response(
                400,
                google_error(400, "The request metadata specifies an invalid video title.", "invalidTitle"),
            )
        if len(description.encode()) > 5000 or re.search("[<>]", description):
            return Response(
                400,
                google_error(
                    400, "The request metadata specifies an invalid video description.", "invalidDescription"
                ),
            )
        if "publishAt" in status and status.get("privacyStatus") != "private":
            return Response(
                400,
                google_error(
                    400,
                    "The request metadata specifies an invalid scheduled publishing time.",
                    "invalidPublishAt",
                ),
            )
        upload_id = f"ADPycdu{next(self._ids):06d}fakeUploadId"
        self.sessions[upload_id] = UploadSessionState(upload_id, resource, total, content_type)
        location = f"{self.url}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status&upload_id={upload_id}"
        return Response(200, None, raw=b"", headers={"Location": location, "X-GUploader-UploadID": upload_id})

    def _range(self, session: UploadSessionState) -> dict[str, str]:
        return {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}

    def _complete(self, session: UploadSessionState) -> Response:
        if session.video_id is None:
            session.video_id = f"vid{next(self._ids):08d}"
            resource = copy.deepcopy(session.resource)
            resource |= {"kind": "youtube#video", "id": session.video_id}
            resource.setdefault("status", {})["uploadStatus"] = "uploaded"
            self.videos[session.video_id] = OwnVideo(resource, bytes(session.data))
        return Response(201, self.videos[session.video_id].resource)

    def _put_upload(self, request: Request, match: re.Match[str]) -> Response:
        session = self.sessions.get(request.query.get("upload_id", ""))
        if session is None:
            return Response(404, google_error(404, "Upload session not found.", "notFound", "global"))
        if denied := self._auth(request, SCOPE_UPLOAD):
            return denied
        content_range = request.headers.get("content-range", "")
        if content_range == f"bytes */{session.total}":
            if len(session.data) == session.total:
                return self._complete(session)
            return Response(308, None, raw=b"", headers=self._range(session))
        found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range)
        if not found or int(found.group(3)) != session.total:
            return Response(400, google_error(400, f"Invalid Content-Range: {content_range!r}", "badContent"))
        first, last = int(found.group(1)), int(found.group(2))
        body = request.body
        if last - first + 1 != len(body):
            return Response(
                400, google_error(400, "Content-Range does not match the body length", "badContent")
            )
        if first != len(session.data):
            return Response(
                400,
                google_error(
                    400, f"chunk starts at {first}, the server holds {len(session.data)} bytes", "badContent"
                ),
            )
        if last + 1 < session.total and len(body) % CHUNK_UNIT:
            return Response(
                400, google_error(400, "non-final chunks must be a multiple of 256 KiB", "badContent")
            )
        session.puts += 1
        if self.chunk_faults:
            fault = self.chunk_faults.pop(0)
            if fault.kind == "ok":
                pass
            elif fault.kind == "unauthorized":
                self.revoke_access_tokens()
                return unauthorized()
            else:
                session.data.extend(body[: fault.store_bytes])
                if fault.kind == "drop":
                    return Response(drop=True)
                return fault.response or server_error()
        session.data.extend(body)
        if len(session.data) == session.total:
            return self._complete(session)
        return Response(308, None, raw=b"", headers=self._range(session))

    def _set_thumbnail(self, request: Request, match: re.Match[str]) -> Response:
        if (denied := self._auth(request, SCOPE_UPLOAD)) or (denied := self._charge("thumbnails.set")):
            return denied
        video_id = request.query.get("videoId", "")
        if video_id not in self.videos:
            return Response(
                404,
                google_error(
                    404, "The video that you are trying to update cannot be found.", "videoNotFound"
                ),
            )
        if not request.headers.get("content-type", "").startswith("image/") or not request.body:
            return Response(
                400, google_error(400, "The image content type is not supported.", "invalidImage")
            )
        self.thumbnails[video_id] = request.body
        base = f"https://i.ytimg.com/vi/{video_id}"
        sizes = {"default": (120, 90), "medium": (320, 180), "high": (480, 360)}
        item = {
            name: {"url": f"{base}/{name}.jpg", "width": w, "height": h} for name, (w, h) in sizes.items()
        }
        return Response(200, {"kind": "youtube#thumbnailSetResponse", "etag": "thumb", "items": [item]})

    def _channels(self, request: Request, match: re.Match[str]) -> Response:
        if (denied := self._auth(request, SCOPE_READONLY)) or (denied := self._charge("list")):
            return denied
        if request.query.get("mine") != "true":
            return Response(400, google_error(400, "No filter selected.", "missingRequiredParameter"))
        item = {"kind": "youtube#channel", "id": CHANNEL_ID,
                "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": UPLOADS_PLAYLIST}}}  # fmt: skip
        return Response(
            200,
            {
                "kind": "youtube#channelListResponse",
                "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
                "items": [item],
            },
        )

    def _playlist_items(self, request: Request, match: re.Match[str]) -> Response:
        if (denied := self._auth(request, SCOPE_READONLY)) or (denied := self._charge("list")):
            return denied
        q = request.query
        if q.get("playlistId") != UPLOADS_PLAYLIST:
            return Response(
                404,
                google_error(
                    404,
                    "The playlist identified with the request's playlistId parameter cannot be found.",
                    "playlistNotFound",
                ),
            )
        size = int(q.get("maxResults", "5"))
        offset = int(q["pageToken"][len("PT") :]) if q.get("pageToken") else 0
        newest_first = list(reversed(self.videos.values()))
        page = newest_first[offset : offset + size]
        items = []
        for position, video in enumerate(page, start=offset):
            snippet = video.resource.get("snippet", {})
            items.append({
                "kind": "youtube#playlistItem", "id": f"PLI{video.resource['id']}",
                "snippet": {"publishedAt": snippet.get("publishedAt", "2026-12-03T10:00:00Z"), "channelId": CHANNEL_ID,
                            "title": snippet.get("title", ""), "description": snippet.get("description", ""),
                            "playlistId": UPLOADS_PLAYLIST, "position": position,
                            "resourceId": {"kind": "youtube#video", "videoId": video.resource["id"]}},
                "status": {"privacyStatus": video.resource.get("status", {}).get("privacyStatus", "private")},
            })  # fmt: skip
        body: dict[str, Any] = {"kind": "youtube#playlistItemListResponse", "items": items,
                                "pageInfo": {"totalResults": len(newest_first), "resultsPerPage": size}}  # fmt: skip
        if offset + size < len(newest_first):
            body["nextPageToken"] = f"PT{offset + size}"
        return Response(200, body)

    def _videos(self, request: Request, match: re.Match[str]) -> Response:
        if (denied := self._auth(request, SCOPE_READONLY)) or (denied := self._charge("list")):
            return denied
        ids = [i for i in request.query.get("id", "").split(",") if i]
        if len(ids) > 50:
            return Response(
                400, google_error(400, "The request specifies an invalid filter parameter.", "invalidFilters")
            )
        items = []
        for video_id in ids:
            if video_id not in self.videos:
                continue
            video = self.videos[video_id]
            stats = {"viewCount": str(video.views), "favoriteCount": "0"}
            if video.likes is not None:
                stats["likeCount"] = str(video.likes)
            if video.comments is not None:
                stats["commentCount"] = str(video.comments)
            items.append({"kind": "youtube#video", "id": video_id, "statistics": stats})
        return Response(200, {"kind": "youtube#videoListResponse", "items": items,
                              "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}})  # fmt: skip

    def _reports(self, request: Request, match: re.Match[str]) -> Response:
        if denied := self._auth(request, SCOPE_ANALYTICS):
            return denied
        q = request.query
        if q.get("ids") != "channel==MINE" or not q.get("startDate") or not q.get("endDate"):
            return Response(400, google_error(400, "Required: ids, startDate, endDate", "required", "global"))
        metrics = q.get("metrics", "").split(",")
        if self.reject_engaged_views and "engagedViews" in metrics:
            return Response(
                400,
                google_error(
                    400,
                    "Unknown identifier (engagedViews) given in field parameters.metrics.",
                    "badRequest",
                    "global",
                ),
            )
        if q.get("dimensions") != "video" or not q.get("filters", "").startswith("video=="):
            return Response(400, google_error(400, "The query is not supported.", "badRequest", "global"))
        ids = q["filters"][len("video==") :].split(",")
        if len(ids) > int(q.get("maxResults", "0")) or len(ids) > 200:
            return Response(
                400,
                google_error(400, "maxResults must be at most 200 for this report.", "badRequest", "global"),
            )
        types = {
            "views": "INTEGER",
            "engagedViews": "INTEGER",
            "averageViewDuration": "INTEGER",
            "averageViewPercentage": "FLOAT",
        }
        headers = [{"name": "video", "columnType": "DIMENSION", "dataType": "STRING"}]
        headers += [{"name": m, "columnType": "METRIC", "dataType": types.get(m, "FLOAT")} for m in metrics]
        rows = [[video_id, *(self.videos[video_id].analytics.get(m, 0) for m in metrics)]
                for video_id in ids if video_id in self.videos and self.videos[video_id].analytics]  # fmt: skip
        return Response(200, {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers, "rows": rows})
