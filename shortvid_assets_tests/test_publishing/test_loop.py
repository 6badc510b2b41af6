"""Protects the whole performance loop: a reviewer's approval -> the review sensor and review_status -> the
publish sensor -> published_video on (fake) YouTube -> the next day's video_performance (statistics and
Analytics as a daily snapshot, the performance report) -> the next day's plan takes the hook pattern and
style of our own best video and says so; and the publish sensor's planning as a table of cases.
"""

from __future__ import annotations

import dagster as dg
import pytest

from shortvid_assets.assets import trends as trend_assets
from shortvid_assets.assets.content import video_script
from shortvid_assets.definitions import build_definitions
from shortvid_assets.domain.files import file_sha256
from shortvid_assets.domain.models import VideoPlan
from shortvid_assets.orchestration.jobs import (
    PERFORMANCE_JOB,
    PUBLISH_JOB,
    REVIEW_JOB,
    publish_video_job,
    review_status_job,
)
from shortvid_assets.orchestration.publishing import (
    PublishSensorCursor,
    ReviewOutcome,
    build_publish_sensor,
    plan_publish_runs,
)
from shortvid_assets.orchestration.sensors import build_review_decisions_sensor
from shortvid_assets.partitions import date_theme_key
from shortvid_assets.resources.publishing import DisabledPublisher
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.runtime.runner import run_day

from .conftest import DAY, NEXT_DAY, THEME, Site

publish_sensor = build_publish_sensor(publish_video_job, enabled=True)
review_sensor = build_review_decisions_sensor(review_status_job)
OTHER_HOOK = {"question": "pov", "pov": "number"}
OTHER_STYLE = {"montage": "cinematic", "cinematic": "montage"}


def metadata(result: dg.ExecuteInProcessResult, node: str) -> dict:
    event = result.asset_materializations_for_node(node)[0]
    return {k: v.value for k, v in event.metadata.items()}


def test_approve_sensor_publish_performance_next_plan(workspace, db_url, instance, fake):
    site = Site(workspace, db_url, instance, fake)
    defs = build_definitions(site.resources())
    assert all(run.success for run in run_day(instance, DAY, [THEME], defs=defs))
    first_plan = workspace.artifacts.read_plan(DAY, THEME)
    publish_context = dg.build_sensor_context(
        instance=instance, resources={"publisher": site.resources()["publisher"]}
    )
    assert isinstance(publish_sensor(publish_context), dg.SkipReason)  # a pending video is not published

    # A reviewer approves; the review sensor's run files the video as approved.
    review = workspace.artifacts.review_file("review", DAY, THEME, "mp4")
    site.decide("approved", file_sha256(review))
    review_tick = review_sensor(
        dg.build_sensor_context(instance=instance, resources={"review_db": ReviewDatabase(url=db_url), "paths": workspace})
    )
    [review_request] = review_tick.run_requests
    applied = defs.resolve_job_def(REVIEW_JOB).execute_in_process(
        instance=instance, partition_key=review_request.partition_key
    )
    assert metadata(applied, "review_status")["status"] == "approved"

    # The publish sensor asks for one run; the run uploads the approved render.
    tick = publish_sensor(
        dg.build_sensor_context(instance=instance, cursor=publish_context.cursor,
                                resources={"publisher": site.resources()["publisher"]})
    )  # fmt: skip
    [request] = tick.run_requests
    assert request.partition_key == str(date_theme_key(DAY, THEME))
    published = defs.resolve_job_def(PUBLISH_JOB).execute_in_process(
        instance=instance, partition_key=request.partition_key
    )
    meta = metadata(published, "published_video")
    [video] = fake.videos.values()
    assert meta["video_id"] == video.resource["id"] and meta["status"] == "published"
    again = publish_sensor(
        dg.build_sensor_context(instance=instance, cursor=tick.cursor,
                                resources={"publisher": site.resources()["publisher"]})
    )  # fmt: skip
    assert isinstance(again, dg.SkipReason)  # nothing new: no second run

    # The next day: our video did well; video_performance reads it back.
    video.views, video.likes, video.comments = 1200, 80, 9
    video.analytics = {
        "views": 1200,
        "averageViewDuration": 5,
        "averageViewPercentage": 81.5,
        "engagedViews": 900,
    }
    performance = defs.resolve_job_def(PERFORMANCE_JOB).execute_in_process(
        instance=instance, partition_key=NEXT_DAY
    )
    perf = metadata(performance, "video_performance")
    assert perf["videos"] == 1 and perf["views"] == 1200 and perf["analytics"] == "available"
    assert perf["best_by_theme"] == {THEME: f"{first_plan.hook_type} hook, {first_plan.style}"}
    assert perf["quota_units"] == {"default": 1}  # one batched videos.list call
    report, _ = workspace.artifacts.latest_performance_report(NEXT_DAY)
    [ranked] = report.videos
    assert (ranked.video_id, ranked.latest_views, ranked.retention_pct) == (video.resource["id"], 1200, 81.5)

    # The next day's trends favour another hook and style; the plan follows our own best video instead.
    assert dg.materialize(
        dg.load_assets_from_modules([trend_assets]), partition_key=NEXT_DAY, instance=instance,
        resources=site.resources(),
    ).success  # fmt: skip
    trend_report = workspace.artifacts.read_report(NEXT_DAY)
    changed = trend_report.model_copy(
        update={"dominant_hook_type": OTHER_HOOK.get(first_plan.hook_type, "question"),
                "dominant_style": OTHER_STYLE.get(first_plan.style, "montage")}
    )  # fmt: skip
    workspace.artifacts.write_report(changed, NEXT_DAY)
    planned = dg.materialize(
        [video_script], partition_key=str(date_theme_key(NEXT_DAY, THEME)), instance=instance,
        resources=site.resources(),
    )  # fmt: skip
    plan_meta = metadata(planned, "video_script")
    plan = VideoPlan.model_validate_json(workspace.artifacts.plan(NEXT_DAY, THEME).read_text())
    assert (plan.hook_type, plan.style) == (first_plan.hook_type, first_plan.style)
    assert plan.hook_type != changed.dominant_hook_type
    assert plan_meta["performance_pattern"] == f"{first_plan.hook_type} hook, {first_plan.style} style"
    assert plan_meta["performance_report"].endswith(f"{NEXT_DAY}.report.json")
    assert "from our best" in plan.trend_pattern


