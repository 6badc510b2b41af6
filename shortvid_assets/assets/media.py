"""Media: scene clips and the composed video, per day and theme."""

import functools
import tempfile
from pathlib import Path

import dagster as dg

from shortvid_assets.assets.content import video_script, voiceover
from shortvid_assets.assets.retries import no_retry_for_bad_input, outside_call_retry
from shortvid_assets.domain.captions import CaptionImage, render_caption_track
from shortvid_assets.domain.ffmpeg import FFmpegNotFoundError
from shortvid_assets.domain.fonts import emoji_font
from shortvid_assets.domain.probe import (
    MediaInfo,
    QualityCheck,
    check_audio,
    check_black,
    check_captions_safe_zone,
    check_duration,
    check_format,
    check_glyphs_drawn,
    check_loudness,
    probe_media,
)
from shortvid_assets.domain.render import RenderSpec, render_video
from shortvid_assets.domain.scenes import SceneClip
from shortvid_assets.domain.text import emoji_spans
from shortvid_assets.domain.timeline import place_cta_overlays, remap_overlays
from shortvid_assets.partitions import date_theme_partitions, split_date_theme
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.resources.video_format import VideoFormat
from shortvid_assets.resources.visuals import VisualProvider
from shortvid_assets.review.filing import place_for_review
from shortvid_assets.storage.generation_log import generation_cost

# Asset checks on composed_video; names are part of the UI and of `dagster asset check` history.
CHECK_FORMAT = "format_as_configured"
CHECK_DURATION = "duration_matches_plan"
CHECK_AUDIO = "audio_present_and_audible"
CHECK_LOUDNESS = "loudness_on_target"
CHECK_BLACK = "no_long_black_run"
CHECK_CAPTIONS = "captions_in_safe_zone"
CHECK_DRAWABLE = "captions_fully_drawn"
DURATION_TOLERANCE_S = 0.5
LOUDNESS_TOLERANCE_LU = 1.0
MAX_BLACK_S = 1.0


@dg.asset(
    partitions_def=date_theme_partitions,
    group_name="media",
    # After the voiceover: when speech cannot be fitted, its timeline sets the scene lengths (VOICE-2).
    deps=[video_script, voiceover],
    pool="render",
    kinds={"mp4"},
    retry_policy=outside_call_retry(delay_s=5),
)
@no_retry_for_bad_input
def scene_clips(
    context: dg.AssetExecutionContext,
    visuals: VisualProvider,
    video_format: VideoFormat,
    paths: ShortvidPaths,
):
    """One MP4 clip per scene of the plan, 2–4 s each, with credits for stock footage (VIDEO-1, VIDEO-3, VIDEO-4)."""
    day, slug = split_date_theme(context)
    store = paths.artifacts
    plan = store.read_plan(day, slug)
    folder = store.scene_dir(day, slug)
    durations = store.scene_durations(day, slug, plan)
    clips: list[SceneClip] = []
    for scene, duration_s in zip(plan.scenes, durations, strict=True):
        out = store.scene_clip(day, slug, scene.number)
        try:
            clip = visuals.scene_clip(
                out,
                duration_s=duration_s,
                width=video_format.width,
                height=video_format.height,
                fps=video_format.fps,
                seed=f"{slug}-{scene.number}",
                prompt=scene.visual_prompt,
            )
        except FFmpegNotFoundError as exc:  # a retry cannot bring the binary back
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        clips.append(clip)
        context.log.info(f"scene {scene.number}/{len(plan.scenes)}: {duration_s:.2f}s -> {out.name}")
    credits = [
        {"scene": s.number, "attribution": c.attribution, "source_url": c.source_url}
        for s, c in zip(plan.scenes, clips, strict=True)
        if c.attribution
    ]
    store.write_clips_manifest(clips, day, slug)
    metadata: dict[str, object] = {
        "provider": visuals.name,
        "clips": len(clips),
        "total_s": round(sum(durations), 2),
        "size": f"{video_format.width}x{video_format.height}",
        "folder": dg.MetadataValue.path(str(folder)),
        "cost_usd": round(sum(c.cost_usd for c in clips), 4),
    }
    if credits:
        metadata["attribution"] = dg.MetadataValue.md(
            "\n".join(f"- scene {c['scene']}: {c['attribution']}" for c in credits)
        )
    return dg.MaterializeResult(metadata=metadata)


