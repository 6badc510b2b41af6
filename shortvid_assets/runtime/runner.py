"""Materializing the graph for a day from Python: the CLI's `run` and `demo`, and tests.

Materialization records are the checkpoints (ORCH-2): a stage already materialized for the
partition is not run again unless forced; a stage that is missing runs together with
everything downstream of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dagster as dg

from shortvid_assets.definitions import load_job
from shortvid_assets.orchestration.jobs import TRENDS_JOB, VIDEO_JOB
from shortvid_assets.partitions import date_theme_key

log = logging.getLogger(__name__)
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@dataclass
class StageRun:
    job: str
    partition: str
    ran: list[str]
    skipped: list[str]
    success: bool
    run_id: str | None
    error: str | None = None


def stages_to_run(
    instance: dg.DagsterInstance, job: dg.JobDefinition, partition_key: str, force: bool = False
) -> tuple[list[dg.AssetKey], list[dg.AssetKey]]:
    """(to run, already materialized) for one partition of an asset job, in graph order."""
    graph = job.asset_layer.asset_graph
    selected = job.asset_layer.selected_asset_keys
    keys = [key for key in graph.toposorted_asset_keys if key in selected]
    if force:
        return keys, []
    missing = {key for key in keys if partition_key not in instance.get_materialized_partitions(key)}
    stale = set(missing)
    for key in keys:  # topological order: a child of something that runs, runs too
        if any(parent in stale for parent in graph.get(key).parent_keys):
            stale.add(key)
    return [k for k in keys if k in stale], [k for k in keys if k not in stale]


def run_partition(
    instance: dg.DagsterInstance,
    job_name: str,
    partition_key: str,
    *,
    force: bool = False,
    defs: dg.Definitions | None = None,
    always: tuple[str, ...] = ("review_status",),
) -> StageRun:
    """Materialize what is missing of one partition of `job_name`, in this process."""
    job = defs.resolve_job_def(job_name) if defs is not None else load_job(job_name)
    todo, done = stages_to_run(instance, job, partition_key, force)
    todo += [key for key in done if key.to_user_string() in always]
    done = [key for key in done if key not in todo]
    names = [k.to_user_string() for k in todo]
    if done:
        log.info(
            "%s %s: already materialized, not re-run: %s",
            job_name,
            partition_key,
            [k.to_user_string() for k in done],
        )
    if not todo:
        return StageRun(job_name, partition_key, [], [k.to_user_string() for k in done], True, None)
    result = job.execute_in_process(
        instance=instance,
        partition_key=partition_key,
        asset_selection=todo,
        raise_on_error=False,
        run_config=QUIET_LOGS,
    )
    return StageRun(
        job_name,
        partition_key,
        names,
        [k.to_user_string() for k in done],
        result.success,
        result.run_id,
        None if result.success else failure_summary(result.all_events),
    )


def failure_summary(events) -> str:
    """`step: exception: message` of each failed step, from the root cause a person can act on."""
    lines = []
    for event in events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            message = error.message.strip()
            if error.cls_name == "Failure":  # dg.Failure's description is the whole story
                message = message.split(": ", 1)[-1]
            lines.append(f"{event.step_key}: {message}")
    return "\n".join(lines) or "the run failed before any step ran; see the Dagster logs"


def run_day(
    instance: dg.DagsterInstance,
    day: str,
    themes: list[str],
    *,
    force: bool = False,
    defs: dg.Definitions | None = None,
) -> list[StageRun]:
    """The whole graph for `day`: its trends once, then every theme's video; stops at a failure."""
    runs = [run_partition(instance, TRENDS_JOB, day, force=force, defs=defs)]
    if not runs[0].success:
        return runs
    for theme in themes:
        runs.append(
            run_partition(instance, VIDEO_JOB, str(date_theme_key(day, theme)), force=force, defs=defs)
        )
    return runs


# --- backfills ----------------------------------------------------------------------------------------

BACKFILL_SCOPES = ("all", "trends", "video")


@dataclass
class BackfillPlan:
    """Which partitions of which assets a backfill targets, in graph order."""

    partitions: dict[str, list[str]]

    @property
    def empty(self) -> bool:
        return not any(self.partitions.values())

    def count(self) -> int:
        return sum(len(keys) for keys in self.partitions.values())

    def days(self) -> list[str]:
        """The days the plan touches, in order (a video key `day|theme` counts for its day)."""
        return sorted({key.split("|", 1)[0] for keys in self.partitions.values() for key in keys})

    def for_day(self, day: str) -> BackfillPlan:
        """The part of the plan on `day`: that day's trends and its videos of every theme."""
        return BackfillPlan(
            {
                asset: [k for k in keys if k == day or k.startswith(f"{day}|")]
                for asset, keys in self.partitions.items()
            }
        )


