"""Trend collection and analysis: the daily half of the graph.

One asset per platform (a platform outage fails only its own asset), the deduplicated `trends`
table with the day's snapshots (see `shortvid_assets.domain.analysis` for how observations are
kept), and the `trend_report` over a configurable window (`SHORTVID_ANALYSIS_WINDOW_HOURS`).
"""

from datetime import date, datetime
from typing import TYPE_CHECKING

import dagster as dg

from shortvid_assets import clock, settings
from shortvid_assets.assets.retries import no_retry_for_bad_input, outside_call_retry
from shortvid_assets.clients.http import CollectionFailed
from shortvid_assets.domain import windows
from shortvid_assets.domain.models import Platform
from shortvid_assets.partitions import daily_partitions
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.style_classifiers import StyleClassifier
from shortvid_assets.resources.trend_sources import TrendSource
from shortvid_assets.storage.artifacts import Artifacts, MissingArtifact

TRENDS_NOT_EMPTY = "trends_not_empty"
TRENDS_KEYS_UNIQUE = "trends_keys_unique"
TRENDS_COUNTS_NOT_NEGATIVE = "trends_counts_not_negative"
TRENDS_NOT_POSTED_IN_FUTURE = "trends_not_posted_in_future"
REPORT_MATCHES_INPUT = "trend_report_matches_input"
WINDOW_ENV = "SHORTVID_ANALYSIS_WINDOW_HOURS"
PLATFORMS: tuple[Platform, ...] = ("youtube", "tiktok")

if TYPE_CHECKING:  # pandas and the analysis load in the steps that use them, not with the code location
    import pandas as pd


def analysis_window_hours() -> float:
    """The analysis window from `SHORTVID_ANALYSIS_WINDOW_HOURS` (24 by default), read at run time."""
    return settings.number(WINDOW_ENV, windows.DEFAULT_WINDOW_HOURS, minimum=0.1, maximum=24 * 31)


