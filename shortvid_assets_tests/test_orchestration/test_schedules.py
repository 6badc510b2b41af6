"""Protects the daily schedules: which partitions each tick asks for, in any time zone, and when they skip."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from shortvid_assets.definitions import defs
from shortvid_assets.orchestration.schedules import (
    TRENDS_SCHEDULE,
    VIDEO_SCHEDULE,
    InvalidScheduleConfig,
    build_daily_schedules,
    daily_trends_schedule,
    daily_video_schedule,
    started_schedules,
)
from shortvid_assets.partitions import date_theme_key, theme_partitions

THEMES = ["minicup", "tinytea"]


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(theme_partitions.name, THEMES)
        yield instance


def tick(schedule: dg.ScheduleDefinition, instance, when: datetime):
    repository = defs.get_repository_def()  # resolves partition keys against the jobs
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, repository_def=repository
    ) as context:
        return schedule.evaluate_tick(context)


def report_trends(instance, day: str) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization("trend_report", partition=day))


@pytest.mark.parametrize(
    ("timezone", "local_time", "day"),
    [
        ("UTC", datetime(2026, 11, 25, 1, 0), "2026-11-24"),
        ("America/Los_Angeles", datetime(2026, 11, 25, 1, 0), "2026-11-24"),  # 09:00 UTC
        ("Asia/Tokyo", datetime(2026, 11, 25, 1, 0), "2026-11-23"),  # 16:00 UTC on the 24th: not over yet
    ],
)
def test_trends_tick_asks_for_the_latest_complete_utc_day(instance, timezone, local_time, day):
    trends, _ = build_daily_schedules(timezone=timezone)
    data = tick(trends, instance, local_time.replace(tzinfo=ZoneInfo(timezone)))

    assert trends.execution_timezone == timezone
    assert [(r.partition_key, r.run_key) for r in data.run_requests] == [(day, day)]


def test_video_tick_asks_for_every_theme_of_the_day(instance):
    report_trends(instance, "2026-11-24")
    _, video = build_daily_schedules(timezone="Europe/Paris")

    data = tick(video, instance, datetime(2026, 11, 25, 3, 0, tzinfo=ZoneInfo("Europe/Paris")))

    assert [r.partition_key for r in data.run_requests] == [
        date_theme_key("2026-11-24", theme) for theme in THEMES
    ]
    assert [r.run_key for r in data.run_requests] == ["2026-11-24|minicup", "2026-11-24|tinytea"]


def test_video_tick_skips_until_the_days_trend_report_exists(instance):
    report_trends(instance, "2026-11-23")  # the day before: not enough

    data = tick(daily_video_schedule, instance, datetime(2026, 11, 25, 3, 0, tzinfo=ZoneInfo("UTC")))

    assert data.run_requests == []
    assert "no trend report for 2026-11-24" in data.skip_message


def test_video_tick_skips_without_themes():
    with dg.instance_for_test() as instance:
        report_trends(instance, "2026-11-24")
        data = tick(daily_video_schedule, instance, datetime(2026, 11, 25, 3, 0, tzinfo=ZoneInfo("UTC")))

    assert data.run_requests == [] and "no themes yet" in data.skip_message


def test_ticks_before_the_first_partition_skip(instance):
    data = tick(daily_trends_schedule, instance, datetime(2025, 6, 1, 1, 0, tzinfo=ZoneInfo("UTC")))

    assert data.run_requests == [] and "before the first daily partition" in data.skip_message


def test_schedules_start_stopped_unless_asked():
    assert daily_trends_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert daily_video_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert started_schedules(None) == set() and started_schedules("off") == set()
    assert started_schedules("on") == {TRENDS_SCHEDULE, VIDEO_SCHEDULE}
    assert started_schedules(f" {TRENDS_SCHEDULE} ") == {TRENDS_SCHEDULE}
    trends, video = build_daily_schedules(started={TRENDS_SCHEDULE})
    assert trends.default_status == dg.DefaultScheduleStatus.RUNNING
    assert video.default_status == dg.DefaultScheduleStatus.STOPPED


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"trends_cron": "every day"}, "SHORTVID_TRENDS_CRON='every day' is not a cron"),
    ],
)
def test_bad_configuration_is_refused_with_the_variable_named(kwargs, message):
    with pytest.raises(InvalidScheduleConfig, match=message):
        build_daily_schedules(**kwargs)
    with pytest.raises(InvalidScheduleConfig, match="SHORTVID_SCHEDULES names unknown"):
        started_schedules("daily_everything")
