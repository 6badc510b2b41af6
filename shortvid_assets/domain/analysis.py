"""Trend analysis (ANLYS-1..5): snapshots, the analysis window, velocity, styles, hooks and patterns.

How observations are kept (TREND-4). Every collection of a day is an *observation* of each video:
its counts at `collected_at`. The trends asset keeps two tables per daily partition:

- `trend_snapshots/<day>.parquet`: every observation made for that day, one row per
  (platform, external id, collected_at). A re-collection of the same day is merged in, never
  overwritten, so collecting several times a day (TREND-5) builds a history per video.
- `trends/<day>.parquet`: one row per (platform, external id), the latest observation of the day,
  with `observations` = how many snapshots the day holds for it. Counts are updated, not duplicated.

The analysis (ANLYS-1) reads the snapshot tables of every day its window touches. The window ends
at the day's last collection (the end of the day when none is given) and spans `window_hours`
before it; a video seen on several days counts once, with its latest counts (deduplication across
days). Velocity (ANLYS-3) is engagement per hour since posted at that latest observation; where a
video has an earlier snapshot, `recent_velocity` is the engagement gained per hour between its last
two snapshots, which shows what is accelerating now rather than over the video's lifetime.

Unknown values. A count the platform did not send (hidden likes, comments turned off, YouTube's
shares) is null (pandas `Int64` <NA>), never 0; a live broadcast has `content_kind="live"` and no
duration. Velocity uses the engagement that is known (see `known_engagement`); duration statistics
(histogram buckets, recommended duration, pattern averages) use only known durations, with live
broadcasts and unknown durations in buckets of their own; top performers are ranked among trends
with a known velocity and duration, the ones a video can be modelled on. Tables written before these
columns existed are read with defaults (`conform_trends`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from shortvid_assets.domain.models import (
    HashtagCount,
    StylePattern,
    TopPerformer,
    Trend,
    TrendReport,
)
from shortvid_assets.domain.windows import DEFAULT_WINDOW_HOURS, AnalysisWindow, analysis_window

TREND_COLUMNS = list(Trend.model_fields)
KEY = ["platform", "external_id"]
SNAPSHOT_KEY = [*KEY, "collected_at"]
COUNT_COLUMNS = ["views", "likes", "comments", "shares"]
ENGAGEMENT_COLUMNS = ["likes", "comments", "shares"]
# Columns added after the first Parquet files were written, and what their absence meant then.
COLUMN_DEFAULTS = {"content_kind": "video"}
LIVE_BUCKET, UNKNOWN_BUCKET = "live", "unknown"
MIN_HOURS = 0.1  # ANLYS-3: velocity's floor on hours since posted
TOP_HASHTAGS = 15
# Tolerated difference between an API's clock and ours before a posting time counts as "in the future".
FUTURE_SKEW = timedelta(minutes=5)

# Ordered: the first style whose words appear wins; duration and sound break the rest.
_STYLE_RULES: list[tuple[str, str]] = [
    ("tutorial", r"\b(?:tutorial|step by step|diy|how to|howto)\b"),
    ("animation", r"\b(?:animated|animation|cartoon|3d)\b"),
    ("cinematic", r"\b(?:cinematic|4k|shot on)\b"),
    ("talking-head", r"\b(?:storytime|my honest take|let me explain|rant|reacts?)\b"),
    ("text-heavy", r"\b(?:read this|list|tips|facts)\b|\b\d+\s+(?:things|tips|ways|tricks)\b"),
    ("montage", r"\b(?:day in my life|compilation|vlog|montage)\b"),
]
_HOOK_RULES: list[tuple[str, str]] = [
    ("question", r"\?"),
    ("pov", r"^\s*pov\b"),
    ("how-to", r"^\s*how (?:to|i)\b"),
    ("number", r"^\s*(?:\d+|i tried \d+)\b|^\s*\S+\s+\d+\s"),
    ("bold-claim", r"\b(?:changed everything|stop doing|never|best|worst|you need)\b"),
]
TEXT_OVERLAY_STYLES = ("text-heavy", "tutorial")
DURATION_BINS = [0, 15, 30, 45, 60, np.inf]
DURATION_LABELS = ["0-15s", "15-30s", "30-45s", "45-60s", "60s+"]


# --- tables ------------------------------------------------------------------------------------------


def trends_frame(trends: Iterable[Trend]) -> pd.DataFrame:
    """Trends as a DataFrame with one column per TREND-3 field (UTC timestamps, unknown counts null)."""
    frame = pd.DataFrame([trend.model_dump() for trend in trends], columns=TREND_COLUMNS)
    for column in ("posted_at", "collected_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return conform_trends(frame)


def conform_trends(frame: pd.DataFrame) -> pd.DataFrame:
    """A trends or snapshots table in the current schema, whatever version of it was stored.

    Columns added since older files were written get the value their absence meant (`COLUMN_DEFAULTS`);
    counts become nullable integers (`Int64`, null = unknown) and durations floats (NaN = unknown).
    """
    out = frame.copy()
    for column, default in COLUMN_DEFAULTS.items():
        out[column] = out[column].fillna(default) if column in out.columns else default
    for column in COUNT_COLUMNS:
        out[column] = out[column].astype("Int64")
    out["duration_s"] = out["duration_s"].astype("float64")
    return out


def deduplicate_trends(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (platform, external id): the most recent observation wins (TREND-4)."""
    ordered = frame.sort_values("collected_at", kind="stable")
    return ordered.drop_duplicates(subset=KEY, keep="last").reset_index(drop=True)


