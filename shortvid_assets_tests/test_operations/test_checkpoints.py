"""Protects resume from failure (ORCH-2): after any one stage fails, Dagster's re-execution from failure
runs that stage and what is downstream of it, nothing upstream, and each stage materializes once.

composed_video is the one stage not here: test_assets/test_graph.py re-executes it from failure on
the multiprocess executor, configured by environment.
"""

import dagster as dg
import pytest

from shortvid_assets.orchestration.jobs import TRENDS_JOB, VIDEO_JOB
from shortvid_assets.partitions import daily_partitions, date_theme_key, date_theme_partitions

from .broken_stages import reconstructable

DAY = "2026-11-24"
THEME = "minicup"
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}
TRENDS_STAGES = ["youtube_trends", "tiktok_trends", "trends", "trend_report"]
VIDEO_STAGES = ["video_script", "voiceover", "scene_clips", "composed_video", "review_status"]
# What re-execution from failure must run when the stage fails: the stage and its descendants in its job.
RERUN = {
    "youtube_trends": {"youtube_trends", "trends", "trend_report"},
    "tiktok_trends": {"tiktok_trends", "trends", "trend_report"},
    "trends": {"trends", "trend_report"},
    "trend_report": {"trend_report"},
    "video_script": set(VIDEO_STAGES),
    "voiceover": {"voiceover", "scene_clips", "composed_video", "review_status"},
    "scene_clips": {"scene_clips", "composed_video", "review_status"},
    "review_status": {"review_status"},
}


def started_steps(result: dg.JobExecutionResult) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}


def execute(instance, job_name: str, partition: str, broken: str, paths, review_url: str, **kwargs):
    partitions = daily_partitions if job_name == TRENDS_JOB else date_theme_partitions
    return dg.execute_job(
        reconstructable(job_name, broken, paths, review_url),
        instance,
        run_config=IN_PROCESS,
        tags=partitions.get_tags_for_partition_key(partition),
        **kwargs,
    )


@pytest.mark.parametrize("stage", list(RERUN))
def test_reexecution_from_failure_reruns_the_failed_stage_and_downstream_only(
    stage, instance, workspace, review_url
):
    review_db_url = review_url
    job_name = TRENDS_JOB if stage in TRENDS_STAGES else VIDEO_JOB
    partition = DAY if job_name == TRENDS_JOB else str(date_theme_key(DAY, THEME))
    if job_name == VIDEO_JOB:
        assert execute(instance, TRENDS_JOB, DAY, "", workspace, review_db_url).success

    failed = execute(instance, job_name, partition, stage, workspace, review_db_url)
    assert not failed.success
    failures = [e for e in failed.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failures] == [stage]
    assert f"injected failure in {stage}" in failures[0].step_failure_data.error.to_string()

    resumed = execute(
        instance,
        job_name,
        partition,
        "",  # the fix
        workspace,
        review_db_url,
        reexecution_options=dg.ReexecutionOptions.from_failure(failed.run_id, instance),
    )

    assert resumed.success
    assert started_steps(resumed) == RERUN[stage]
    for asset in TRENDS_STAGES + (VIDEO_STAGES if job_name == VIDEO_JOB else []):
        records = instance.fetch_materializations(dg.AssetKey(asset), limit=10).records
        assert len(records) == 1, asset
