"""Trend analysis (ANLYS-1..5): velocity, styles, hooks and patterns of the best performers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from shortvid_assets.domain.models import (
    HashtagCount,
    StylePattern,
    TopPerformer,
    Trend,
    TrendReport,
)

TREND_COLUMNS = list(Trend.model_fields)
KEY = ["platform", "external_id"]
MIN_HOURS = 0.1  # ANLYS-3: velocity's floor on hours since posted

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


def trends_frame(trends: Iterable[Trend]) -> pd.DataFrame:
    """Trends as a DataFrame with one column per TREND-3 field (UTC timestamps)."""
    frame = pd.DataFrame([trend.model_dump() for trend in trends], columns=TREND_COLUMNS)
    for column in ("posted_at", "collected_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def deduplicate_trends(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (platform, external id): the most recent observation wins (TREND-4)."""
    ordered = frame.sort_values("collected_at", kind="stable")
    return ordered.drop_duplicates(subset=KEY, keep="last").reset_index(drop=True)


def engagement_velocity(frame: pd.DataFrame) -> pd.Series:
    """(likes + comments + shares) / hours since posted, hours floored at 0.1 (ANLYS-3)."""
    hours = (frame["collected_at"] - frame["posted_at"]).dt.total_seconds() / 3600.0
    engagement = frame["likes"] + frame["comments"] + frame["shares"]
    return engagement / hours.clip(lower=MIN_HOURS)


def _first_match(text: pd.Series, rules: list[tuple[str, str]], default: str) -> pd.Series:
    result = pd.Series(default, index=text.index, dtype=object)
    decided = pd.Series(False, index=text.index)
    for label, pattern in rules:
        hit = text.str.contains(pattern, regex=True) & ~decided
        result[hit] = label
        decided |= hit
    return result


def classify_styles(frame: pd.DataFrame) -> pd.Series:
    """Deterministic style classifier from text, duration and sound (ANLYS-2 default)."""
    text = (frame["title"] + " " + frame["description"]).str.lower()
    styles = _first_match(text, _STYLE_RULES, default="")
    undecided = styles == ""
    original = frame["sound_name"].fillna("").str.startswith("original sound")
    styles[undecided & original & (frame["duration_s"] >= 30)] = "talking-head"
    styles[undecided & (frame["duration_s"] < 15)] = "montage"
    styles[styles == ""] = "cinematic"
    return styles


def classify_hooks(titles: pd.Series) -> pd.Series:
    return _first_match(titles.str.lower(), _HOOK_RULES, default="statement")


def audio_types(frame: pd.DataFrame) -> pd.Series:
    sound = frame["sound_name"].fillna("").str.lower()
    return pd.Series(
        np.select(
            [sound == "", sound.str.startswith("original sound")],
            ["voiceover", "original-audio"],
            default="trending-sound",
        ),
        index=frame.index,
    )


def enrich(frame: pd.DataFrame) -> pd.DataFrame:
    """Add velocity, style, hook type, audio type and text-overlay use to a trends frame."""
    out = frame.copy()
    out["velocity"] = engagement_velocity(out)
    out["style"] = classify_styles(out)
    out["hook_type"] = classify_hooks(out["title"])
    out["audio_type"] = audio_types(out)
    out["text_overlay"] = out["style"].isin(["text-heavy", "tutorial"]) | out["title"].str.len().gt(40)
    return out


def _duration_bucket(seconds: pd.Series) -> pd.Series:
    bins = [0, 15, 30, 45, 60, np.inf]
    labels = ["0-15s", "15-30s", "30-45s", "45-60s", "60s+"]
    return pd.cut(seconds, bins=bins, labels=labels, right=False).astype(str)


def _format_of(style: str, avg_duration: float) -> str:
    length = "short" if avg_duration < 20 else "medium" if avg_duration < 40 else "long"
    return f"{length} {style}"


def build_trend_report(
    frame: pd.DataFrame,
    day: date,
    *,
    window_hours: float = 24.0,
    top_n: int = 10,
    styles: pd.Series | None = None,
    classifier: str = "rules",
) -> TrendReport:
    """The trend report for `day` from trends collected in the window ending at the day's end."""
    window_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    window_start = window_end - timedelta(hours=window_hours)
    in_window = frame[(frame["collected_at"] > window_start) & (frame["collected_at"] <= window_end)]
    data = deduplicate_trends(in_window)
    if data.empty:
        raise ValueError(
            f"no trends collected between {window_start:%Y-%m-%d %H:%M} and {window_end:%Y-%m-%d %H:%M} UTC; "
            "materialize the trends for that day first"
        )
    data = enrich(data)
    if styles is not None:
        data["style"] = styles.reindex(data.index).fillna(data["style"])

    ranked = data.sort_values("velocity", ascending=False)
    top = ranked.head(max(top_n, len(ranked) // 5))  # top performers: the best fifth, at least top_n

    hashtag_counts = top["hashtags"].explode().dropna().value_counts()
    top_hashtags = [HashtagCount(tag=str(tag), count=int(n)) for tag, n in hashtag_counts.head(15).items()]

    patterns = []
    for style, group in top.groupby("style"):
        avg_duration = float(group["duration_s"].mean())
        patterns.append(
            StylePattern(
                style=style,
                count=len(group),
                share=round(len(group) / len(top), 3),
                avg_duration_s=round(avg_duration, 1),
                avg_velocity=round(float(group["velocity"].mean()), 2),
                format=_format_of(str(style), avg_duration),
                hook_type=group["hook_type"].mode().iloc[0],
                text_overlay_share=round(float(group["text_overlay"].mean()), 3),
                audio_type=group["audio_type"].mode().iloc[0],
            )
        )
    patterns.sort(key=lambda p: (p.count, p.avg_velocity), reverse=True)

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
        )
        for row in top.head(top_n).itertuples()
    ]
    hours = data["posted_at"].dt.hour.value_counts().sort_index()
    durations = _duration_bucket(data["duration_s"]).value_counts().sort_index()
    return TrendReport(
        date=day,
        window_start=window_start,
        window_end=window_end,
        trend_count=len(data),
        counts_by_platform={str(k): int(v) for k, v in data["platform"].value_counts().sort_index().items()},
        top_hashtags=top_hashtags,
        top_performers=performers,
        patterns=patterns,
        dominant_style=patterns[0].style,
        dominant_hook_type=top["hook_type"].mode().iloc[0],
        recommended_duration_s=round(float(top["duration_s"].median()), 1),
        duration_histogram={str(k): int(v) for k, v in durations.items()},
        posting_hour_histogram={f"{int(h):02d}": int(n) for h, n in hours.items()},
        classifier=classifier,
    )


def top_performers_markdown(report: TrendReport) -> str:
    """The report's top performers as a Markdown table for the Dagster UI."""
    lines = ["| # | platform | title | style | hook | velocity | views |", "|---|---|---|---|---|---|---|"]
    for rank, p in enumerate(report.top_performers, start=1):
        title = p.title.replace("|", "/")[:60]
        lines.append(
            f"| {rank} | {p.platform} | {title} | {p.style} | {p.hook_type} | {p.velocity:,.1f} | {p.views:,} |"
        )
    return "\n".join(lines)
