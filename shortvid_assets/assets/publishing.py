"""Publishing: the approved render uploaded once, and our own videos' performance read back daily.

`published_video` (date × theme, pool `upload`) uploads only the render a reviewer approved, the
file whose SHA-256 the latest decision names, exactly once (`resources.publishing.publish_once` and
the `publications` table). `video_performance` (daily) reads every published video's statistics and,
when granted, its YouTube Analytics, keeps them as daily snapshots, and writes the performance report
the next plans follow. Quota units spent go to the asset metadata, the publication row and the
generation log (asset `published_video`, one row per attempt, calls of kind `quota`).
"""


import contextlib
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import dagster as dg

from shortvid_assets import clock
from shortvid_assets.assets.review import review_status
from shortvid_assets.clients.google_api import (
    AuthorizationError,
    InsufficientScopeError,
    QuotaExceededError,
    UploadLimitExceededError,
)
from shortvid_assets.clients.google_oauth import OAuthError
from shortvid_assets.clients.http import ApiError
from shortvid_assets.domain.files import file_sha256
from shortvid_assets.domain.publishing import (
    StatsSnapshot,
    VideoFeatures,
    build_upload_metadata,
    performance_report,
)
from shortvid_assets.partitions import daily_partitions, date_theme_partitions, split_date_theme
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.publishing import (
    Publisher,
    PublishingDisabled,
    PublishRefused,
    PublishStopped,
    fetch_analytics,
    publish_once,
)
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.resources.video_format import VideoFormat
from shortvid_assets.storage import generation_log, postgres, publications, review_decisions

# Never retried: quota and upload limits wait for their reset, credentials and refusals for a person.
FINAL_ERRORS = (PublishRefused, PublishStopped, QuotaExceededError, UploadLimitExceededError, AuthorizationError,
                InsufficientScopeError)  # fmt: skip
GENERATED_VISUALS = ("procedural", "openai")  # providers whose pictures are made, not filmed


@contextlib.contextmanager
def _database(review_db: ReviewDatabase) -> Iterator:
    """A connection with every table publishing touches in place."""
    conn = postgres.connect(review_db.resolved_url())
    try:
        for ensure in (
            review_decisions.ensure_schema,
            generation_log.ensure_schema,
            publications.ensure_schema,
        ):
            ensure(conn)
        yield conn
    finally:
        conn.close()


def approval_problem(decision: review_decisions.ReviewDecision | None, sha256: str) -> str | None:
    """Why the render with `sha256` may not be uploaded under the partition's latest decision; None if it may."""
    if decision is None:
        return "no review decision yet: only an approved render is published"
    if decision.decision != "approved":
        return f"the latest decision (#{decision.id} by {decision.reviewer}) is {decision.decision}: not publishing"
    if decision.video_sha256 is None:
        return (
            f"the approval #{decision.id} names no render (no SHA-256): approve again with `shortvid review "
            "approve` or the review page so it names the file the reviewer saw"
        )
    if decision.video_sha256 != sha256:
        return (
            f"the approval #{decision.id} judged render {decision.video_sha256[:12]}, but the file now is "
            f"{sha256[:12]} (re-rendered since): it needs its own approval"
        )
    return None


def _features(
    conn, paths: ShortvidPaths, video_format: VideoFormat, day: str, slug: str, plan, hour: int
) -> dict:
    """The plan choices behind the video, stored with its publication for the performance report."""
    voice = next(
        (g.implementation for g in generation_log.list_generations(conn, date=day, theme=slug, limit=50)
         if g.asset == "voiceover" and g.status == "succeeded"),
        "unknown",
    )  # fmt: skip
    clips = paths.artifacts.read_clips_manifest(day, slug, len(plan.scenes))
    return {
        "hook_pattern": plan.hook_type,
        "style": plan.style,
        "duration_s": round(plan.duration_s, 2),
        "voice": voice,
        "visuals_provider": "+".join(sorted({c.provider for c in clips})) or "unknown",
        "caption_style": f"word-highlight {video_format.caption_highlight_color}",
        "language": plan.language,
        "posting_hour": hour,
    }


def _stop(message: str, **metadata: Any) -> dg.Failure:
    return dg.Failure(description=message, metadata={"error": message, **metadata}, allow_retries=False)


