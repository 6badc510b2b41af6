"""Jobs whose one stage fails for good (no step retries), rebuilt by name in any process.

A stage is broken through the resource it writes its own artifact with: `BrokenPaths` refuses the
stage's own path (every stage names its artifact before any downstream stage reads it), and the
review stage gets a review database that refuses connections.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from shortvid_assets.definitions import build_resources
from shortvid_assets.orchestration.jobs import TRENDS_JOB, VIDEO_JOB
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.resources.video_format import VideoFormat
from shortvid_assets.storage.artifacts import Artifacts

SMALL = {"width": 216, "height": 384, "preset": "ultrafast", "crf": 30}


def injected_failure(stage: str) -> dg.Failure:
    return dg.Failure(f"injected failure in {stage}", allow_retries=False)


@dataclass(frozen=True)
class BrokenArtifacts(Artifacts):
    """The artifact layout, refusing the artifact of one stage."""

    broken: str = ""

    def daily(self, asset: str, day: str, ext: str) -> Path:
        if asset == self.broken:
            raise injected_failure(asset)
        return super().daily(asset, day, ext)

    def per_theme(self, asset: str, day: str, theme: str, ext: str) -> Path:
        if asset == self.broken:
            raise injected_failure(asset)
        return super().per_theme(asset, day, theme, ext)

    def scene_dir(self, day: str, theme: str) -> Path:
        if self.broken == "scene_clips":
            raise injected_failure("scene_clips")
        return super().scene_dir(day, theme)


class BrokenPaths(ShortvidPaths):
    """Paths whose artifact layout refuses the artifact of one stage."""

    broken: str = ""

    @property
    def artifacts(self) -> Artifacts:
        return BrokenArtifacts(Path(self.data_dir), Path(self.output_dir), broken=self.broken)


class BrokenReviewDatabase(ReviewDatabase):
    """A review database that is down."""

    def connection(self):
        raise injected_failure("review_status")


def load_job(job_name: str, broken: str, data_dir: str, output_dir: str, themes_file: str, review_url: str):
    """`job_name` on tiny offline resources in the given folders, with stage `broken` failing ("" = none)."""
    from shortvid_assets.definitions import build_definitions

    resources = {
        **build_resources(),
        "paths": BrokenPaths(
            data_dir=data_dir, output_dir=output_dir, themes_file=themes_file, broken=broken
        ),
        "video_format": VideoFormat(**SMALL),
        "review_db": (BrokenReviewDatabase if broken == "review_status" else ReviewDatabase)(url=review_url),
    }
    return build_definitions(resources).resolve_job_def(job_name)


def reconstructable(job_name: str, broken: str, paths: ShortvidPaths, review_url: str):
    assert job_name in (TRENDS_JOB, VIDEO_JOB)
    return dg.build_reconstructable_job(
        "shortvid_assets_tests.test_operations.broken_stages",
        "load_job",
        reconstructable_args=(
            job_name,
            broken,
            paths.data_dir,
            paths.output_dir,
            paths.themes_file,
            review_url,
        ),
    )