def _progress_logger(context: dg.AssetExecutionContext, step: int = 10):
    reported = {"next": step}

    def report(percent: float) -> None:
        if percent >= reported["next"]:
            context.log.info(f"render {percent:.0f}%")
            reported["next"] = (int(percent) // step + 1) * step

    return report


def quality_checks(
    video: Path,
    info: MediaInfo,
    *,
    video_format: VideoFormat,
    planned_s: float,
    captions: list[CaptionImage],
    caption_text: str = "",
) -> dict[str, QualityCheck]:
    """Every composed_video check, by check name (pure of Dagster: measures the file)."""
    return {
        CHECK_FORMAT: check_format(
            info, width=video_format.width, height=video_format.height, fps=video_format.fps
        ),
        CHECK_DURATION: check_duration(info, planned_s, DURATION_TOLERANCE_S),
        CHECK_AUDIO: check_audio(video, info),
        CHECK_LOUDNESS: check_loudness(video, info, video_format.loudness_lufs, LOUDNESS_TOLERANCE_LU),
        CHECK_BLACK: check_black(video, MAX_BLACK_S),
        CHECK_CAPTIONS: check_captions_safe_zone(captions, video_format.width, video_format.height),
        CHECK_DRAWABLE: check_glyphs_drawn(
            caption_text, Path(video_format.font_path) if video_format.font_path else None
        ),
    }


def _check_result(name: str, check: QualityCheck) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=name,
        passed=check.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=check.description,
        metadata={k: v for k, v in check.metadata.items() if v is not None},
    )


