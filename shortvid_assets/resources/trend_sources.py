"""Trend sources: one interface, the offline sample by default, live APIs when configured."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date

import dagster as dg

from shortvid_assets.domain.models import Platform, Trend
from shortvid_assets.domain.sample_trends import PER_PLATFORM, sample_trends


@dataclass
class Collection:
    """What one collection run brought back, and what it cost."""

    trends: list[Trend]
    source: str
    requests: int = 0
    failed_requests: int = 0
    quota_units: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


class TrendSource(dg.ConfigurableResource, ABC):
    """Collects the day's trending short videos of one platform."""

    @abstractmethod
    def collect(self, platform: Platform, day: date) -> Collection: ...


class SampleTrendSource(TrendSource):
    """Offline default: deterministic sample trends shipped with the package."""

    limit: int = PER_PLATFORM

    def collect(self, platform: Platform, day: date) -> Collection:
        return Collection(trends=sample_trends(platform, day, self.limit), source="sample")
