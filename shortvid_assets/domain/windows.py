"""The analysis window (ANLYS-1): which collection times a day's report aggregates, and which days it reads.

Pure date arithmetic, apart from the pandas analysis, so that the live sources and the trends asset
can use it without loading pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

DEFAULT_WINDOW_HOURS = 24.0


@dataclass(frozen=True)
class AnalysisWindow:
    """The span of collection times a report aggregates: (start, end]."""

    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0


def end_of_day(day: date) -> datetime:
    """Midnight UTC after `day`."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def analysis_window(day: date, window_hours: float, anchor: datetime | None = None) -> AnalysisWindow:
    """The `window_hours` before `anchor` (the day's last collection; the end of the day if None)."""
    if not window_hours > 0:
        raise ValueError(f"the analysis window must be > 0 hours, got {window_hours}")
    end = anchor if anchor is not None else end_of_day(day)
    if end.tzinfo is None:
        raise ValueError("the window's anchor must be timezone-aware (UTC expected)")
    return AnalysisWindow(start=end - timedelta(hours=window_hours), end=end)


def window_days(day: date, window: AnalysisWindow) -> list[date]:
    """The daily partitions whose snapshots a window can use, oldest first, ending at `day`.

    One day before the window's start is included: its snapshots are the baseline of recent velocity.
    A partition collected late (a backfill, a retry after an outage) has its window anchored at
    that collection, days after `day`; the partition's own days before `day` still count.
    """
    span = window.end - window.start
    first = min(window.start - timedelta(days=1), end_of_day(day) - span - timedelta(days=1)).date()
    return [first + timedelta(days=n) for n in range((day - first).days + 1)]


def collection_window(day: date, now: datetime, lookback_hours: float) -> tuple[datetime, datetime]:
    """Posting times a live collection for `day` asks for: the `lookback_hours` before the day's end (or now)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC expected)")
    start_of_day = datetime.combine(day, time.min, tzinfo=UTC)
    if now <= start_of_day:
        raise ValueError(
            f"cannot collect trends for {day}: the day has not started yet (now is {now:%Y-%m-%d %H:%M} UTC)"
        )
    end = min(end_of_day(day), now)
    return end - timedelta(hours=lookback_hours), end