def merge_snapshots(previous: pd.DataFrame | None, collected: pd.DataFrame) -> pd.DataFrame:
    """A day's snapshots with a new collection merged in: one row per (platform, external id, collected_at).

    Rows of the new collection replace earlier rows with the same key and time (a re-run of the
    same collection is idempotent); everything else is kept, ordered by time. A previous table in an
    older schema is conformed first.
    """
    frames = [conform_trends(f) for f in (previous, collected) if f is not None and not f.empty]
    if not frames:
        return conform_trends(collected.iloc[0:0])
    merged = pd.concat(frames, ignore_index=True)
    merged = merged.drop_duplicates(subset=SNAPSHOT_KEY, keep="last")
    return merged.sort_values([*KEY, "collected_at"], kind="stable").reset_index(drop=True)


def latest_observations(snapshots: pd.DataFrame) -> pd.DataFrame:
    """The trends table of a day: the latest snapshot per (platform, external id) and its snapshot count."""
    counts = snapshots.groupby(KEY, sort=False).size().rename("observations")
    latest = deduplicate_trends(snapshots)
    return latest.join(counts, on=KEY)


# --- checks ------------------------------------------------------------------------------------------


def duplicate_keys(frame: pd.DataFrame) -> int:
    """How many rows repeat an earlier row's (platform, external id)."""
    return int(frame.duplicated(subset=KEY).sum())


def negative_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Rows with a negative count, per count column (only columns that have some); unknown (null) is not negative."""
    negatives = {column: int((frame[column] < 0).sum()) for column in COUNT_COLUMNS}
    return {column: n for column, n in negatives.items() if n}


def posted_in_future(frame: pd.DataFrame, now: datetime, skew: timedelta = FUTURE_SKEW) -> int:
    """Rows posted after they were collected, or after `now` (beyond the clock skew)."""
    limit = frame["collected_at"].where(frame["collected_at"] < now, now) + skew
    return int((frame["posted_at"] > limit).sum())


# --- enrichment --------------------------------------------------------------------------------------


def _engagement_parts(frame: pd.DataFrame) -> pd.DataFrame:
    """Likes, comments and shares as floats, NaN where unknown."""
    return frame[ENGAGEMENT_COLUMNS].astype("Int64").astype("float64")


def known_engagement(frame: pd.DataFrame) -> pd.Series:
    """likes + comments + shares, summing only the parts the platform reported; NaN when none of them is.

    A hidden like count does not zero a video's engagement: its comments and shares still count. Nor
    is it counted as 0 likes: the sum is what is known, and a video with no known part has no value.
    """
    return _engagement_parts(frame).sum(axis=1, min_count=1)


def engagement_velocity(frame: pd.DataFrame) -> pd.Series:
    """Known engagement (`known_engagement`) / hours since posted, hours floored at 0.1 (ANLYS-3).

    Null only when likes, comments and shares are all unknown.
    """
    hours = (frame["collected_at"] - frame["posted_at"]).dt.total_seconds() / 3600.0
    return known_engagement(frame) / hours.clip(lower=MIN_HOURS)


def recent_velocities(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Per (platform, external id, collected_at): engagement gained per hour since the video's previous snapshot.

    The gain sums the parts known in both snapshots (likes hidden since the last one leave comments and
    shares); NaN for a video's first snapshot or when no part is known in both. A recount that lowers
    the counts gives 0, not a negative rate.
    """
    ordered = snapshots.sort_values([*KEY, "collected_at"], kind="stable")
    keys = [ordered["platform"], ordered["external_id"]]
    parts = _engagement_parts(ordered)
    gained = (parts - parts.groupby(keys, sort=False).shift(1)).sum(axis=1, min_count=1)
    previous_at = ordered["collected_at"].groupby(keys, sort=False).shift(1)
    hours = (ordered["collected_at"] - previous_at).dt.total_seconds() / 3600.0
    rate = gained.clip(lower=0) / hours.clip(lower=MIN_HOURS)
    return pd.DataFrame(
        {
            "platform": ordered["platform"],
            "external_id": ordered["external_id"],
            "collected_at": ordered["collected_at"],
            "recent_velocity": rate,
        }
    )


