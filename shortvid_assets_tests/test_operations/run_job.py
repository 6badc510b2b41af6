"""Run one partition of a job in this process on $DAGSTER_HOME's instance (a run process to kill).

python -m shortvid_assets_tests.test_operations.run_job JOB PARTITION DATA_DIR OUTPUT_DIR THEMES_FILE REVIEW_URL
"""

from __future__ import annotations

import sys

import dagster as dg

from shortvid_assets.orchestration.jobs import TRENDS_JOB
from shortvid_assets.partitions import daily_partitions, date_theme_partitions
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets_tests.test_operations.broken_stages import reconstructable

IN_PROCESS = {"execution": {"config": {"in_process": {}}}}


def main(job_name: str, partition: str, data_dir: str, output_dir: str, themes_file: str, review_url: str):
    paths = ShortvidPaths(data_dir=data_dir, output_dir=output_dir, themes_file=themes_file)
    partitions = daily_partitions if job_name == TRENDS_JOB else date_theme_partitions
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            reconstructable(job_name, "", paths, review_url),
            instance,
            run_config=IN_PROCESS,
            tags=partitions.get_tags_for_partition_key(partition),
        )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
