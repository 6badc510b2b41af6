"""Materializes published_video for one partition in this process: the process the kill -9 test kills.

Usage: python -m shortvid_assets_tests.test_publishing.run_publish DATA OUTPUT THEMES DATABASE_URL FAKE_URL PARTITION
"""

from __future__ import annotations

import sys

import dagster as dg

from shortvid_assets.assets.publishing import published_video
from shortvid_assets.partitions import theme_partitions
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.resources.video_format import VideoFormat
from shortvid_assets_tests.test_publishing.conftest import youtube_publisher_at
from shortvid_assets_tests.tiny import SMALL


def main(argv: list[str]) -> int:
    data_dir, output_dir, themes_file, database_url, fake_url, partition = argv
    resources = {
        "paths": ShortvidPaths(data_dir=data_dir, output_dir=output_dir, themes_file=themes_file),
        "review_db": ReviewDatabase(url=database_url),
        "video_format": VideoFormat(**SMALL),
        "publisher": youtube_publisher_at(fake_url),
    }
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(theme_partitions.name, [partition.split("|")[1]])
        result = dg.materialize(
            [published_video],
            partition_key=partition,
            instance=instance,
            resources=resources,
            raise_on_error=False,
        )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