@dg.asset(
    partitions_def=date_theme_partitions,
    group_name="publishing",
    deps=[review_status],
    pool="upload",
    kinds={"youtube", "postgres"},
)
def published_video(
    context: dg.AssetExecutionContext,
    publisher: Publisher,
    paths: ShortvidPaths,
    review_db: ReviewDatabase,
    video_format: VideoFormat,
):
    """The approved render on the platform, uploaded exactly once: its id, link and publish status."""
    day, slug = split_date_theme(context)
    context.log.info(f"{day}|{slug}: publisher {publisher.describe()}")
    if not publisher.enabled:
        raise _stop(str(PublishingDisabled("publishing is off (SHORTVID_PUBLISH=off): set SHORTVID_PUBLISH=youtube "
                                           "or local to publish approved videos")))  # fmt: skip
    video = paths.artifacts.find_video(day, slug)
    if video is None:
        raise _stop(f"no composed video for {day}|{slug}: materialize composed_video and review it first")
    sha256 = file_sha256(video)
    plan = paths.artifacts.read_plan(day, slug)
    theme = paths.theme(slug)
    thumbnail = video.with_suffix(".jpg")
    now = clock.now()
    publish_at = publisher.scheduled_time(now)
    with _database(review_db) as conn:

        def still_approved() -> str | None:
            return approval_problem(review_decisions.latest_decision(conn, day, slug), sha256)

        if problem := still_approved():
            raise _stop(f"{day}|{slug} not published: {problem}", video_sha256=sha256)
        decision = review_decisions.latest_decision(conn, day, slug)
        clips = paths.artifacts.read_clips_manifest(day, slug, len(plan.scenes))
        metadata = build_upload_metadata(
            plan,
            sha256=sha256,
            credits=[c.attribution for c in clips if c.attribution],
            voice_generated=True,  # both voices (eSpeak NG, OpenAI TTS) are synthetic speech
            visuals_generated=any(c.provider in GENERATED_VISUALS for c in clips),
            theme_hashtags=theme.hashtags,
            language=plan.language,
            privacy_status=publisher.privacy(),
            publish_at=publish_at,
            made_for_kids=publisher.made_for_kids,
        )
        features = _features(conn, paths, video_format, day, slug, plan, (publish_at or now).hour)
        entry = {"date": day, "theme": slug, "asset": "published_video", "run_id": context.run_id}
        try:
            with publisher.platform() as client:
                outcome = publish_once(
                    conn, client, day=day, theme=slug, sha256=sha256, decision_id=decision.id, metadata=metadata,
                    video=video, thumbnail=thumbnail if thumbnail.is_file() else None, features=features,
                    daily_cap=publisher.daily_upload_cap, still_approved=still_approved, log=context.log.info,
                )  # fmt: skip
        except (PublishRefused, PublishStopped, ApiError, OAuthError) as exc:
            row = generation_log.record_generation(conn, **entry, implementation=publisher.platform_name,
                                                   status="failed", error=str(exc))  # fmt: skip
            if isinstance(exc, FINAL_ERRORS) or (isinstance(exc, OAuthError) and not exc.retryable):
                raise _stop(f"{day}|{slug} not published: {exc}", generation_log_id=row.id) from None
            raise  # a dropped upload keeps its stored session: running the step again resumes it
        publication = outcome.publication
        row = generation_log.record_generation(
            conn, **entry, implementation=publisher.platform_name, status="succeeded",
            calls=[{"provider": publication.platform, "model": "data-api-v3", "kind": "quota",
                    "units": outcome.quota_units, "cost_usd": 0.0}],
            output_path=publication.url,
        )  # fmt: skip
    context.log.info(
        f"{day}|{slug}: {outcome.action} -> {publication.url} ({outcome.quota_units} quota units)"
    )
    result: dict[str, Any] = {
        "status": publication.status,
        "action": outcome.action,
        "platform": publication.platform,
        "video_id": publication.remote_id,
        "url": dg.MetadataValue.url(publication.url or ""),
        "video_sha256": sha256,
        "decision_id": decision.id,
        "privacy_status": publication.privacy_status or metadata.privacy_status,
        "publish_at": publication.publish_at.isoformat() if publication.publish_at else "",
        "made_for_kids": metadata.made_for_kids,
        "contains_synthetic_media": metadata.contains_synthetic_media,
        "marker": publication.marker,
        "bytes_sent": outcome.bytes_sent,
        "quota_units": dg.MetadataValue.json(outcome.quota_units),
        "quota_units_total": dg.MetadataValue.json(publication.quota_units),
        "thumbnail": outcome.thumbnail or "",
        "attempts": publication.attempts,
        "publication_id": publication.id,
        "generation_log_id": row.id,
    }
    return dg.MaterializeResult(metadata=result)