def _first_match(text: pd.Series, rules: list[tuple[str, str]], default: str) -> pd.Series:
    result = np.full(len(text), default, dtype=object)
    decided = np.zeros(len(text), dtype=bool)
    for label, pattern in rules:
        hit = text.str.contains(pattern, regex=True).to_numpy(dtype=bool) & ~decided
        result[hit] = label
        decided |= hit
    return pd.Series(result, index=text.index, dtype=object)


def classify_styles(frame: pd.DataFrame) -> pd.Series:
    """Deterministic style classifier from text, duration and sound (ANLYS-2 default)."""
    text = (frame["title"].fillna("") + " " + frame["description"].fillna("")).str.lower()
    styles = _first_match(text, _STYLE_RULES, default="")
    undecided = styles == ""
    original = frame["sound_name"].fillna("").str.startswith("original sound")
    styles[undecided & original & (frame["duration_s"] >= 30)] = "talking-head"
    styles[undecided & (frame["duration_s"] < 15)] = "montage"
    styles[styles == ""] = "cinematic"
    return styles


def classify_hooks(titles: pd.Series) -> pd.Series:
    """The hook type of each title: question, pov, how-to, number, bold-claim or statement."""
    return _first_match(titles.fillna("").str.lower(), _HOOK_RULES, default="statement")


def audio_types(frame: pd.DataFrame) -> pd.Series:
    """Voiceover (no sound named), original audio, or a trending sound."""
    sound = frame["sound_name"].fillna("").str.lower()
    return pd.Series(
        np.select(
            [sound == "", sound.str.startswith("original sound")],
            ["voiceover", "original-audio"],
            default="trending-sound",
        ),
        index=frame.index,
    )


def with_styles(frame: pd.DataFrame, styles: pd.Series) -> pd.DataFrame:
    """The frame with `styles` (aligned on its index) and the text-overlay use that follows from them."""
    out = frame.copy()
    out["style"] = styles.reindex(out.index).fillna(out.get("style", "cinematic"))
    out["text_overlay"] = out["style"].isin(TEXT_OVERLAY_STYLES) | out["title"].str.len().gt(40)
    return out


def enrich(frame: pd.DataFrame) -> pd.DataFrame:
    """Add velocity, rule-based style, hook type, audio type and text-overlay use to a trends frame."""
    out = frame.copy()
    out["velocity"] = engagement_velocity(out)
    out["hook_type"] = classify_hooks(out["title"])
    out["audio_type"] = audio_types(out)
    return with_styles(out, classify_styles(out))


def window_trends(snapshots: pd.DataFrame, window: AnalysisWindow) -> pd.DataFrame:
    """The trends of a window, enriched: one row per video (its latest observation), with recent velocity.

    Raises ValueError when nothing was collected in the window.
    """
    snapshots = conform_trends(snapshots)
    upto_end = snapshots[snapshots["collected_at"] <= window.end].drop_duplicates(SNAPSHOT_KEY, keep="last")
    in_window = upto_end[upto_end["collected_at"] > window.start]
    if in_window.empty:
        raise ValueError(
            f"no trends collected between {window.start:%Y-%m-%d %H:%M} and {window.end:%Y-%m-%d %H:%M} UTC; "
            "materialize the trends for that day first"
        )
    latest = deduplicate_trends(in_window)
    recent = recent_velocities(upto_end)
    latest = latest.merge(recent, on=SNAPSHOT_KEY, how="left", validate="one_to_one")
    return enrich(latest)


# --- the report --------------------------------------------------------------------------------------


def _duration_bucket(frame: pd.DataFrame) -> pd.Series:
    """Each row's duration bucket; live broadcasts and unknown durations in buckets of their own."""
    buckets = pd.cut(frame["duration_s"], bins=DURATION_BINS, labels=DURATION_LABELS, right=False)
    buckets = buckets.astype(object).where(frame["duration_s"].notna(), UNKNOWN_BUCKET)
    return buckets.where(frame["content_kind"] != "live", LIVE_BUCKET).astype(str)


