"""Benchmark: the trend analysis on 100,000 synthetic snapshot rows, beside a naive row-by-row baseline.

Both compute the same things for one day's 24 h window: deduplication to the latest observation,
velocity (ANLYS-3) and recent velocity from the previous snapshot, rule-based style, hook and audio
type, top performers, top hashtags, patterns per style and the duration and posting-hour
distributions. The baseline does them the way a first draft would: `DataFrame.apply` for velocity
and Python loops over rows for the rest. Their results are compared before timing is reported.

Usage: .venv/bin/python benchmarks/analysis.py [--rows 100000] [--repeat 3]
The last output line is one JSON object: rows, seconds (best vectorized run), baseline_seconds, ratio.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shortvid_assets.domain import analysis, windows
from shortvid_assets.domain.sample_trends import synthetic_trends_frame

DAY = date(2026, 11, 24)
GOAL_S = 2.0


def _first(text: str, rules: list[tuple[str, re.Pattern[str]]], default: str) -> str:
    for label, pattern in rules:
        if pattern.search(text):
            return label
    return default


def naive_report(frame: pd.DataFrame, day: date, window_hours: float = 24.0, top_n: int = 10) -> dict:
    """The same analysis, row by row: what `build_trend_report` replaces."""
    window = windows.analysis_window(day, window_hours)
    style_rules = [(label, re.compile(p)) for label, p in analysis._STYLE_RULES]
    hook_rules = [(label, re.compile(p)) for label, p in analysis._HOOK_RULES]

    frame = frame.copy()
    frame["velocity"] = frame.apply(
        lambda r: (
            (r["likes"] + r["comments"] + r["shares"])
            / max((r["collected_at"] - r["posted_at"]).total_seconds() / 3600.0, analysis.MIN_HOURS)
        ),
        axis=1,
    )
    history: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in frame.to_dict("records"):
        if row["collected_at"] <= window.end:
            history[(row["platform"], row["external_id"])].append(row)

    rows = []
    for observations in history.values():
        observations.sort(key=lambda r: r["collected_at"])
        in_window = [r for r in observations if r["collected_at"] > window.start]
        if not in_window:
            continue
        latest = dict(in_window[-1])
        position = observations.index(in_window[-1])
        latest["recent_velocity"] = None
        if position > 0:
            before = observations[position - 1]
            gained = (latest["likes"] + latest["comments"] + latest["shares"]) - (
                before["likes"] + before["comments"] + before["shares"]
            )
            hours = (latest["collected_at"] - before["collected_at"]).total_seconds() / 3600.0
            latest["recent_velocity"] = max(gained, 0) / max(hours, analysis.MIN_HOURS)
        text = f"{latest['title']} {latest['description']}".lower()
        style = _first(text, style_rules, "")
        if not style:
            sound = latest["sound_name"] or ""
            if sound.startswith("original sound") and latest["duration_s"] >= 30:
                style = "talking-head"
            elif latest["duration_s"] < 15:
                style = "montage"
            else:
                style = "cinematic"
        latest["style"] = style
        latest["hook_type"] = _first(latest["title"].lower(), hook_rules, "statement")
        sound = (latest["sound_name"] or "").lower()
        latest["audio_type"] = (
            "voiceover"
            if not sound
            else "original-audio"
            if sound.startswith("original sound")
            else "trending-sound"
        )
        latest["text_overlay"] = style in analysis.TEXT_OVERLAY_STYLES or len(latest["title"]) > 40
        rows.append(latest)

    rows.sort(key=lambda r: (-r["velocity"], r["platform"], r["external_id"]))
    top = rows[: max(top_n, len(rows) // 5)]
    tags = Counter(tag for r in top for tag in r["hashtags"])
    by_style: dict[str, list[dict]] = defaultdict(list)
    for r in top:
        by_style[r["style"]].append(r)
    patterns = sorted(
        (
            (len(group), sum(r["velocity"] for r in group) / len(group), style)
            for style, group in by_style.items()
        ),
        reverse=True,
    )
    platforms = Counter(r["platform"] for r in rows)
    hours = Counter(f"{r['posted_at'].hour:02d}" for r in rows)
    durations = Counter(
        next(
            label
            for label, upper in zip(analysis.DURATION_LABELS, analysis.DURATION_BINS[1:], strict=True)
            if r["duration_s"] < upper
        )
        for r in rows
    )
    return {
        "trend_count": len(rows),
        "counts_by_platform": dict(sorted(platforms.items())),
        "top_ids": [r["external_id"] for r in top[:top_n]],
        "top_hashtags": [tag for tag, _ in sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:15]],
        "dominant_style": patterns[0][2],
        "posting_hours": dict(sorted(hours.items())),
        "durations": dict(sorted(durations.items())),
    }


def summary(report) -> dict:
    return {
        "trend_count": report.trend_count,
        "counts_by_platform": report.counts_by_platform,
        "top_ids": [p.external_id for p in report.top_performers],
        "top_hashtags": [h.tag for h in report.top_hashtags],
        "dominant_style": report.dominant_style,
        "posting_hours": report.posting_hour_histogram,
        "durations": report.duration_histogram,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    frame = synthetic_trends_frame(args.rows, DAY, seed=7)
    print(
        f"{len(frame):,} synthetic snapshot rows ({frame[analysis.KEY].drop_duplicates().shape[0]:,} videos)"
    )

    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = analysis.build_trend_report(frame, DAY)
        timings.append(time.perf_counter() - start)
    print(
        f"vectorized: best {min(timings):.3f} s, median {statistics.median(timings):.3f} s over {args.repeat} runs"
    )

    start = time.perf_counter()
    naive = naive_report(frame, DAY)
    baseline = time.perf_counter() - start
    print(f"naive row-by-row baseline: {baseline:.3f} s")

    vectorized = summary(report)
    mismatched = sorted(key for key in vectorized if vectorized[key] != naive[key])
    if mismatched:
        print(f"RESULTS DIFFER in {mismatched}", file=sys.stderr)
    ratio = baseline / min(timings)
    print(f"speed-up: {ratio:.1f}x; goal <= {GOAL_S} s: {'met' if min(timings) <= GOAL_S else 'MISSED'}")
    print(
        json.dumps(
            {
                "rows": len(frame),
                "seconds": round(min(timings), 3),
                "median_seconds": round(statistics.median(timings), 3),
                "baseline_seconds": round(baseline, 3),
                "ratio": round(ratio, 1),
                "same_results": not mismatched,
                "goal_seconds": GOAL_S,
            }
        )
    )
    return 1 if mismatched else 0


if __name__ == "__main__":
    raise SystemExit(main())
