"""Benchmark: the whole graph for one partition on the offline defaults, against its render step alone.

Both run in this process on one throwaway instance and the offline resources at the configured
video format (SHORTVID_VIDEO_* or the 1080x1920 default), with the review decisions in a fresh
database on shortvid's PostgreSQL (SHORTVID_DATABASE_URL or the embedded server):
  pipeline  trends (both platforms, dedup, report) + script + voice + scene clips + composition + review,
            as `shortvid run` does it (two in-process runs: the day's trends, then the video)
  render    then composed_video alone for the same partition, re-materialized from the same inputs
The ratio says what the rest of the graph and Dagster's bookkeeping add to the render (goal <= 1.5).

Usage: .venv/bin/python benchmarks/pipeline.py [--date 2026-11-24] [--theme SLUG]
The last output line is one JSON object with pipeline_s, render_s and pipeline_vs_render.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dagster as dg

from shortvid_assets import settings
from shortvid_assets.definitions import build_definitions, build_resources
from shortvid_assets.domain.themes import load_themes
from shortvid_assets.orchestration.jobs import VIDEO_JOB
from shortvid_assets.partitions import date_theme_key, theme_partitions
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.runtime.runner import QUIET_LOGS, run_day
from shortvid_assets.storage import postgres


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Seconds from STEP_START to STEP_SUCCESS of every step of a run."""
    starts, seconds = {}, {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = record.timestamp
        elif event.event_type_value == "STEP_SUCCESS":
            seconds[event.step_key] = round(record.timestamp - starts[event.step_key], 3)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--date", default="2026-11-24")
    parser.add_argument("--theme", default=None, help="Theme slug from themes.yaml; default the first.")
    args = parser.parse_args()
    themes = load_themes(settings.themes_file())
    theme = args.theme or sorted(themes)[0]

    server = postgres.resolve_database_url()
    database = f"svbench_{uuid.uuid4().hex[:12]}"
    review_url = postgres.create_database(server, database)
    try:
        with tempfile.TemporaryDirectory(prefix="svbench-") as tmp, dg.instance_for_test() as instance:
            resources = {
                **build_resources(),
                "paths": ShortvidPaths(
                    data_dir=f"{tmp}/data",
                    output_dir=f"{tmp}/output",
                    themes_file=str(settings.themes_file()),
                ),
                "review_db": ReviewDatabase(url=review_url),
            }
            video_format = resources["video_format"]
            defs = build_definitions(resources)
            instance.add_dynamic_partitions(theme_partitions.name, [theme])

            started = time.perf_counter()
            runs = run_day(instance, args.date, [theme], defs=defs)
            pipeline_s = time.perf_counter() - started
            if not all(r.success for r in runs):
                raise SystemExit(f"the pipeline failed: {runs}")
            stages = {k: v for r in runs for k, v in step_seconds(instance, r.run_id).items()}

            started = time.perf_counter()
            render = defs.resolve_job_def(VIDEO_JOB).execute_in_process(
                instance=instance,
                partition_key=date_theme_key(args.date, theme),
                asset_selection=[dg.AssetKey("composed_video")],
                run_config=QUIET_LOGS,
            )
            render_s = time.perf_counter() - started
            render_step_s = step_seconds(instance, render.run_id)["composed_video"]
            metadata = instance.get_latest_materialization_event(dg.AssetKey("composed_video"))
            video_s = metadata.asset_materialization.metadata["duration_s"].value
    finally:
        postgres.drop_database(server, database)

    print(f"\n{args.date} {theme}: {video_s:.1f} s video at {video_format.width}x{video_format.height}")
    for step, seconds in stages.items():
        print(f"  {step:16} {seconds:7.2f} s")
    print(f"pipeline (two runs, every stage)  {pipeline_s:7.2f} s")
    print(f"render step alone (its own run)   {render_s:7.2f} s  (step {render_step_s:.2f} s)")
    print(f"pipeline / render                 {pipeline_s / render_s:7.2f}  (goal <= 1.5)")
    print(
        json.dumps(
            {
                "date": args.date,
                "theme": theme,
                "size": f"{video_format.width}x{video_format.height}",
                "video_s": video_s,
                "pipeline_s": round(pipeline_s, 2),
                "render_s": round(render_s, 2),
                "render_step_s": render_step_s,
                "stages_s": stages,
                "pipeline_vs_render": round(pipeline_s / render_s, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