def _format_of(style: str, avg_duration: float) -> str:
    length = "short" if avg_duration < 20 else "medium" if avg_duration < 40 else "long"
    return f"{length} {style}"


def top_performers_of(data: pd.DataFrame, top_n: int = 10) -> pd.DataFrame:
    """The best fifth by velocity (at least `top_n` rows), fastest first; ties broken by key for stability.

    Ranked are the rows a video can be modelled on: a known velocity and a known duration (no live
    broadcast, no item whose counts or length the platform withheld).
    """
    rankable = data[data["velocity"].notna() & data["duration_s"].notna()]
    ranked = rankable.sort_values(["velocity", *KEY], ascending=[False, True, True], kind="stable")
    return ranked.head(max(top_n, len(ranked) // 5))


def _patterns(top: pd.DataFrame) -> list[StylePattern]:
    """What the top performers of each style have in common (ANLYS-4), most common style first."""
    grouped = top.groupby("style", sort=True)
    stats = grouped.agg(
        n=("velocity", "size"),
        avg_duration_s=("duration_s", "mean"),
        avg_velocity=("velocity", "mean"),
        text_overlay_share=("text_overlay", "mean"),
    )
    hooks = top.groupby(["style", "hook_type"]).size().reset_index(name="n")
    hooks = hooks.sort_values(["style", "n", "hook_type"], ascending=[True, False, True])
    hook_of = hooks.drop_duplicates("style").set_index("style")["hook_type"]
    audio = top.groupby(["style", "audio_type"]).size().reset_index(name="n")
    audio = audio.sort_values(["style", "n", "audio_type"], ascending=[True, False, True])
    audio_of = audio.drop_duplicates("style").set_index("style")["audio_type"]
    patterns = [
        StylePattern(
            style=str(style),
            count=int(row.n),
            share=round(row.n / len(top), 3),
            avg_duration_s=round(float(row.avg_duration_s), 1),
            avg_velocity=round(float(row.avg_velocity), 2),
            format=_format_of(str(style), float(row.avg_duration_s)),
            hook_type=hook_of[style],
            text_overlay_share=round(float(row.text_overlay_share), 3),
            audio_type=audio_of[style],
        )
        for style, row in stats.iterrows()
    ]
    patterns.sort(key=lambda p: (p.count, p.avg_velocity), reverse=True)
    return patterns


def _top_hashtags(top: pd.DataFrame, limit: int = TOP_HASHTAGS) -> list[HashtagCount]:
    tags = top["hashtags"].explode().dropna()
    counts = tags.value_counts()
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [HashtagCount(tag=str(tag), count=int(n)) for tag, n in ordered]


def _optional_float(value: object) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 2)


def report_from_window(
    data: pd.DataFrame,
    day: date,
    window: AnalysisWindow,
    *,
    top_n: int = 10,
    classifier: str = "rules",
) -> TrendReport:
    """The trend report (ANLYS-5) from a window's enriched trends (`window_trends`, styles applied)."""
    top = top_performers_of(data, top_n)
    if top.empty:
        raise ValueError(
            f"none of the {len(data)} trends in the window has a known engagement and duration to rank by; "
            "collect again, or from a source that reports likes, comments or shares"
        )
    patterns = _patterns(top)
    hooks = top["hook_type"].value_counts()
    dominant_hook = sorted(hooks.items(), key=lambda item: (-item[1], item[0]))[0][0]
    performers = [
        TopPerformer(
            platform=row.platform,
            external_id=row.external_id,
            title=row.title,
            creator_name=row.creator_name,
            velocity=round(float(row.velocity), 2),
            views=int(row.views),
            duration_s=float(row.duration_s),
            style=row.style,
            hook_type=row.hook_type,
            video_url=row.video_url,
            recent_velocity=_optional_float(getattr(row, "recent_velocity", None)),
        )
        for row in top.head(top_n).itertuples()
    ]
    hours = data["posted_at"].dt.hour.value_counts().sort_index()
    durations = _duration_bucket(data).value_counts().sort_index()
    by_style = data.groupby("style")["velocity"].median().dropna().sort_index()
    return TrendReport(
        date=day,
        window_start=window.start,
        window_end=window.end,
        window_hours=round(window.hours, 3),
        trend_count=len(data),
        counts_by_platform={str(k): int(v) for k, v in data["platform"].value_counts().sort_index().items()},
        counts_by_style={str(k): int(v) for k, v in data["style"].value_counts().sort_index().items()},
        velocity_by_style={str(k): round(float(v), 2) for k, v in by_style.items()},
        top_hashtags=_top_hashtags(top),
        top_performers=performers,
        patterns=patterns,
        dominant_style=patterns[0].style,
        dominant_hook_type=dominant_hook,
        recommended_duration_s=round(float(top["duration_s"].median()), 1),
        duration_histogram={str(k): int(v) for k, v in durations.items()},
        posting_hour_histogram={f"{int(h):02d}": int(n) for h, n in hours.items()},
        classifier=classifier,
    )


def build_trend_report(
    frame: pd.DataFrame,
    day: date,
    *,
    window_hours: float = DEFAULT_WINDOW_HOURS,
    window_end: datetime | None = None,
    top_n: int = 10,
    styles: pd.Series | None = None,
    classifier: str = "rules",
) -> TrendReport:
    """The trend report for `day` from snapshots collected in the `window_hours` before `window_end`.

    `styles`, when given, replaces the rule-based style of the window's rows (aligned on the index of
    `window_trends`' result); without it the deterministic classifier decides.
    """
    window = analysis_window(day, window_hours, window_end)
    data = window_trends(frame, window)
    if styles is not None:
        data = with_styles(data, styles)
    return report_from_window(data, day, window, top_n=top_n, classifier=classifier)


# --- consistency and presentation --------------------------------------------------------------------


def report_consistency_problems(report: TrendReport, snapshots: pd.DataFrame) -> list[str]:
    """How `report` disagrees with the snapshots it was built from (empty when consistent).

    Recomputes from the raw snapshots, independently of the report's own code path: the videos
    collected in the report's window, per platform, and where the top performers come from.
    """
    in_window = snapshots[
        (snapshots["collected_at"] > report.window_start) & (snapshots["collected_at"] <= report.window_end)
    ]
    keys = set(zip(in_window["platform"], in_window["external_id"], strict=True))
    by_platform: dict[str, int] = {}
    for platform, _ in keys:
        by_platform[platform] = by_platform.get(platform, 0) + 1
    problems = []
    if report.trend_count != len(keys):
        problems.append(f"trend_count is {report.trend_count} but the window holds {len(keys)} videos")
    if report.counts_by_platform != dict(sorted(by_platform.items())):
        problems.append(
            f"counts_by_platform {report.counts_by_platform} != {dict(sorted(by_platform.items()))} in the window"
        )
    for name, histogram in (
        ("duration_histogram", report.duration_histogram),
        ("posting_hour_histogram", report.posting_hour_histogram),
        ("counts_by_style", report.counts_by_style),
    ):
        if histogram and sum(histogram.values()) != report.trend_count:
            problems.append(f"{name} sums to {sum(histogram.values())}, not trend_count {report.trend_count}")
    strangers = [p.external_id for p in report.top_performers if (p.platform, p.external_id) not in keys]
    if strangers:
        problems.append(f"top performers not in the window: {strangers[:5]}")
    velocities = [p.velocity for p in report.top_performers]
    if velocities != sorted(velocities, reverse=True):
        problems.append("top performers are not ordered by velocity")
    if report.patterns and report.dominant_style != report.patterns[0].style:
        problems.append(f"dominant_style {report.dominant_style} is not the first pattern's style")
    return problems


def top_performers_markdown(report: TrendReport) -> str:
    """The report's top performers as a Markdown table for the Dagster UI."""
    lines = [
        "| # | platform | title | style | hook | velocity | recent | views |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rank, p in enumerate(report.top_performers, start=1):
        title = p.title.replace("|", "/").replace("\n", " ")[:60]
        recent = f"{p.recent_velocity:,.1f}" if p.recent_velocity is not None else "–"
        lines.append(
            f"| {rank} | {p.platform} | {title} | {p.style} | {p.hook_type} | {p.velocity:,.1f} | {recent} | {p.views:,} |"
        )
    return "\n".join(lines)


def style_inputs(frame: pd.DataFrame) -> list[Mapping[str, object]]:
    """What a style classifier sees of each row: text, hashtags, duration and sound, keyed by index."""
    return [
        {
            "id": str(index),
            "title": str(row.title),
            "description": row.description[:300] if isinstance(row.description, str) else "",
            "hashtags": [str(t) for t in (row.hashtags if row.hashtags is not None else [])][:10],
            "duration_s": None if pd.isna(row.duration_s) else float(row.duration_s),
            "sound_name": row.sound_name if isinstance(row.sound_name, str) else None,
        }
        for index, row in zip(frame.index, frame.itertuples(index=False), strict=True)
    ]
