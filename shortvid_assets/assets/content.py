"""Content generation: the production plan and its voiceover, per day and theme.

Both assets run in the `openai` pool (its limit caps simultaneous OpenAI calls in a backfill),
log which implementation runs, report their cost, and write a `generation_log` row for every
attempt, failed ones included (REVIEW-2, REVIEW-5).
"""

from typing import Any

import dagster as dg

from shortvid_assets.assets.retries import no_retry_for_bad_input, outside_call_retry
from shortvid_assets.assets.trends import trend_report
from shortvid_assets.clients.openai_common import OpenAIClientError
from shortvid_assets.domain.audio_fit import DEFAULT_TAIL_S, MAX_TEMPO, FittedSpeech, fit_to_duration
from shortvid_assets.domain.costs import UnknownModelPriceError, total_cost
from shortvid_assets.domain.models import VideoPlan
from shortvid_assets.domain.offline_voice import write_wav
from shortvid_assets.domain.script_template import shorten_plan, split_sentences
from shortvid_assets.domain.text import unspoken_count
from shortvid_assets.domain.timeline import SceneTimeline, timeline_for
from shortvid_assets.partitions import by_date, date_theme_partitions, split_date_theme
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.resources.script_writers import ScriptWriter
from shortvid_assets.resources.voices import SpokenText, VoiceProvider
from shortvid_assets.storage import generation_log
from shortvid_assets.storage.artifacts import Artifacts


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


def _record_failure(
    context: dg.AssetExecutionContext,
    conn,
    entry: dict[str, Any],
    implementation: Any,
    exc: Exception,
    what: str,
) -> dg.Failure:
    """Log a failed attempt with what its paid calls cost; the step failure to raise."""
    calls = [call.to_dict() for call in getattr(exc, "calls", [])]
    row = generation_log.record_generation(
        conn,
        **entry,
        implementation=implementation.implementation,
        status="failed",
        model=getattr(implementation, "model", None),
        calls=calls,
        cost_usd=sum(call["cost_usd"] for call in calls),
        error=str(exc),
    )
    context.log.error(
        f"{entry['theme']}: no {what} (generation log #{row.id}, ${row.cost_usd:.5f} spent): {exc}"
    )
    return _failure(exc, f"{entry['asset']} for {entry['date']}|{entry['theme']}", row)


@dg.asset(
    partitions_def=date_theme_partitions,
    group_name="content",
    deps=[dg.AssetDep(trend_report, partition_mapping=by_date)],
    retry_policy=outside_call_retry(),
    pool="openai",
    kinds={"openai", "json"},
)
@no_retry_for_bad_input
def video_script(
    context: dg.AssetExecutionContext,
    script_writer: ScriptWriter,
    paths: ShortvidPaths,
    review_db: ReviewDatabase,
):
    """The production plan for the day's video of one theme: scenes, voiceover, overlays, hashtags (SCRIPT-3)."""
    day, slug = split_date_theme(context)
    theme = paths.theme(slug)
    report = paths.artifacts.read_report(day)
    path = paths.artifacts.plan(day, slug)
    # Our own videos' performance report (video_performance), when there is one: the theme's best hook and style.
    performance = paths.artifacts.latest_performance_report(day)
    winners = performance[0].best_for(slug) if performance else None
    context.log.info(f"{slug}: script writer {script_writer.describe()}")
    with review_db.generation_log_connection() as conn:
        entry = {"date": day, "theme": slug, "asset": "video_script", "run_id": context.run_id}
        try:
            written = script_writer.write(theme, report, winners)
        except Exception as exc:
            raise _record_failure(context, conn, entry, script_writer, exc, "plan") from None
        plan = written.plan
        paths.artifacts.write_plan(plan, day, slug)
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
    if performance is not None:
        metadata.update(
            performance_pattern=written.performance_pattern or "none: the trend report's hook and style",
            performance_report=dg.MetadataValue.path(str(performance[1])),
        )
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


