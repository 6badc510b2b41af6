"""Partitions: daily for trends, date × theme for everything made per product."""

from __future__ import annotations

import os

import dagster as dg

DEFAULT_START_DATE = "2026-01-01"

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=os.environ.get("SHORTVID_START_DATE", DEFAULT_START_DATE), timezone="UTC"
)
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
