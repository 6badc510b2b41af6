"""Filing finished videos by review state: a new render waits in review/, a decision moves it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from shortvid_assets.domain.files import atomic_path
from shortvid_assets.storage.artifacts import FOLDER_BY_STATUS, REVIEW_FOLDERS, Artifacts

FILED_EXTENSIONS = ("mp4", "jpg")  # the video and its thumbnail move together


def place_for_review(artifacts: Artifacts, day: str, theme: str, video: Path, thumbnail: Path) -> Path:
    """Put a new render in output/review/ (older copies in any folder go: they await a new decision)."""
    for folder in REVIEW_FOLDERS:
        for ext in FILED_EXTENSIONS:
            artifacts.review_file(folder, day, theme, ext).unlink(missing_ok=True)
    target = artifacts.review_file("review", day, theme, "mp4")
    for src, dst in ((video, target), (thumbnail, artifacts.review_file("review", day, theme, "jpg"))):
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
    return target


def file_video(artifacts: Artifacts, day: str, theme: str, status: str) -> str | None:
    """Move the partition's MP4 and thumbnail into the folder for `status`; the MP4's new path."""
    target_folder = FOLDER_BY_STATUS[status]
    placed = None
    for ext in FILED_EXTENSIONS:
        target = artifacts.review_file(target_folder, day, theme, ext)
        for folder in REVIEW_FOLDERS:
            source = artifacts.review_file(folder, day, theme, ext)
            if folder != target_folder and source.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
        if ext == "mp4" and target.exists():
            placed = str(target)
    return placed
