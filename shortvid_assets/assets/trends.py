"""Trend collection and analysis: the daily half of the graph."""

import json
from datetime import date, timedelta

import dagster as dg
import pandas as pd

from shortvid_assets.domain import analysis
from shortvid_assets.domain.files import atomic_path, write_text_atomic
from shortvid_assets.domain.models import Platform, TrendReport
from shortvid_assets.partitions import daily_partitions
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.trend_sources import TrendSource

TRENDS_NOT_EMPTY = "trends_not_empty"
TRENDS_KEYS_UNIQUE = "trends_keys_unique"
ANALYSIS_WINDOW_HOURS = 24.0

collection_retry = dg.RetryPolicy(
    max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def _write_parquet(frame: pd.DataFrame, path) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def _preview(frame: pd.DataFrame, rows: int = 5) -> dg.MetadataValue:
    columns = ["platform", "title", "views", "likes", "duration_s"]
    table = frame.sort_values("views", ascending=False).head(rows)[columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table.itertuples(index=False):
        cells = [str(v).replace("|", "/")[:60] for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def _collect(
    context: dg.AssetExecutionContext, platform: Platform, source: TrendSource, paths: ShortvidPaths
):
    day = date.fromisoformat(context.partition_key)
    collection = source.collect(platform, day)
    context.log.info(f"{platform}: {len(collection.trends)} trends from the {collection.source} source")
    frame = analysis.trends_frame(collection.trends)
    path = paths.daily(f"{platform}_trends", context.partition_key, "parquet")
    _write_parquet(frame, path)
    return dg.MaterializeResult(
        metadata={
            "source": collection.source,
            "collected": len(frame),
            "unique": int(frame.drop_duplicates(subset=analysis.KEY).shape[0]),
            "requests": collection.requests,
            "failed_requests": collection.failed_requests,
            "quota_units": collection.quota_units,
            "skipped": dg.MetadataValue.json(collection.skipped),
            "path": dg.MetadataValue.path(str(path)),
            "preview": _preview(frame),
        }
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name="trends",
    retry_policy=collection_retry,
    pool="youtube_api",
    kinds={"youtube"},
)
def youtube_trends(context: dg.AssetExecutionContext, youtube_source: TrendSource, paths: ShortvidPaths):
    """The day's trending YouTube Shorts as collected (TREND-2)."""
    return _collect(context, "youtube", youtube_source, paths)


@dg.asset(
    partitions_def=daily_partitions,
    group_name="trends",
    retry_policy=collection_retry,
    pool="apify",
    kinds={"tiktok"},
)
def tiktok_trends(context: dg.AssetExecutionContext, tiktok_source: TrendSource, paths: ShortvidPaths):
    """The day's trending TikTok videos as collected (TREND-1)."""
    return _collect(context, "tiktok", tiktok_source, paths)


@dg.asset(
    partitions_def=daily_partitions,
    group_name="trends",
    deps=[youtube_trends, tiktok_trends],
    check_specs=[
        dg.AssetCheckSpec(TRENDS_NOT_EMPTY, asset="trends"),
        dg.AssetCheckSpec(TRENDS_KEYS_UNIQUE, asset="trends"),
    ],
    kinds={"pandas", "parquet"},
)
def trends(context: dg.AssetExecutionContext, paths: ShortvidPaths):
    """The day's trends from every platform, one row per (platform, external id) (TREND-4)."""
    day = context.partition_key
    frames = [pd.read_parquet(paths.daily(f"{p}_trends", day, "parquet")) for p in ("youtube", "tiktok")]
    collected = pd.concat(frames, ignore_index=True)
    unique = analysis.deduplicate_trends(collected)
    path = paths.daily("trends", day, "parquet")
    _write_parquet(unique, path)
    duplicates = int(unique.duplicated(subset=analysis.KEY).sum())
    yield dg.MaterializeResult(
        metadata={
            "rows": len(unique),
            "duplicates_removed": len(collected) - len(unique),
            "by_platform": dg.MetadataValue.json(unique["platform"].value_counts().to_dict()),
            "path": dg.MetadataValue.path(str(path)),
            "preview": _preview(unique),
        }
    )
    yield dg.AssetCheckResult(
        check_name=TRENDS_NOT_EMPTY, passed=len(unique) > 0, metadata={"rows": len(unique)}
    )
    yield dg.AssetCheckResult(
        check_name=TRENDS_KEYS_UNIQUE, passed=duplicates == 0, metadata={"duplicate_keys": duplicates}
    )


def load_window(paths: ShortvidPaths, day: date, window_hours: float) -> pd.DataFrame:
    """Trends of every daily partition the analysis window touches that has been collected."""
    days_back = int(window_hours // 24) + 1
    files = [
        paths.daily("trends", (day - timedelta(days=n)).isoformat(), "parquet") for n in range(days_back)
    ]
    frames = [pd.read_parquet(f) for f in files if f.exists()]
    if not frames:
        raise FileNotFoundError(f"no trends file for {day}: materialize the trends asset for that day first")
    return pd.concat(frames, ignore_index=True)


@dg.asset(partitions_def=daily_partitions, group_name="trends", deps=[trends], kinds={"pandas", "json"})
def trend_report(context: dg.AssetExecutionContext, paths: ShortvidPaths):
    """The day's trend report: velocity, styles, hooks and patterns of the top performers (ANLYS-5)."""
    day = date.fromisoformat(context.partition_key)
    frame = load_window(paths, day, ANALYSIS_WINDOW_HOURS)
    report = analysis.build_trend_report(frame, day, window_hours=ANALYSIS_WINDOW_HOURS)
    path = paths.daily("trend_report", context.partition_key, "json")
    write_text_atomic(path, report.model_dump_json(indent=2))
    return dg.MaterializeResult(
        metadata={
            "trends_analyzed": report.trend_count,
            "dominant_style": report.dominant_style,
            "dominant_hook_type": report.dominant_hook_type,
            "recommended_duration_s": report.recommended_duration_s,
            "counts_by_platform": dg.MetadataValue.json(report.counts_by_platform),
            "top_hashtags": ", ".join(f"#{h.tag}" for h in report.top_hashtags[:8]),
            "top_performers": dg.MetadataValue.md(analysis.top_performers_markdown(report)),
            "classifier": report.classifier,
            "path": dg.MetadataValue.path(str(path)),
        }
    )


def read_report(paths: ShortvidPaths, day: str) -> TrendReport:
    path = paths.daily("trend_report", day, "json")
    if not path.exists():
        raise FileNotFoundError(
            f"no trend report for {day} at {path}: materialize trend_report for that day first"
        )
    return TrendReport.model_validate(json.loads(path.read_text()))