def plan_backfill(
    instance: dg.DagsterInstance,
    days: list[str],
    themes: list[str],
    *,
    scope: str = "all",
    missing_only: bool = False,
    defs: dg.Definitions | None = None,
) -> BackfillPlan:
    """The asset partitions a backfill of `days` × `themes` targets; only unmaterialized ones if asked."""
    if scope not in BACKFILL_SCOPES:
        raise ValueError(f"backfill scope {scope!r}: use one of {', '.join(BACKFILL_SCOPES)}")
    jobs = {"all": (TRENDS_JOB, VIDEO_JOB), "trends": (TRENDS_JOB,), "video": (VIDEO_JOB,)}[scope]
    plan: dict[str, list[str]] = {}
    for job_name in jobs:
        job = defs.resolve_job_def(job_name) if defs is not None else load_job(job_name)
        graph = job.asset_layer.asset_graph
        selected = job.asset_layer.selected_asset_keys
        if job_name == TRENDS_JOB:
            keys = list(days)
        else:
            keys = [str(date_theme_key(day, theme)) for day in days for theme in themes]
        for asset in (k for k in graph.toposorted_asset_keys if k in selected):
            done = instance.get_materialized_partitions(asset) if missing_only else set()
            plan[asset.to_user_string()] = [key for key in keys if key not in done]
    return BackfillPlan(plan)


def launch_backfill(
    instance: dg.DagsterInstance,
    plan: BackfillPlan,
    *,
    title: str,
    tags: dict[str, str] | None = None,
    defs: dg.Definitions | None = None,
) -> str:
    """Submit `plan` as a Dagster asset backfill (as the UI does); the daemon launches its runs."""
    from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
    from dagster._core.definitions.events import AssetKeyPartitionKey
    from dagster._core.execution.backfill import PartitionBackfill
    from dagster._core.utils import make_new_backfill_id
    from dagster._time import get_current_timestamp

    if defs is None:
        from shortvid_assets.definitions import defs
    if plan.empty:
        raise ValueError("the backfill targets no partition: everything asked for is materialized")
    asset_graph = defs.resolve_asset_graph()
    subset = AssetGraphSubset.from_asset_partition_set(
        {
            AssetKeyPartitionKey(dg.AssetKey.from_user_string(asset), key)
            for asset, keys in plan.partitions.items()
            for key in keys
        },
        asset_graph,
    )
    backfill_id = make_new_backfill_id()
    instance.add_backfill(
        PartitionBackfill.from_asset_graph_subset(
            backfill_id=backfill_id,
            backfill_timestamp=get_current_timestamp(),
            tags={"shortvid/launched_by": "cli", **(tags or {})},
            dynamic_partitions_store=instance,
            asset_graph_subset=subset,
            title=title,
            description=None,
            run_config=None,
        )
    )
    log.info("backfill %s: %d asset partitions", backfill_id, plan.count())
    return backfill_id


BACKFILL_GROUP_TAG = "shortvid/backfill_group"


def launch_daily_backfills(
    instance: dg.DagsterInstance,
    plan: BackfillPlan,
    *,
    title: str,
    tags: dict[str, str] | None = None,
    defs: dg.Definitions | None = None,
) -> list[str]:
    """Submit `plan` as one asset backfill per day, tagged as one group; their ids, oldest day first.

    Dagster's asset backfill groups a partition's steps into one run only when the parent step is
    requested for exactly the partitions the child waits for; in a backfill of many days, each day's
    videos become ready while other days' still wait, so every video split into three runs (script,
    voice, the rest), each paying a run's launch (Scale issue: 48 runs for 24 partitions). A backfill
    per day makes each day's videos ready together: one run per day's trends and one per video.
    """
    from dagster._core.utils import make_new_backfill_id

    group = make_new_backfill_id()
    return [
        launch_backfill(
            instance,
            plan.for_day(day),
            title=f"{title} [{day}]",
            tags={**(tags or {}), BACKFILL_GROUP_TAG: group},
            defs=defs,
        )
        for day in plan.days()
    ]
