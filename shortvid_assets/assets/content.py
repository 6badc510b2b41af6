"""Content generation: the production plan and its voiceover, per day and theme."""

import json

import dagster as dg

from shortvid_assets.assets.trends import read_report, trend_report
from shortvid_assets.domain.audio_fit import fit_to_duration
from shortvid_assets.domain.files import write_text_atomic
from shortvid_assets.domain.models import VideoPlan
from shortvid_assets.domain.offline_voice import write_wav
from shortvid_assets.partitions import by_date, date_theme_partitions, split_date_theme
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.script_writers import ScriptWriter
from shortvid_assets.resources.voices import VoiceProvider

llm_retry = dg.RetryPolicy(
    max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


@dg.asset(
    partitions_def=date_theme_partitions,
    group_name="content",
    deps=[dg.AssetDep(trend_report, partition_mapping=by_date)],
    retry_policy=llm_retry,
    pool="openai",
    kinds={"openai", "json"},
)
def video_script(context: dg.AssetExecutionContext, script_writer: ScriptWriter, paths: ShortvidPaths):
    """The production plan for the day's video of one theme: scenes, voiceover, overlays, hashtags (SCRIPT-3)."""
    day, slug = split_date_theme(context)
    theme = paths.theme(slug)
    report = read_report(paths, day)
    written = script_writer.write(theme, report)
    plan = written.plan
    path = paths.per_theme("video_script", day, slug, "json")
    write_text_atomic(path, plan.model_dump_json(indent=2))
    context.log.info(f"{slug}: {written.writer} writer, {len(plan.scenes)} scenes, {plan.duration_s:.1f}s")
    metadata = {
        "writer": written.writer,
        "title": plan.title,
        "hook": f"{plan.hook_type}: {plan.hook_text}",
        "scenes": len(plan.scenes),
        "duration_s": round(plan.duration_s, 2),
        "hashtags": " ".join(f"#{t}" for t in plan.hashtags),
        "trend_pattern": plan.trend_pattern,
        "voiceover_words": len(plan.voiceover_script.split()),
        "cost_usd": round(written.cost_usd, 6),
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
        )
    return dg.MaterializeResult(metadata=metadata)


def read_plan(paths: ShortvidPaths, day: str, slug: str) -> VideoPlan:
    path = paths.per_theme("video_script", day, slug, "json")
    if not path.exists():
        raise FileNotFoundError(
            f"no production plan at {path}: materialize video_script for {day}|{slug} first"
        )
    return VideoPlan.model_validate_json(path.read_text())


@dg.asset(
    partitions_def=date_theme_partitions,
    group_name="content",
    deps=[video_script],
    retry_policy=llm_retry,
    pool="openai",
    kinds={"wav"},
)
def voiceover(context: dg.AssetExecutionContext, voice: VoiceProvider, paths: ShortvidPaths):
    """The spoken voiceover fitted to the plan's length, with word timings (VOICE-1..3)."""
    day, slug = split_date_theme(context)
    plan = read_plan(paths, day, slug)
    spoken = voice.speak(plan.voiceover_script)
    fitted = fit_to_duration(spoken.speech, plan.duration_s)
    wav = write_wav(fitted.speech, paths.per_theme("voiceover", day, slug, "wav"))
    words_path = paths.per_theme("voiceover", day, slug, "words.json")
    write_text_atomic(words_path, json.dumps([w.model_dump() for w in fitted.speech.words], indent=1))
    if not fitted.fits:
        context.log.warning(
            f"{slug}: speech needs tempo beyond limits to fit {plan.duration_s:.1f}s (tempo {fitted.tempo:.2f})"
        )
    return dg.MaterializeResult(
        metadata={
            "provider": spoken.provider,
            "duration_s": round(fitted.speech.duration_s, 2),
            "speech_s": round(spoken.speech.duration_s, 2),
            "tempo": round(fitted.tempo, 3),
            "fits_plan": fitted.fits,
            "words": len(fitted.speech.words),
            "word_timing_source": spoken.word_timing_source,
            "cost_usd": round(spoken.cost_usd, 6),
            "path": dg.MetadataValue.path(str(wav)),
        }
    )