@dg.asset(
    partitions_def=date_theme_partitions,
    group_name="content",
    deps=[video_script],
    retry_policy=outside_call_retry(),
    pool="openai",
    kinds={"wav"},
)
@no_retry_for_bad_input
def voiceover(
    context: dg.AssetExecutionContext,
    voice: VoiceProvider,
    paths: ShortvidPaths,
    review_db: ReviewDatabase,
):
    """The spoken voiceover fitted to the plan's length, with word timings (VOICE-1..3)."""
    day, slug = split_date_theme(context)
    store = paths.artifacts
    plan = store.read_plan(day, slug)
    wav_path = store.voice(day, slug)
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
            spoken, fitted, spoken_plan, paid_calls = _speak_to_fit(context, voice, plan)
        except Exception as exc:
            raise _record_failure(context, conn, entry, voice, exc, "voiceover") from None
        write_wav(fitted.speech, wav_path)
        words_path = store.write_words(fitted.speech.words, day, slug)
        timeline = _write_timeline(context, store, day, slug, plan, fitted)
        row = generation_log.record_generation(
            conn,
            **entry,
            implementation=spoken.provider,
            status="succeeded",
            prompts=spoken.prompts,
            model=spoken.model,
            calls=[call.to_dict() for call in paid_calls],
            cost_usd=total_cost(paid_calls) if paid_calls else spoken.cost_usd,
            output_path=str(wav_path),
        )
    dropped = len(split_sentences(plan.voiceover_script)) - len(split_sentences(spoken_plan.voiceover_script))
    metadata: dict[str, Any] = {
        "provider": spoken.provider,
        "language": plan.language,
        "voiceover_shortened": spoken_plan is not plan,
        "talking_points_dropped": dropped,
        "not_spoken": unspoken_count(plan.voiceover_script),
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
            timeline=dg.MetadataValue.path(str(store.timeline(day, slug))),
        )
    return dg.MaterializeResult(metadata=metadata)


def _speak_to_fit(
    context: dg.AssetExecutionContext, voice: VoiceProvider, plan: VideoPlan
) -> tuple[SpokenText, FittedSpeech, VideoPlan, list]:
    """Speak the plan; when the speech cannot fit its length, speak it again without talking points.

    Returns the speech, its fit, the plan as spoken, and every paid call (both attempts).
    """
    spoken = voice.speak(plan.voiceover_script, language=plan.language)
    paid_calls = list(spoken.paid_calls)
    fitted = fit_to_duration(spoken.speech, plan.duration_s)
    if fitted.fits:
        return spoken, fitted, plan, paid_calls
    overrun_s = spoken.speech.duration_s / MAX_TEMPO + DEFAULT_TAIL_S - plan.duration_s
    shorter = shorten_plan(plan, overrun_s, speech_s=spoken.speech.duration_s)
    if shorter.voiceover_script == plan.voiceover_script:
        return spoken, fitted, plan, paid_calls
    context.log.warning(
        f"{plan.language} speech of {spoken.speech.duration_s:.1f}s cannot fit {plan.duration_s:.1f}s "
        f"(over by {overrun_s:.1f}s at the fastest tempo): speaking it again without its last talking points"
    )
    spoken = voice.speak(shorter.voiceover_script, language=plan.language)
    paid_calls += spoken.paid_calls
    return spoken, fit_to_duration(spoken.speech, plan.duration_s), shorter, paid_calls


def _write_timeline(
    context: dg.AssetExecutionContext,
    store: Artifacts,
    day: str,
    slug: str,
    plan: VideoPlan,
    fitted: FittedSpeech,
) -> SceneTimeline | None:
    """Beyond the tempo limits the scenes stretch to the speech (VOICE-2); otherwise no timeline file remains."""
    if fitted.fits:
        store.write_timeline(None, day, slug)
        return None
    timeline = timeline_for(
        [scene.duration_s for scene in plan.scenes], fitted.speech.duration_s, fitted.tempo
    )
    path = store.write_timeline(timeline, day, slug)
    context.log.warning(
        f"{slug}: {timeline.reason}; scene durations {plan.duration_s:.2f}s -> {timeline.duration_s:.2f}s "
        f"written to {path.name}"
    )
    return timeline
