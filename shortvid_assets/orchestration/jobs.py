"""Jobs: the daily trends job and the date × theme video job (a job cannot mix the two schemes).

Their executor is the code location's (SHORTVID_EXECUTOR, set once on the Definitions).
"""

from __future__ import annotations

import dagster as dg

from shortvid_assets.assets.content import video_script, voiceover
from shortvid_assets.assets.media import composed_video, scene_clips
from shortvid_assets.assets.publishing import published_video, video_performance
from shortvid_assets.assets.review import review_status
from shortvid_assets.partitions import daily_partitions, date_theme_partitions

TRENDS_JOB = "daily_trends_job"
VIDEO_JOB = "daily_video_job"
REVIEW_JOB = "review_status_job"
PUBLISH_JOB = "publish_video_job"
PERFORMANCE_JOB = "video_performance_job"

daily_trends_job = dg.define_asset_job(
    TRENDS_JOB,
    selection=dg.AssetSelection.groups("trends"),
    partitions_def=daily_partitions,
    description="Collect the day's trends from every platform and analyze them.",
)
daily_video_job = dg.define_asset_job(
    VIDEO_JOB,
    selection=dg.AssetSelection.assets(video_script, voiceover, scene_clips, composed_video, review_status),
    partitions_def=date_theme_partitions,
    description="Script, voice, visuals, composition and review status for one day and theme.",
)
review_status_job = dg.define_asset_job(
    REVIEW_JOB,
    selection=dg.AssetSelection.assets(review_status),
    partitions_def=date_theme_partitions,
    description="Apply the latest human review decision to one video.",
)
publish_video_job = dg.define_asset_job(
    PUBLISH_JOB,
    selection=dg.AssetSelection.assets(published_video),
    partitions_def=date_theme_partitions,
    description="Upload one approved video to the publishing platform, exactly once.",
)
video_performance_job = dg.define_asset_job(
    PERFORMANCE_JOB,
    selection=dg.AssetSelection.assets(video_performance),
    partitions_def=daily_partitions,
    description="Read every published video's statistics and write the performance report the plans follow.",
)