def test_the_publish_sensor_skips_while_publishing_is_off(instance):
    context = dg.build_sensor_context(instance=instance, resources={"publisher": DisabledPublisher()})
    result = publish_sensor(context)
    assert isinstance(result, dg.SkipReason) and "SHORTVID_PUBLISH=off" in result.skip_message


def outcome(storage_id, status, theme="minicup", sha="a" * 64, timestamp=1000.0):
    return ReviewOutcome(storage_id, DAY, theme, status, sha, timestamp)


@pytest.mark.parametrize(
    ("outcomes", "not_before", "expected"),
    [
        ([], None, []),
        ([outcome(1, "approved")], None, [(DAY, "minicup", 1)]),
        ([outcome(1, "pending"), outcome(2, "rejected", theme="b")], None, []),
        ([outcome(1, "approved"), outcome(2, "rejected")], None, []),  # rejected after: the newest counts
        ([outcome(1, "rejected"), outcome(2, "approved")], None, [(DAY, "minicup", 2)]),
        ([outcome(1, "approved", sha=None)], None, []),  # no render named: nothing to publish
        (
            [outcome(3, "approved", theme="b"), outcome(2, "approved")],
            None,
            [(DAY, "minicup", 2), (DAY, "b", 3)],
        ),
        ([outcome(1, "approved", timestamp=10.0), outcome(2, "approved", theme="b")], 500.0, [(DAY, "b", 2)]),
    ],
)
def test_plan_publish_runs(outcomes, not_before, expected):
    runs = plan_publish_runs(outcomes, not_before=not_before)
    assert [(r.day, r.theme, r.storage_id) for r in runs] == expected
    assert len({r.run_key for r in runs}) == len(runs)


def test_a_cursor_the_sensor_did_not_write_is_refused_in_one_line():
    assert PublishSensorCursor.parse(None) is None
    assert PublishSensorCursor.parse('{"after_storage_id": 5}').after_storage_id == 5
    with pytest.raises(ValueError, match="reset the sensor's cursor"):
        PublishSensorCursor.parse("not json")
