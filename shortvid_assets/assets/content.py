"""Content generation: the production plan and its voiceover, per day and theme.

Both assets run in the `openai` pool (its limit caps simultaneous OpenAI calls in a backfill),
log which implementation runs, report their cost, and write a `generation_log` row for every
attempt, failed ones included (REVIEW-2, REVIEW-5).
"""

import json
from pathlib import Path
from typing import Any

import dagster as dg

from shortvid_assets.assets.trends import read_report, trend_report
from shortvid_assets.clients.openai_writer import OpenAIClientError
from shortvid_assets.domain.audio_fit import fit_to_duration
from shortvid_assets.domain.costs import UnknownModelPriceError, total_cost
from shortvid_assets.domain.files import write_text_atomic
from shortvid_assets.domain.models import VideoPlan
from shortvid_assets.domain.offline_voice import write_wav
from shortvid_assets.domain.timeline import SceneTimeline, timeline_for
from shortvid_assets.partitions import by_date, date_theme_partitions, split_date_theme
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.resources.script_writers import ScriptWriter
from shortvid_assets.resources.voices import VoiceProvider
from shortvid_assets.storage import generation_log

llm_retry = dg.RetryPolicy(
    max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
TIMELINE_EXT = "timeline.json"
_DURATION_MATCH_S = 1e-3


class StaleTimelineError(RuntimeError):
    """The voiceover's scene timeline was made for another version of the plan."""


def _failure(exc: Exception, what: str, row: generation_log.GenerationRecord) -> dg.Failure:
    """A step failure carrying what was already spent.

    OpenAI errors are final for the step: the SDK has already retried the failed call itself
    (`max_retries`, exponential backoff, honouring Retry-After), and a step retry would pay again
    for the calls of the chain that had succeeded. `transient` says whether running later may help.
    Other errors (a database or synthesizer hiccup) keep the step's retry policy, except
    configuration errors (missing key, unpriced model), which would fail the same way again.
    """
    transient = exc.retryable if isinstance(exc, OpenAIClientError) else True
    if isinstance(exc, UnknownModelPriceError | ValueError):
        transient = False
    return dg.Failure(
        description=f"{what} failed: {exc}",
        metadata={
            "error": str(exc),
            "cost_usd": round(row.cost_usd, 6),
            "paid_calls": dg.MetadataValue.json(row.calls),
            "generation_log_id": row.id,
            "transient": transient,
        },
        allow_retries=transient and not isinstance(exc, OpenAIClientError),
    )


def _calls_of(exc: Exception) -> list[dict[str, Any]]:
    return [call.to_dict() for call in getattr(exc, "calls", [])]


@dg.asset(
    partitions_def=date_theme_partitions,
    group_name="content",
    deps=[dg.AssetDep(trend_report, partition_mapping=by_date)],
    retry_policy=llm_retry,
    pool="openai",
    kinds={"openai", "json"},
)
def video_script(
    context: dg.AssetExecutionContext,
    script_writer: ScriptWriter,
    paths: ShortvidPaths,
    review_db: ReviewDatabase,
):
    """The production plan for the day's video of one theme: scenes, voiceover, overlays, hashtags (SCRIPT-3)."""
    day, slug = split_date_theme(context)
    theme = paths.theme(slug)
    report = read_report(paths, day)
    path = paths.per_theme("video_script", day, slug, "json")
    context.log.info(f"{slug}: script writer {script_writer.describe()}")
    with review_db.generation_log_connection() as conn:
        entry = {"date": day, "theme": slug, "asset": "video_script", "run_id": context.run_id}
        try:
            written = script_writer.write(theme, report)
        except Exception as exc:
            calls = _calls_of(exc)
            row = generation_log.record_generation(
                conn,
                **entry,
                implementation=script_writer.implementation,
                status="failed",
                model=getattr(script_writer, "model", None),
                calls=calls,
                cost_usd=sum(call["cost_usd"] for call in calls),
                error=str(exc),
            )
            context.log.error(f"{slug}: no plan (generation log #{row.id}, ${row.cost_usd:.5f} spent): {exc}")
            raise _failure(exc, f"video_script for {day}|{slug}", row) from None
        plan = written.plan
        write_text_atomic(path, plan.model_dump_json(indent=2))
        row = generation_log.record_generation(
            conn,
            **entry,
            implementation=written.writer,
            status="succeeded",
            trend_pattern=plan.trend_pattern,
            prompts=written.prompts,
            model=written.model,
            calls=[call.to_dict() for call in written.paid_calls],
            cost_usd=written.cost_usd,
            output_path=str(path),
        )
    context.log.info(
        f"{slug}: {written.writer} writer, {len(plan.scenes)} scenes, {plan.duration_s:.1f}s, "
        f"${written.cost_usd:.5f} (generation log #{row.id})"
    )
    metadata: dict[str, Any] = {
        "writer": written.writer,
        "title": plan.title,
        "hook": f"{plan.hook_type}: {plan.hook_text}",
        "scenes": len(plan.scenes),
        "duration_s": round(plan.duration_s, 2),
        "hashtags": " ".join(f"#{t}" for t in plan.hashtags),
        "trend_pattern": plan.trend_pattern,
        "voiceover_words": len(plan.voiceover_script.split()),
        "cost_usd": round(written.cost_usd, 6),
        "generation_log_id": row.id,
        "path": dg.MetadataValue.path(str(path)),
    }
    if written.model:
        metadata.update(
            model=written.model,
            temperature=written.temperature,
            seed=written.seed,
            llm_calls=written.calls,
            repaired=written.repaired,
            prompts=dg.MetadataValue.json(written.prompts),
            paid_calls=dg.MetadataValue.json(row.calls),
        )
    return dg.MaterializeResult(metadata=metadata)


def read_plan(paths: ShortvidPaths, day: str, slug: str) -> VideoPlan:
    path = paths.per_theme("video_script", day, slug, "json")
    if not path.exists():
        raise FileNotFoundError(
            f"no production plan at {path}: materialize video_script for {day}|{slug} first"
        )
    return VideoPlan.model_validate_json(path.read_text())


def timeline_path(paths: ShortvidPaths, day: str, theme: str) -> Path:
    """`voiceover/<date>/<theme>.timeline.json`: adapted scene durations, present only when they differ from the plan."""
    return paths.per_theme("voiceover", day, theme, TIMELINE_EXT)


def read_timeline(paths: ShortvidPaths, day: str, theme: str, plan: VideoPlan) -> SceneTimeline | None:
    """The voiceover's adapted scene timing for `plan`, or None when the plan's durations stand."""
    path = timeline_path(paths, day, theme)
    if not path.exists():
        return None
    timeline = SceneTimeline.model_validate_json(path.read_text())
    planned = [scene.duration_s for scene in plan.scenes]
    if len(planned) != len(timeline.plan_durations) or any(
        abs(a - b) > _DURATION_MATCH_S for a, b in zip(planned, timeline.plan_durations, strict=False)
    ):
        raise StaleTimelineError(
            f"{path} was made for scene durations {timeline.plan_durations}, but the plan now has {planned}: "
            f"re-materialize voiceover for {day}|{theme}"
        )
    return timeline


def read_scene_durations(paths: ShortvidPaths, day: str, theme: str, plan: VideoPlan) -> list[float]:
    """The scene durations to render: the voiceover's adapted timeline when it has one, else the plan's (VOICE-2)."""
    timeline = read_timeline(paths, day, theme, plan)
    return list(timeline.scene_durations) if timeline else [scene.duration_s for scene in plan.scenes]


@dg.asset(
    partitions_def=date_theme_partitions,
    group_name="content",
    deps=[video_script],
    retry_policy=llm_retry,
    pool="openai",
    kinds={"wav"},
)
def voiceover(
    context: dg.AssetExecutionContext,
    voice: VoiceProvider,
    paths: ShortvidPaths,
    review_db: ReviewDatabase,
):
    """The spoken voiceover fitted to the plan's length, with word timings (VOICE-1..3)."""
    day, slug = split_date_theme(context)
    plan = read_plan(paths, day, slug)
    wav_path = paths.per_theme("voiceover", day, slug, "wav")
    context.log.info(f"{slug}: voice {voice.describe()}")
    with review_db.generation_log_connection() as conn:
        entry = {
            "date": day,
            "theme": slug,
            "asset": "voiceover",
            "run_id": context.run_id,
            "trend_pattern": plan.trend_pattern,
        }
        try:
            spoken = voice.speak(plan.voiceover_script)
        except Exception as exc:
            calls = _calls_of(exc)
            row = generation_log.record_generation(
                conn,
                **entry,
                implementation=voice.implementation,
                status="failed",
                model=getattr(voice, "model", None),
                calls=calls,
                cost_usd=sum(call["cost_usd"] for call in calls),
                error=str(exc),
            )
            context.log.error(
                f"{slug}: no voiceover (generation log #{row.id}, ${row.cost_usd:.5f} spent): {exc}"
            )
            raise _failure(exc, f"voiceover for {day}|{slug}", row) from None
        fitted = fit_to_duration(spoken.speech, plan.duration_s)
        write_wav(fitted.speech, wav_path)
        words_path = paths.per_theme("voiceover", day, slug, "words.json")
        write_text_atomic(words_path, json.dumps([w.model_dump() for w in fitted.speech.words], indent=1))
        timeline = _write_timeline(
            context, paths, day, slug, plan, fitted.speech.duration_s, fitted.tempo, fitted.fits
        )
        row = generation_log.record_generation(
            conn,
            **entry,
            implementation=spoken.provider,
            status="succeeded",
            prompts=spoken.prompts,
            model=spoken.model,
            calls=[call.to_dict() for call in spoken.paid_calls],
            cost_usd=total_cost(spoken.paid_calls) if spoken.paid_calls else spoken.cost_usd,
            output_path=str(wav_path),
        )
    metadata: dict[str, Any] = {
        "provider": spoken.provider,
        "duration_s": round(fitted.speech.duration_s, 2),
        "speech_s": round(spoken.speech.duration_s, 2),
        "tempo": round(fitted.tempo, 3),
        "fits_plan": fitted.fits,
        "words": len(fitted.speech.words),
        "word_timing_source": spoken.word_timing_source,
        "cost_usd": round(row.cost_usd, 6),
        "generation_log_id": row.id,
        "path": dg.MetadataValue.path(str(wav_path)),
        "words_path": dg.MetadataValue.path(str(words_path)),
    }
    if spoken.model:
        metadata.update(
            model=spoken.model, api_calls=len(spoken.paid_calls), paid_calls=dg.MetadataValue.json(row.calls)
        )
    if timeline is not None:
        metadata.update(
            scene_durations=dg.MetadataValue.json(timeline.scene_durations),
            timeline=dg.MetadataValue.path(str(timeline_path(paths, day, slug))),
        )
    return dg.MaterializeResult(metadata=metadata)


def _write_timeline(
    context: dg.AssetExecutionContext,
    paths: ShortvidPaths,
    day: str,
    slug: str,
    plan: VideoPlan,
    speech_s: float,
    tempo: float,
    fits: bool,
) -> SceneTimeline | None:
    """Beyond the tempo limits the scenes stretch to the speech (VOICE-2); otherwise no timeline file remains."""
    path = timeline_path(paths, day, slug)
    if fits:
        path.unlink(missing_ok=True)  # one from an earlier, longer voiceover would be stale
        return None
    timeline = timeline_for([scene.duration_s for scene in plan.scenes], speech_s, tempo)
    write_text_atomic(path, timeline.model_dump_json(indent=1))
    context.log.warning(
        f"{slug}: {timeline.reason}; scene durations {plan.duration_s:.2f}s -> {timeline.duration_s:.2f}s "
        f"written to {path.name}"
    )
    return timeline
