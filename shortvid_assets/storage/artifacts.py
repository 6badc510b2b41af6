"""Where every stage's files live, and their typed reads and writes. The one module that knows the layout.

Intermediate artifacts sit under the data folder as `<asset>/<date>.<ext>` (daily stages) and
`<asset>/<date>/<theme>.<ext>` (date × theme stages); finished videos and thumbnails sit in the
output folder as `<review|approved|rejected>/<date>_<theme>.<ext>`. Every write goes to a
temporary name and is renamed into place, so a crash never leaves a partial file at a final path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from shortvid_assets.domain.files import atomic_path, write_text_atomic
from shortvid_assets.domain.models import TrendReport, VideoPlan, WordTiming
from shortvid_assets.domain.publishing import PerformanceReport, StatsSnapshot
from shortvid_assets.domain.scenes import SceneClip
from shortvid_assets.domain.timeline import SceneTimeline

REVIEW_FOLDERS = ("review", "approved", "rejected")
FOLDER_BY_STATUS = {"pending": "review", "approved": "approved", "rejected": "rejected"}
CLIPS_MANIFEST = "clips.json"  # one SceneClip per scene: path, provider, credit, cost, in-graph recipe
TIMELINE_EXT = "timeline.json"
_DURATION_MATCH_S = 1e-3

if TYPE_CHECKING:  # pandas is imported where a table is read, so the review page never loads it
    import pandas as pd


class MissingArtifact(FileNotFoundError):
    """An upstream stage's file is not there: materialize that stage first."""


class StaleTimelineError(RuntimeError):
    """The voiceover's scene timeline was made for another version of the plan."""


