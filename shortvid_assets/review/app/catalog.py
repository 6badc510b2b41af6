"""What the review page shows: the videos in the output folders, their scripts and costs."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from shortvid_assets.domain.models import VideoPlan
from shortvid_assets.storage.artifacts import REVIEW_FOLDERS, Artifacts

# ASCII digits only and matched whole (`\d` takes other scripts' digits and `$` a trailing newline):
# a partition has exactly one spelling, the one its files and decisions use.
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
THEME = re.compile(r"[a-z0-9-]{1,64}")
_VIDEO_NAME = re.compile(r"(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})_(?P<theme>[a-z0-9-]{1,64})\.mp4")
MEDIA_TYPES = {"mp4": "video/mp4", "jpg": "image/jpeg"}


class VideoEntry(BaseModel):
    """One composed video in an output folder."""

    model_config = ConfigDict(frozen=True)

    day: str
    theme: str
    folder: str

    @property
    def status(self) -> str:
        return {"review": "awaiting review"}.get(self.folder, self.folder)


def is_partition(day: str, theme: str) -> bool:
    """True for a canonical YYYY-MM-DD date and theme slug (nothing else reaches the file system or the table)."""
    if not (DAY.fullmatch(day) and THEME.fullmatch(theme)):
        return False
    try:
        return dt.date.fromisoformat(day).isoformat() == day
    except ValueError:
        return False


def list_videos(artifacts: Artifacts) -> list[VideoEntry]:
    """Every composed video in output/review, approved and rejected; newest date first."""
    found = []
    for folder in REVIEW_FOLDERS:
        directory = Path(artifacts.output_dir) / folder
        if not directory.is_dir():
            continue
        for item in directory.iterdir():
            match = _VIDEO_NAME.fullmatch(item.name)
            if match and _servable(item, directory) and is_partition(match["day"], match["theme"]):
                found.append(VideoEntry(day=match["day"], theme=match["theme"], folder=folder))
    return sorted(found, key=lambda v: (v.day, v.theme), reverse=True)


def find_entry(artifacts: Artifacts, day: str, theme: str) -> VideoEntry | None:
    """The video of one partition, wherever it is filed."""
    if not is_partition(day, theme):
        return None
    for folder in REVIEW_FOLDERS:
        if _servable(artifacts.review_file(folder, day, theme, "mp4"), Path(artifacts.output_dir) / folder):
            return VideoEntry(day=day, theme=theme, folder=folder)
    return None


def _servable(path: Path, folder: Path) -> bool:
    """A regular file (not a link) directly inside `folder`: what the list shows is what media serves."""
    return not path.is_symlink() and path.is_file() and path.parent.resolve() == folder.resolve()


def media_file(artifacts: Artifacts, day: str, theme: str, ext: str) -> Path | None:
    """The MP4 or thumbnail of a partition, only if it really lies inside an output folder.

    The name is built from a validated date and slug, never from the request path; the file must
    be a regular file directly inside one of the three output folders, and not a link (shortvid
    files videos by renaming, never by linking), so a link planted there exposes nothing and is
    not listed either.
    """
    if ext not in MEDIA_TYPES or not is_partition(day, theme):
        return None
    for folder in REVIEW_FOLDERS:
        candidate = artifacts.review_file(folder, day, theme, ext)
        if _servable(candidate, Path(artifacts.output_dir) / folder):
            return candidate.resolve()
    return None


def read_script(artifacts: Artifacts, day: str, theme: str) -> VideoPlan | None:
    """The production plan from data/video_script/<date>/<theme>.json, or None if missing or unreadable."""
    path = artifacts.plan(day, theme)
    try:
        return VideoPlan.model_validate_json(path.read_text())
    except (OSError, ValidationError):
        return None
