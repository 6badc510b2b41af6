"""Media: scene clips and the composed video, per day and theme."""

import json
import shutil
import tempfile
from pathlib import Path

import dagster as dg

from shortvid_assets.assets.content import read_plan, video_script, voiceover
from shortvid_assets.domain.captions import caption_cues_from_words, overlay_cues, render_caption_png
from shortvid_assets.domain.files import atomic_path
from shortvid_assets.domain.models import WordTiming
from shortvid_assets.domain.probe import probe_media
from shortvid_assets.domain.render import RenderSpec, render_video
from shortvid_assets.partitions import date_theme_partitions, split_date_theme
from shortvid_assets.resources.paths import REVIEW_FOLDERS, ShortvidPaths
from shortvid_assets.resources.video_format import VideoFormat
from shortvid_assets.resources.visuals import VisualProvider


@dg.asset(
    partitions_def=date_theme_partitions,
    group_name="media",
    deps=[video_script],
    pool="render",
    kinds={"mp4"},
)
def scene_clips(
    context: dg.AssetExecutionContext,
    visuals: VisualProvider,
    video_format: VideoFormat,
    paths: ShortvidPaths,
):
    """One MP4 clip per scene of the plan, 2–4 s each (VIDEO-1, VIDEO-3, VIDEO-4)."""
    day, slug = split_date_theme(context)
    plan = read_plan(paths, day, slug)
    folder = paths.scene_dir(day, slug)
    clips = []
    for scene in plan.scenes:
        out = folder / f"scene-{scene.number:02d}.mp4"
        visuals.scene_clip(
            out,
            duration_s=scene.duration_s,
            width=video_format.width,
            height=video_format.height,
            seed=f"{slug}-{scene.number}",
            prompt=scene.visual_prompt,
        )
        clips.append(out)
        context.log.info(f"scene {scene.number}/{len(plan.scenes)}: {scene.duration_s:.2f}s -> {out.name}")
    return dg.MaterializeResult(
        metadata={
            "provider": visuals.name,
            "clips": len(clips),
            "total_s": round(plan.duration_s, 2),
            "size": f"{video_format.width}x{video_format.height}",
            "folder": dg.MetadataValue.path(str(folder)),
        }
    )


def _progress_logger(context: dg.AssetExecutionContext, step: int = 10):
    reported = {"next": step}

    def report(percent: float) -> None:
        if percent >= reported["next"]:
            context.log.info(f"render {percent:.0f}%")
            reported["next"] = (int(percent) // step + 1) * step

    return report


def _publish_for_review(paths: ShortvidPaths, day: str, slug: str, video: Path, thumbnail: Path) -> Path:
    """Put a new video in output/review/ (REVIEW-1); older copies elsewhere await a new decision."""
    for folder in REVIEW_FOLDERS:
        for ext in ("mp4", "jpg"):
            paths.review_file(folder, day, slug, ext).unlink(missing_ok=True)
    target = paths.review_file("review", day, slug, "mp4")
    for src, dst in ((video, target), (thumbnail, paths.review_file("review", day, slug, "jpg"))):
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
    return target


@dg.asset(
    partitions_def=date_theme_partitions,
    group_name="media",
    deps=[video_script, voiceover, scene_clips],
    pool="render",
    kinds={"ffmpeg", "mp4"},
)
def composed_video(context: dg.AssetExecutionContext, video_format: VideoFormat, paths: ShortvidPaths):
    """The finished 9:16 H.264/AAC MP4 with captions, voiceover and music, plus its thumbnail (COMP-1..5)."""
    day, slug = split_date_theme(context)
    plan = read_plan(paths, day, slug)
    theme = paths.theme(slug)
    words_path = paths.per_theme("voiceover", day, slug, "words.json")
    words = [WordTiming.model_validate(w) for w in json.loads(words_path.read_text())]
    clips = [paths.scene_dir(day, slug) / f"scene-{s.number:02d}.mp4" for s in plan.scenes]
    video_out = paths.per_theme("composed_video", day, slug, "mp4")
    thumb_out = paths.per_theme("composed_video", day, slug, "jpg")
    music = theme.music_path or video_format.music_path
    font = Path(video_format.font_path) if video_format.font_path else None

    with tempfile.TemporaryDirectory(
        prefix="captions-", dir=video_out.parent if video_out.parent.exists() else None
    ) as tmp:
        cues = [*overlay_cues(plan.text_overlays), *caption_cues_from_words(words)]
        captions = [
            render_caption_png(
                cue,
                Path(tmp) / f"cue-{i:03d}.png",
                width=video_format.width,
                height=video_format.height,
                font_path=font,
            )
            for i, cue in enumerate(cues)
        ]
        spec = RenderSpec(
            clips=clips,
            clip_durations=[s.duration_s for s in plan.scenes],
            transitions=[s.transition for s in plan.scenes],
            captions=captions,
            voice=paths.per_theme("voiceover", day, slug, "wav"),
            music=Path(music) if music else None,
            music_volume=video_format.music_volume,
            width=video_format.width,
            height=video_format.height,
            fps=video_format.fps,
            preset=video_format.preset,
            crf=video_format.crf,
            loudness_lufs=video_format.loudness_lufs,
            thumbnail_at_s=video_format.thumbnail_at_s,
            duration_s=plan.duration_s,
        )
        result = render_video(
            spec,
            video_out,
            thumb_out,
            timeout_s=video_format.render_timeout_s,
            on_progress=_progress_logger(context),
        )
    info = probe_media(video_out)
    review_copy = _publish_for_review(paths, day, slug, video_out, thumb_out)
    context.log.info(f"{slug}: rendered {info.duration_s:.1f}s in {result.seconds:.1f}s -> {review_copy}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(video_out)),
            "review_copy": dg.MetadataValue.path(str(review_copy)),
            "thumbnail": dg.MetadataValue.path(str(thumb_out)),
            "duration_s": round(info.duration_s, 2),
            "plan_duration_s": round(plan.duration_s, 2),
            "resolution": f"{info.width}x{info.height}",
            "codecs": f"{info.video_codec}/{info.audio_codec}",
            "fps": info.fps,
            "size_mb": round(video_out.stat().st_size / 1e6, 2),
            "captions": len(captions),
            "music": music or "none",
            "render_seconds": round(result.seconds, 2),
            "title": plan.title,
        }
    )
