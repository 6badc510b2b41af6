"""Review: the human decision on each composed video (REVIEW-1, REVIEW-3, REVIEW-4)."""

import os

import dagster as dg

from shortvid_assets.assets.media import composed_video
from shortvid_assets.partitions import date_theme_partitions, split_date_theme
from shortvid_assets.resources.paths import REVIEW_FOLDERS, ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.storage import review_decisions

FOLDER_BY_STATUS = {"pending": "review", "approved": "approved", "rejected": "rejected"}


def file_video(paths: ShortvidPaths, day: str, slug: str, status: str) -> str | None:
    """Move the partition's MP4 and thumbnail into the folder for `status`; the MP4's new path."""
    target_folder = FOLDER_BY_STATUS[status]
    placed = None
    for ext in ("mp4", "jpg"):
        target = paths.review_file(target_folder, day, slug, ext)
        for folder in REVIEW_FOLDERS:
            source = paths.review_file(folder, day, slug, ext)
            if folder != target_folder and source.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
        if ext == "mp4" and target.exists():
            placed = str(target)
    return placed


@dg.asset(
    partitions_def=date_theme_partitions, group_name="review", deps=[composed_video], kinds={"postgres"}
)
def review_status(context: dg.AssetExecutionContext, review_db: ReviewDatabase, paths: ShortvidPaths):
    """Where the video stands in human review: pending, approved or rejected (REVIEW-3, REVIEW-4)."""
    day, slug = split_date_theme(context)
    current = review_decisions.find_video(paths, day, slug)
    if current is None:
        raise FileNotFoundError(
            f"no composed video for {day}|{slug} in {paths.output_dir}: materialize composed_video for it first"
        )
    sha256 = review_decisions.file_sha256(current)
    with review_db.connection() as conn:
        decision = review_decisions.latest_decision(conn, day, slug, video_sha256=sha256)
        newest = review_decisions.latest_decision(conn, day, slug)
    status = decision.decision if decision else "pending"
    video = file_video(paths, day, slug, status)
    context.log.info(f"{day}|{slug}: {status} -> {video}")
    metadata = {"status": status, "video": dg.MetadataValue.path(video), "video_sha256": sha256}
    if decision:
        metadata.update(
            decision=decision.decision,
            decision_id=decision.id,
            reviewer=decision.reviewer,
            note=decision.note or "",
            decided_at=decision.decided_at.isoformat(),
        )
    if newest is not None and newest != decision:
        # The newest decision judged another render of this partition: never apply it to these bytes.
        context.log.warning(
            f"{day}|{slug}: decision #{newest.id} ({newest.decision} by {newest.reviewer}) judged an earlier "
            f"render (sha256 {newest.video_sha256}); this render ({sha256}) awaits its own decision"
        )
        metadata["stale_decision_id"] = newest.id
    return dg.MaterializeResult(metadata=metadata)