@dg.asset(
    partitions_def=date_theme_partitions,
    group_name="media",
    deps=[video_script, voiceover, scene_clips],
    pool="render",
    kinds={"ffmpeg", "mp4"},
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_FORMAT, asset="composed_video", description="H.264/AAC, yuv420p, size and fps as configured"
        ),
        dg.AssetCheckSpec(
            CHECK_DURATION, asset="composed_video", description="Duration within ±0.5 s of the plan"
        ),
        dg.AssetCheckSpec(CHECK_AUDIO, asset="composed_video", description="Audio present and not silent"),
        dg.AssetCheckSpec(
            CHECK_LOUDNESS,
            asset="composed_video",
            description="Integrated loudness within ±1 LU of the target",
        ),
        dg.AssetCheckSpec(CHECK_BLACK, asset="composed_video", description="No black run longer than 1 s"),
        dg.AssetCheckSpec(
            CHECK_CAPTIONS, asset="composed_video", description="Every caption inside the 9:16 safe zone"
        ),
        dg.AssetCheckSpec(
            CHECK_DRAWABLE,
            asset="composed_video",
            description="Every character of the captions and overlays drawn by a caption font",
        ),
    ],
)
@no_retry_for_bad_input
def composed_video(
    context: dg.AssetExecutionContext,
    video_format: VideoFormat,
    paths: ShortvidPaths,
    review_db: ReviewDatabase,
):
    """The finished H.264/AAC MP4 with word-highlighted captions, overlays, voiceover and music, plus its thumbnail."""
    day, slug = split_date_theme(context)
    store = paths.artifacts
    plan = store.read_plan(day, slug)
    theme = paths.theme(slug)
    timeline = store.read_timeline(day, slug, plan)
    durations = timeline.scene_durations if timeline else [scene.duration_s for scene in plan.scenes]
    overlays = (
        remap_overlays(plan.text_overlays, timeline.plan_durations, timeline.scene_durations)
        if timeline
        else plan.text_overlays
    )
    words = store.read_words(day, slug)
    overlays = place_cta_overlays(overlays, words, sum(durations))
    scenes = store.read_clips_manifest(day, slug, len(plan.scenes))
    clips = [
        scene.composition_input(
            duration_s=d, width=video_format.width, height=video_format.height, fps=video_format.fps
        )
        for scene, d in zip(scenes, durations, strict=True)
    ]
    in_graph = sum(not isinstance(c, Path) for c in clips)
    video_out = store.composed(day, slug, "mp4")
    thumb_out = store.composed(day, slug, "jpg")
    video_out.parent.mkdir(parents=True, exist_ok=True)
    music = theme.music_path or video_format.music_path
    font = Path(video_format.font_path) if video_format.font_path else None
    total_s = sum(durations)

    spec = RenderSpec(
        clips=clips,
        clip_durations=durations,
        transitions=[s.transition for s in plan.scenes],
        captions=[],
        voice=store.voice(day, slug),
        music=Path(music) if music else None,
        music_volume=video_format.music_volume,
        width=video_format.width,
        height=video_format.height,
        fps=video_format.fps,
        preset=video_format.preset,
        crf=video_format.crf,
        loudness_lufs=video_format.loudness_lufs,
        thumbnail_at_s=video_format.thumbnail_at_s,
        caption_fade_s=video_format.caption_fade_s,
        duration_s=total_s,
    )
    context.log.info(
        f"{slug}: rendering {total_s:.1f}s at {video_format.width}x{video_format.height} "
        f"({video_format.preset}), {len(overlays)} overlays, {len(words)} spoken words, "
        f"{in_graph}/{len(clips)} scenes drawn in-graph"
    )
    with tempfile.TemporaryDirectory(prefix="captions-", dir=video_out.parent) as tmp:
        # Drawn while the soundtrack is mixed in another process.
        draw_captions = functools.partial(
            render_caption_track,
            words,
            overlays,
            Path(tmp),
            width=video_format.width,
            height=video_format.height,
            font_path=font,
            style=video_format.caption_style(),
            language=plan.language,
        )
        result = render_video(
            spec,
            video_out,
            thumb_out,
            timeout_s=video_format.render_timeout_s,
            on_progress=_progress_logger(context),
            captions=draw_captions,
        )
    track = result.captions
    assert track is not None  # render_video returns the track it was given to draw
    info = probe_media(video_out)
    caption_text = " ".join([*(o.text for o in overlays), *(w.word for w in words)])
    checks = quality_checks(
        video_out,
        info,
        video_format=video_format,
        planned_s=total_s,
        captions=track.boxes,
        caption_text=caption_text,
    )
    review_copy = place_for_review(store, day, slug, video_out, thumb_out)
    context.log.info(f"{slug}: rendered {info.duration_s:.1f}s in {result.seconds:.1f}s -> {review_copy}")
    with review_db.generation_log_connection() as conn:
        llm_cost = generation_cost(conn, day, slug, lineage_only=True)
    visuals_cost = sum(scene.cost_usd for scene in scenes)
    failed = [name for name, check in checks.items() if not check.passed]
    if failed:
        context.log.warning(f"{slug}: checks failed: {', '.join(failed)}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(video_out)),
            "review_copy": dg.MetadataValue.path(str(review_copy)),
            "thumbnail": dg.MetadataValue.path(str(thumb_out)),
            "duration_s": round(info.duration_s, 2),
            "plan_duration_s": round(total_s, 2),
            "resolution": f"{info.width}x{info.height}",
            "codecs": f"{info.video_codec}/{info.audio_codec}",
            "fps": info.fps,
            "size_mb": round(video_out.stat().st_size / 1e6, 2),
            "captions": len(track.overlays) + sum(len(s.states) for s in track.streams),
            "music": music or "none",
            "scenes_drawn_in_graph": in_graph,
            "render_seconds": round(result.seconds, 2),
            "render_stage_seconds": dg.MetadataValue.json(result.stage_seconds),
            "title": plan.title,
            "language": plan.language,
            "emoji_drawn": len(emoji_spans(caption_text)) if emoji_font() is not None else 0,
            "emoji_removed": 0 if emoji_font() is not None else len(emoji_spans(caption_text)),
            # REVIEW-5: what this video's lineage cost: its script, voiceover and scene clips
            "cost_usd": round(llm_cost + visuals_cost, 6),
            "cost_breakdown": dg.MetadataValue.json(
                {"script_and_voice_usd": round(llm_cost, 6), "visuals_usd": round(visuals_cost, 6)}
            ),
        },
        check_results=[_check_result(name, check) for name, check in checks.items()],
    )
