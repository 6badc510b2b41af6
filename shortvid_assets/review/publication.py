"""What reviewers are told about a video's publication: the platform, the status, and the video once published.

The review page and `shortvid review list` read it from here. It never carries the upload session
URI (a credential to the resumable upload), so nothing built from it can show one; it reads a
database where publishing never ran (no `publications` table) as "not published".
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import psycopg2.extensions
from pydantic import BaseModel, ConfigDict, Field

from shortvid_assets.storage import publications


class PublicationShown(BaseModel):
    """A video's publication as a reviewer sees it."""

    model_config = ConfigDict(frozen=True)

    platform: str
    status: publications.Status
    remote_id: str | None = Field(description="The platform's video id; only once published.")
    link: str | None = Field(description="The video's http(s) address; only once published.")
    other_render: bool = Field(description="The published file is not the render the caller judged.")

    @property
    def published(self) -> bool:
        return self.status == "published"


def _web_link(url: str | None) -> str | None:
    """`url` when it is an http(s) address (a row typed in a SQL client may hold anything)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("https", "http") and parts.netloc else None


def publication_shown(
    conn: psycopg2.extensions.connection,
    partition_date: dt.date | str,
    theme: str,
    *,
    video_sha256: str | None = None,
) -> PublicationShown | None:
    """The publication of a video (the newest on any platform), or None when it was never published.

    With `video_sha256` (the render a decision or page is about), `other_render` says whether the
    publication is of a different file.
    """
    found = publications.publication_for(conn, partition_date, theme)
    if found is None:
        return None
    published = found.status == "published"
    return PublicationShown(
        platform=found.platform,
        status=found.status,
        remote_id=found.remote_id if published else None,
        link=_web_link(found.url) if published else None,
        other_render=video_sha256 is not None and found.video_sha256 != video_sha256,
    )