def _preview(frame: "pd.DataFrame", rows: int = 5) -> dg.MetadataValue:
    columns = ["platform", "title", "views", "likes", "duration_s"]
    table = frame.sort_values("views", ascending=False).head(rows)[columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table.itertuples(index=False):
        cells = [str(v).replace("|", "/").replace("\n", " ")[:60] for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def _collect(
    context: dg.AssetExecutionContext, platform: Platform, source: TrendSource, paths: ShortvidPaths
) -> dg.MaterializeResult:
    from shortvid_assets.domain import analysis

    day = date.fromisoformat(context.partition_key)
    context.log.info(f"{platform} trends for {day}: collecting from {source.describe()}")
    try:
        collection = source.collect(platform, day)
    except CollectionFailed as exc:
        raise dg.Failure(
            description=f"{platform} collection for {day} failed: {exc}",
            metadata={
                "source": type(source).__name__,
                "requests": exc.requests,
                "failed_requests": exc.failed_requests,
                "quota_units": exc.quota_units,
                "retryable": exc.retryable,
            },
            allow_retries=exc.retryable,
        ) from None
    skipped_total = sum(collection.skipped.values())
    context.log.info(
        f"{platform}: {len(collection.trends)} trends from the {collection.source} source, "
        f"{collection.requests} requests ({collection.failed_requests} failed), "
        f"{collection.quota_units} quota units, {skipped_total} items skipped {collection.skipped}, "
        f"{collection.kept_with_unknown_fields} kept with unknown fields {collection.unknown_fields}"
    )
    for error in collection.errors:
        context.log.warning(f"{platform}: collection stopped early ({collection.stop_reason}): {error}")
    frame = analysis.trends_frame(collection.trends)
    path = paths.artifacts.write_table(frame, paths.artifacts.collected(platform, context.partition_key))
    return dg.MaterializeResult(
        metadata={
            "source": collection.source,
            "collected": len(frame),
            "unique": int(frame.drop_duplicates(subset=analysis.KEY).shape[0]),
            "requests": collection.requests,
            "failed_requests": collection.failed_requests,
            "quota_units": collection.quota_units,
            "skipped": dg.MetadataValue.json(collection.skipped),
            "skipped_total": skipped_total,
            "unknown_fields": dg.MetadataValue.json(collection.unknown_fields),
            "kept_with_unknown_fields": collection.kept_with_unknown_fields,
            "content_kinds": dg.MetadataValue.json(
                {str(k): int(v) for k, v in frame["content_kind"].value_counts().sort_index().items()}
            ),
            "stop_reason": collection.stop_reason or "complete",
            "errors": len(collection.errors),
            "path": dg.MetadataValue.path(str(path)),
            "preview": _preview(frame),
        }
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name="trends",
    retry_policy=outside_call_retry(),
    pool="youtube_api",
    kinds={"youtube"},
)
@no_retry_for_bad_input
def youtube_trends(context: dg.AssetExecutionContext, youtube_source: TrendSource, paths: ShortvidPaths):
    """The day's trending YouTube Shorts as collected (TREND-2)."""
    return _collect(context, "youtube", youtube_source, paths)


@dg.asset(
    partitions_def=daily_partitions,
    group_name="trends",
    retry_policy=outside_call_retry(),
    pool="apify",
    kinds={"tiktok"},
)
@no_retry_for_bad_input
def tiktok_trends(context: dg.AssetExecutionContext, tiktok_source: TrendSource, paths: ShortvidPaths):
    """The day's trending TikTok videos as collected (TREND-1)."""
    return _collect(context, "tiktok", tiktok_source, paths)


def trends_check_results(table: "pd.DataFrame", now: datetime) -> list[dg.AssetCheckResult]:
    """The data checks of a trends table: not empty, unique keys, no negative counts, nothing posted in the future."""
    from shortvid_assets.domain import analysis

    duplicates = analysis.duplicate_keys(table)
    negatives = analysis.negative_counts(table)
    future = analysis.posted_in_future(table, now)
    return [
        dg.AssetCheckResult(
            check_name=TRENDS_NOT_EMPTY, passed=len(table) > 0, metadata={"rows": len(table)}
        ),
        dg.AssetCheckResult(
            check_name=TRENDS_KEYS_UNIQUE, passed=duplicates == 0, metadata={"duplicate_keys": duplicates}
        ),
        dg.AssetCheckResult(
            check_name=TRENDS_COUNTS_NOT_NEGATIVE,
            passed=not negatives,
            metadata={"negative_rows": dg.MetadataValue.json(negatives)},
        ),
        dg.AssetCheckResult(
            check_name=TRENDS_NOT_POSTED_IN_FUTURE, passed=future == 0, metadata={"future_rows": future}
        ),
    ]


@dg.asset(
    partitions_def=daily_partitions,
    group_name="trends",
    deps=[youtube_trends, tiktok_trends],
    check_specs=[
        dg.AssetCheckSpec(name, asset="trends", blocking=True)
        for name in (
            TRENDS_NOT_EMPTY,
            TRENDS_KEYS_UNIQUE,
            TRENDS_COUNTS_NOT_NEGATIVE,
            TRENDS_NOT_POSTED_IN_FUTURE,
        )
    ],
    kinds={"pandas", "parquet"},
)
@no_retry_for_bad_input
def trends(context: dg.AssetExecutionContext, paths: ShortvidPaths):
    """The day's trends from every platform, one row per (platform, external id), latest counts (TREND-4)."""
    import pandas as pd

    from shortvid_assets.domain import analysis

    day, store = context.partition_key, paths.artifacts
    collected = pd.concat([store.read_collected(p, day) for p in PLATFORMS], ignore_index=True)
    snapshots_path = store.snapshots(day)
    previous = pd.read_parquet(snapshots_path) if snapshots_path.exists() else None
    snapshots = analysis.merge_snapshots(previous, collected)
    table = analysis.latest_observations(snapshots)
    store.write_table(snapshots, snapshots_path)
    path = store.write_table(table, store.trends(day))
    context.log.info(
        f"{len(table)} unique trends from {len(collected)} collected rows; "
        f"{len(snapshots)} snapshots kept for {day}"
    )
    yield dg.MaterializeResult(
        metadata={
            "rows": len(table),
            "duplicates_removed": len(collected)
            - int(collected.drop_duplicates(subset=analysis.KEY).shape[0]),
            "snapshots": len(snapshots),
            "observed_more_than_once": int((table["observations"] > 1).sum()),
            "unknown_counts": dg.MetadataValue.json(
                {c: int(table[c].isna().sum()) for c in ("likes", "comments", "shares") if c in table}
            ),
            "by_platform": dg.MetadataValue.json(
                {str(k): int(v) for k, v in table["platform"].value_counts().sort_index().items()}
            ),
            "path": dg.MetadataValue.path(str(path)),
            "snapshots_path": dg.MetadataValue.path(str(snapshots_path)),
            "preview": _preview(table),
        }
    )
    yield from trends_check_results(table, clock.now())


def load_window(
    store: Artifacts, day: date, window: windows.AnalysisWindow
) -> tuple["pd.DataFrame", list[str]]:
    """Snapshots of every daily partition the window touches that has been collected, and those days."""
    import pandas as pd

    frames, days = [], []
    for candidate in windows.window_days(day, window):
        frame = store.read_snapshots(candidate)
        if frame is not None and not frame.empty:
            frames.append(frame)
            days.append(candidate.isoformat())
    if not frames:
        raise MissingArtifact(f"no trends file for {day}: materialize the trends asset for that day first")
    return pd.concat(frames, ignore_index=True), days


def _window_for(store: Artifacts, day: date, hours: float) -> windows.AnalysisWindow:
    """The window ending at the day's last collection (a live collection may run after midnight)."""
    import pandas as pd

    today = store.read_snapshots(day)
    if today is None:
        raise MissingArtifact(f"no trends file for {day}: materialize the trends asset for that day first")
    anchor = today["collected_at"].max() if not today.empty else None
    return windows.analysis_window(day, hours, None if pd.isna(anchor) else anchor.to_pydatetime())


@dg.asset(
    partitions_def=daily_partitions,
    group_name="trends",
    deps=[trends],
    retry_policy=outside_call_retry(),
    pool="openai",
    check_specs=[dg.AssetCheckSpec(REPORT_MATCHES_INPUT, asset="trend_report", blocking=True)],
    kinds={"pandas", "json"},
)
@no_retry_for_bad_input
def trend_report(context: dg.AssetExecutionContext, paths: ShortvidPaths, style_classifier: StyleClassifier):
    """The day's trend report: velocity, styles, hooks and patterns of the top performers (ANLYS-5)."""
    from shortvid_assets.domain import analysis
    from shortvid_assets.domain.trend_charts import markdown_image, velocity_by_style_png

    day = date.fromisoformat(context.partition_key)
    try:
        window = _window_for(paths.artifacts, day, analysis_window_hours())
        snapshots, days = load_window(paths.artifacts, day, window)
        data = analysis.window_trends(snapshots, window)
    except (FileNotFoundError, ValueError) as exc:
        # Missing trends or a bad setting: retrying the same input cannot help.
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    context.log.info(
        f"analyzing {len(data)} trends collected {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC "
        f"(days read: {', '.join(days)}); styles by {style_classifier.describe()}"
    )
    styled = style_classifier.classify(data)
    for problem in styled.problems:
        context.log.warning(f"style classifier: {problem}")
    data = analysis.with_styles(data, styled.styles)
    try:
        report = analysis.report_from_window(data, day, window, classifier=styled.classifier)
    except ValueError as exc:  # nothing in the window can be ranked: the same input fails again
        raise dg.Failure(description=str(exc), allow_retries=False) from None

    path = paths.artifacts.write_report(report, context.partition_key)
    chart = velocity_by_style_png(
        data,
        paths.artifacts.velocity_chart(context.partition_key),
        title=f"Velocity by style, {day}",
    )
    yield dg.MaterializeResult(
        metadata={
            "trends_analyzed": report.trend_count,
            "window": f"{window.start:%Y-%m-%d %H:%M} → {window.end:%Y-%m-%d %H:%M} UTC ({window.hours:g} h)",
            "days_read": ", ".join(days),
            "counts_by_platform": dg.MetadataValue.json(report.counts_by_platform),
            "counts_by_style": dg.MetadataValue.json(report.counts_by_style),
            "velocity_by_style": dg.MetadataValue.json(report.velocity_by_style),
            "with_recent_velocity": int(data["recent_velocity"].notna().sum()),
            "dominant_style": report.dominant_style,
            "dominant_hook_type": report.dominant_hook_type,
            "recommended_duration_s": report.recommended_duration_s,
            "duration_histogram": dg.MetadataValue.json(report.duration_histogram),
            "posting_hour_histogram": dg.MetadataValue.json(report.posting_hour_histogram),
            "top_hashtags": ", ".join(f"#{h.tag}" for h in report.top_hashtags[:8]),
            "top_performers": dg.MetadataValue.md(analysis.top_performers_markdown(report)),
            "classifier": report.classifier,
            "classifier_calls": styled.calls,
            "classifier_cost_usd": round(styled.cost_usd, 6),
            "classifier_fallback_rows": styled.fallback,
            "velocity_chart": dg.MetadataValue.path(str(chart)),
            "velocity_chart_preview": dg.MetadataValue.md(markdown_image(chart, "velocity by style")),
            "path": dg.MetadataValue.path(str(path)),
        }
    )
    stored = paths.artifacts.read_report(context.partition_key)
    problems = analysis.report_consistency_problems(stored, snapshots)
    yield dg.AssetCheckResult(
        check_name=REPORT_MATCHES_INPUT,
        passed=not problems,
        metadata={"problems": dg.MetadataValue.json(problems), "trend_count": stored.trend_count},
    )