def _features_of(row: publications.Publication) -> VideoFeatures | None:
    try:
        return VideoFeatures(
            video_id=row.remote_id, theme=row.theme, published_on=row.partition_date, **row.features
        )
    except (TypeError, ValueError):
        return None  # a row written before its features were recorded: ranked, but not attributed


@dg.asset(
    partitions_def=daily_partitions, group_name="publishing", pool="youtube_api", kinds={"youtube", "json"}
)
def video_performance(
    context: dg.AssetExecutionContext, publisher: Publisher, paths: ShortvidPaths, review_db: ReviewDatabase
):
    """Our published videos' views, likes, comments and retention on one day, and the performance report."""
    day = context.partition_key
    as_of = date.fromisoformat(day)
    with _database(review_db) as conn:
        rows = publications.published_videos(conn, publisher.platform_name) if publisher.enabled else []
    rows = [r for r in rows if r.partition_date <= as_of]
    ids = [r.remote_id for r in rows if r.remote_id]
    snapshots: list[dict[str, Any]] = []
    analytics_note = "no published videos"
    quota: dict[str, int] = {}
    if ids:
        with publisher.platform() as client:
            batch = client.statistics(ids)
            start = min(r.partition_date for r in rows)
            analytics = fetch_analytics(client, ids, start, max(as_of, start))
        for cost in (batch.cost, analytics.cost):
            for bucket, units in cost.quota_units.items():
                quota[bucket] = quota.get(bucket, 0) + units
        retention = {row.video_id: row for row in analytics.rows}
        analytics_note = "available" if analytics.available else f"not available: {analytics.reason}"
        for stats in batch.statistics:
            extra = retention.get(stats.video_id)
            snapshot = StatsSnapshot(
                video_id=stats.video_id, day=as_of, views=stats.views or 0, likes=stats.likes, comments=stats.comments,
                average_view_percentage=extra.average_view_percentage if extra else None,
                average_view_duration_s=extra.average_view_duration_s if extra else None,
            )  # fmt: skip
            snapshots.append(
                {**snapshot.model_dump(mode="json"), "engaged_views": extra.engaged_views if extra else None}
            )
        if batch.missing_ids:
            context.log.warning(
                f"the platform did not return {len(batch.missing_ids)} videos: {batch.missing_ids}"
            )
    features = [f for f in (_features_of(r) for r in rows) if f is not None]
    history = [s for s in paths.artifacts.read_performance_snapshots(as_of - timedelta(days=1))]
    report = performance_report(
        [*history, *(StatsSnapshot.model_validate(s) for s in snapshots)], features, as_of=as_of
    )
    snapshots_path, report_path = paths.artifacts.write_performance(snapshots, report, day)
    context.log.info(f"{day}: {len(snapshots)} videos read, analytics {analytics_note}, quota {quota}")
    table = "\n".join(
        f"| {v.rank} | {v.video_id} | {v.theme} | {v.hook_pattern} | {v.style} | {v.latest_views} | "
        f"{v.views_per_day:g} | {'' if v.retention_pct is None else f'{v.retention_pct:.1f}'} |"
        for v in report.videos[:20]
    )
    winners = {t: f"{w.best_hook_pattern} hook, {w.best_style}" for t, w in report.themes.items()}
    return dg.MaterializeResult(
        metadata={
            "videos": len(snapshots),
            "views": sum(s["views"] for s in snapshots),
            "analytics": analytics_note,
            "quota_units": dg.MetadataValue.json(quota),
            "best_by_theme": dg.MetadataValue.json(winners),
            "ranking": dg.MetadataValue.md(
                "| rank | video | theme | hook | style | views | views/day | retention % |\n"
                "|---|---|---|---|---|---|---|---|\n" + table
            ),
            "snapshots": dg.MetadataValue.path(str(snapshots_path)),
            "report": dg.MetadataValue.path(str(report_path)),
        }
    )
