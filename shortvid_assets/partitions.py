"""Partitions: daily for trends, date × theme for everything made per product."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from shortvid_assets import settings

daily_partitions = dg.DailyPartitionsDefinition(start_date=settings.start_date().isoformat(), timezone="UTC")
theme_partitions = dg.DynamicPartitionsDefinition(name="theme")
date_theme_partitions = dg.MultiPartitionsDefinition({"date": daily_partitions, "theme": theme_partitions})

# A date × theme asset reads the daily upstream of its own date.
by_date = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="date")


def date_theme_key(date: str, theme: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"date": date, "theme": theme})


def split_date_theme(context: dg.AssetExecutionContext) -> tuple[str, str]:
    """The (date, theme) of a date × theme run."""
    keys = context.partition_key.keys_by_dimension
    return keys["date"], keys["theme"]


def missing_theme_partitions(instance: dg.DagsterInstance, slugs: Iterable[str]) -> list[str]:
    """Theme slugs (from the config) that have no partition yet."""
    return sorted(set(slugs) - set(instance.get_dynamic_partitions(theme_partitions.name)))


def add_theme_partitions(instance: dg.DagsterInstance, slugs: Iterable[str]) -> list[str]:
    """Add a partition for every slug that has none; the slugs added."""
    new = missing_theme_partitions(instance, slugs)
    if new:
        instance.add_dynamic_partitions(theme_partitions.name, new)
    return new
