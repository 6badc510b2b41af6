"""Protects what a backfill targets: days × themes per stage, trends/video/both, missing-only, and the
asset backfill stored on the instance for the daemon (the daemon test runs them for real).
"""

import dagster as dg
import pytest
from click.testing import CliRunner

from shortvid_assets.cli.ops import backfill
from shortvid_assets.runtime.runner import (
    BACKFILL_GROUP_TAG,
    launch_backfill,
    launch_daily_backfills,
    plan_backfill,
)

DAYS = ["2026-06-01", "2026-06-02"]
TRENDS = ["youtube_trends", "tiktok_trends", "trends", "trend_report"]
VIDEO = ["video_script", "voiceover", "scene_clips", "composed_video", "review_status"]


def test_plan_covers_every_stage_for_every_day_and_theme(instance):
    plan = plan_backfill(instance, DAYS, ["minicup", "tinytea"])

    assert set(plan.partitions) == set(TRENDS + VIDEO)
    assert plan.partitions["trend_report"] == DAYS
    assert plan.partitions["composed_video"] == [
        "2026-06-01|minicup",
        "2026-06-01|tinytea",
        "2026-06-02|minicup",
        "2026-06-02|tinytea",
    ]
    assert plan.count() == 4 * 2 + 5 * 4


def test_plan_scopes_and_missing_only(instance):
    instance.report_runless_asset_event(dg.AssetMaterialization("trend_report", partition=DAYS[0]))
    instance.report_runless_asset_event(
        dg.AssetMaterialization("composed_video", partition="2026-06-01|minicup")
    )

    missing = plan_backfill(instance, DAYS, ["minicup"], missing_only=True)
    assert missing.partitions["trend_report"] == [DAYS[1]]
    assert missing.partitions["trends"] == DAYS
    assert missing.partitions["composed_video"] == ["2026-06-02|minicup"]
    assert set(plan_backfill(instance, DAYS, ["minicup"], scope="trends").partitions) == set(TRENDS)
    assert set(plan_backfill(instance, DAYS, ["minicup"], scope="video").partitions) == set(VIDEO)
    with pytest.raises(ValueError, match="backfill scope 'everything'"):
        plan_backfill(instance, DAYS, ["minicup"], scope="everything")


def test_launch_stores_an_asset_backfill_of_exactly_the_plan(instance):
    plan = plan_backfill(instance, DAYS[:1], ["tinytea"], scope="video")

    backfill_id = launch_backfill(instance, plan, title="test")

    stored = instance.get_backfill(backfill_id)
    assert stored.status.value == "REQUESTED" and stored.title == "test"
    target = stored.asset_backfill_data.target_subset
    assert {k.to_user_string() for k in target.asset_keys} == set(VIDEO)
    for key in target.asset_keys:
        assert set(target.get_partitions_subset(key).get_partition_keys()) == {"2026-06-01|tinytea"}


def test_daily_backfills_one_per_day_each_with_its_trends_and_videos_in_one_group(instance):
    # One backfill of many days splits each video into several runs (Dagster requests a child step
    # with its parent only for the same partitions); per day, a day's videos become ready together.
    plan = plan_backfill(instance, DAYS, ["minicup", "tinytea"])

    ids = launch_daily_backfills(instance, plan, title="month")

    assert len(ids) == len(DAYS) == len(set(ids))
    stored = [instance.get_backfill(i) for i in ids]
    assert [b.title for b in stored] == [f"month [{day}]" for day in DAYS]
    assert len({b.tags[BACKFILL_GROUP_TAG] for b in stored}) == 1
    for day, backfill_data in zip(DAYS, (b.asset_backfill_data for b in stored), strict=True):
        target = backfill_data.target_subset
        assert {k.to_user_string() for k in target.asset_keys} == set(TRENDS + VIDEO)
        assert set(target.get_partitions_subset(dg.AssetKey("trend_report")).get_partition_keys()) == {day}
        assert set(target.get_partitions_subset(dg.AssetKey("composed_video")).get_partition_keys()) == {
            f"{day}|minicup",
            f"{day}|tinytea",
        }
    assert sum(plan.for_day(day).count() for day in DAYS) == plan.count()


def test_daily_backfills_skip_days_with_nothing_missing(instance):
    for asset in TRENDS:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset, partition=DAYS[0]))
    for asset in VIDEO:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset, partition=f"{DAYS[0]}|minicup"))
    plan = plan_backfill(instance, DAYS, ["minicup"], missing_only=True)

    assert plan.days() == [DAYS[1]]
    assert len(launch_daily_backfills(instance, plan, title="missing")) == 1


def test_cli_refuses_bad_ranges_before_touching_the_instance():
    result = CliRunner().invoke(backfill, ["--from", "2026-06-03", "--to", "2026-06-01"])
    assert result.exit_code == 2 and "--to 2026-06-01 is before --from 2026-06-03" in result.output
    result = CliRunner().invoke(backfill, ["--from", "2026-6-1", "--to", "2026-06-01"])
    assert result.exit_code == 2 and "invalid date '2026-6-1'" in result.output