@dataclass(frozen=True)
class Artifacts:
    """The data folder (stage artifacts) and the output folder (videos by review state)."""

    data_dir: Path
    output_dir: Path

    # --- the layout -----------------------------------------------------------------------------------

    def daily(self, asset: str, day: str, ext: str) -> Path:
        return Path(self.data_dir) / asset / f"{day}.{ext}"

    def per_theme(self, asset: str, day: str, theme: str, ext: str) -> Path:
        return Path(self.data_dir) / asset / day / f"{theme}.{ext}"

    def scene_dir(self, day: str, theme: str) -> Path:
        return Path(self.data_dir) / "scene_clips" / day / theme

    def review_file(self, folder: str, day: str, theme: str, ext: str) -> Path:
        """A finished video (or its thumbnail) in output/<review|approved|rejected>/."""
        return Path(self.output_dir) / folder / f"{day}_{theme}.{ext}"

    # --- trends (daily) -------------------------------------------------------------------------------

    def collected(self, platform: str, day: str) -> Path:
        """One platform's collection of a day, as collected (Parquet)."""
        return self.daily(f"{platform}_trends", day, "parquet")

    def trends(self, day: str) -> Path:
        return self.daily("trends", day, "parquet")

    def snapshots(self, day: str) -> Path:
        return self.daily("trend_snapshots", day, "parquet")

    def write_table(self, frame: pd.DataFrame, path: Path) -> Path:
        with atomic_path(path) as tmp:
            frame.to_parquet(tmp, index=False)
        return path

    def read_collected(self, platform: str, day: str) -> pd.DataFrame:
        import pandas as pd

        path = self.collected(platform, day)
        if not path.exists():
            raise MissingArtifact(
                f"no {platform} trends for {day}: materialize {platform}_trends for that day first"
            )
        return pd.read_parquet(path)

    def read_snapshots(self, day: date) -> pd.DataFrame | None:
        """A day's snapshots (or, for data older than snapshots, its trends table); None if never collected."""
        import pandas as pd

        for path in (self.snapshots(day.isoformat()), self.trends(day.isoformat())):
            if path.exists():
                return pd.read_parquet(path)
        return None

    def report(self, day: str) -> Path:
        return self.daily("trend_report", day, "json")

    def velocity_chart(self, day: str) -> Path:
        return self.daily("trend_report", day, "velocity.png")

    def write_report(self, report: TrendReport, day: str) -> Path:
        return write_text_atomic(self.report(day), report.model_dump_json(indent=2))

    def read_report(self, day: str) -> TrendReport:
        """The stored trend report of `day`, validated."""
        path = self.report(day)
        if not path.exists():
            raise MissingArtifact(f"no trend report for {day}: materialize trend_report for that day first")
        return TrendReport.model_validate(json.loads(path.read_text()))

    # --- content (date × theme) -----------------------------------------------------------------------

    def plan(self, day: str, theme: str) -> Path:
        return self.per_theme("video_script", day, theme, "json")

    def write_plan(self, plan: VideoPlan, day: str, theme: str) -> Path:
        return write_text_atomic(self.plan(day, theme), plan.model_dump_json(indent=2))

    def read_plan(self, day: str, theme: str) -> VideoPlan:
        path = self.plan(day, theme)
        if not path.exists():
            raise MissingArtifact(
                f"no production plan for {day}|{theme}: materialize video_script for it first"
            )
        return VideoPlan.model_validate_json(path.read_text())

    def voice(self, day: str, theme: str) -> Path:
        return self.per_theme("voiceover", day, theme, "wav")

    def words(self, day: str, theme: str) -> Path:
        return self.per_theme("voiceover", day, theme, "words.json")

    def write_words(self, words: list[WordTiming], day: str, theme: str) -> Path:
        return write_text_atomic(self.words(day, theme), json.dumps([w.model_dump() for w in words], indent=1))

    def read_words(self, day: str, theme: str) -> list[WordTiming]:
        path = self.words(day, theme)
        if not path.exists():
            raise MissingArtifact(f"no word timings for {day}|{theme}: materialize voiceover for it first")
        return [WordTiming.model_validate(w) for w in json.loads(path.read_text())]

    def timeline(self, day: str, theme: str) -> Path:
        """`voiceover/<date>/<theme>.timeline.json`: adapted scene durations, present only when they differ."""
        return self.per_theme("voiceover", day, theme, TIMELINE_EXT)

    def write_timeline(self, timeline: SceneTimeline | None, day: str, theme: str) -> Path | None:
        """Store the adapted timeline, or remove an old one when the plan's durations stand."""
        path = self.timeline(day, theme)
        if timeline is None:
            path.unlink(missing_ok=True)  # one from an earlier, longer voiceover would be stale
            return None
        return write_text_atomic(path, timeline.model_dump_json(indent=1))

    def read_timeline(self, day: str, theme: str, plan: VideoPlan) -> SceneTimeline | None:
        """The voiceover's adapted scene timing for `plan`, or None when the plan's durations stand."""
        path = self.timeline(day, theme)
        if not path.exists():
            return None
        timeline = SceneTimeline.model_validate_json(path.read_text())
        planned = [scene.duration_s for scene in plan.scenes]
        if len(planned) != len(timeline.plan_durations) or any(
            abs(a - b) > _DURATION_MATCH_S for a, b in zip(planned, timeline.plan_durations, strict=False)
        ):
            raise StaleTimelineError(
                f"{path} was made for scene durations {timeline.plan_durations}, but the plan now has "
                f"{planned}: re-materialize voiceover for {day}|{theme}"
            )
        return timeline

    def scene_durations(self, day: str, theme: str, plan: VideoPlan) -> list[float]:
        """The scene durations to render: the voiceover's adapted timeline when it has one, else the plan's."""
        timeline = self.read_timeline(day, theme, plan)
        return list(timeline.scene_durations) if timeline else [scene.duration_s for scene in plan.scenes]

    # --- media (date × theme) -------------------------------------------------------------------------

    def scene_clip(self, day: str, theme: str, number: int) -> Path:
        return self.scene_dir(day, theme) / f"scene-{number:02d}.mp4"

    def write_clips_manifest(self, clips: list[SceneClip], day: str, theme: str) -> Path:
        path = self.scene_dir(day, theme) / CLIPS_MANIFEST
        return write_text_atomic(path, json.dumps([c.model_dump() for c in clips], indent=1))

    def read_clips_manifest(self, day: str, theme: str, scenes: int) -> list[SceneClip]:
        """The scene_clips manifest, one entry per scene; stored MP4s alone when it predates the manifest."""
        manifest = self.scene_dir(day, theme) / CLIPS_MANIFEST
        if not manifest.exists():
            return [
                SceneClip(path=str(self.scene_clip(day, theme, n)), provider="unknown")
                for n in range(1, scenes + 1)
            ]
        clips = [SceneClip.model_validate(c) for c in json.loads(manifest.read_text())]
        if len(clips) != scenes:
            raise ValueError(
                f"{manifest} lists {len(clips)} clips but the plan has {scenes} scenes: re-materialize scene_clips"
            )
        return clips

    def composed(self, day: str, theme: str, ext: str = "mp4") -> Path:
        """The render's own copy (`mp4`, thumbnail `jpg`); the reviewed copy is in the output folder."""
        return self.per_theme("composed_video", day, theme, ext)

    # --- finished videos by review state --------------------------------------------------------------

    def find_video(self, day: str, theme: str) -> Path | None:
        """The partition's composed MP4 in output/review, approved or rejected; None when there is none."""
        for folder in REVIEW_FOLDERS:
            video = self.review_file(folder, day, theme, "mp4")
            if video.is_file():
                return video
        return None

    # --- publishing (daily) ---------------------------------------------------------------------------

    def performance(self, day: str) -> Path:
        """`video_performance/<date>.json`: that day's reading of every published video (StatsSnapshot rows)."""
        return self.daily("video_performance", day, "json")

    def performance_report(self, day: str) -> Path:
        """`video_performance/<date>.report.json`: own videos ranked, each theme's best hook and style."""
        return self.daily("video_performance", day, "report.json")

    def write_performance(self, rows: list[dict], report: PerformanceReport, day: str) -> tuple[Path, Path]:
        snapshots = write_text_atomic(self.performance(day), json.dumps(rows, indent=1, default=str))
        return snapshots, write_text_atomic(self.performance_report(day), report.model_dump_json(indent=2))

    def read_performance_snapshots(self, up_to: date) -> list[StatsSnapshot]:
        """Every daily snapshot on or before `up_to`, oldest first: what growth per day is measured from."""
        folder = Path(self.data_dir) / "video_performance"
        snapshots: list[StatsSnapshot] = []
        for path in sorted(folder.glob("????-??-??.json")):
            if date.fromisoformat(path.name[:10]) <= up_to:
                snapshots.extend(StatsSnapshot.model_validate(row) for row in json.loads(path.read_text()))
        return snapshots

    def latest_performance_report(self, on_or_before: str) -> tuple[PerformanceReport, Path] | None:
        """The newest performance report dated on or before `on_or_before`; None before the first one."""
        folder = Path(self.data_dir) / "video_performance"
        reports = sorted(p for p in folder.glob("????-??-??.report.json") if p.name[:10] <= on_or_before)
        if not reports:
            return None
        return PerformanceReport.model_validate_json(reports[-1].read_text()), reports[-1]
