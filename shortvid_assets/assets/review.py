"""Review: the human decision on each composed video (REVIEW-1, REVIEW-3, REVIEW-4)."""

import dagster as dg

from shortvid_assets.assets.media import composed_video
from shortvid_assets.assets.retries import no_retry_for_bad_input
from shortvid_assets.domain.files import file_sha256
from shortvid_assets.partitions import date_theme_partitions, split_date_theme
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.review.filing import file_video
from shortvid_assets.storage import review_decisions


@dg.asset(
    partitions_def=date_theme_partitions, group_name="review", deps=[composed_video], kinds={"postgres"}
)
@no_retry_for_bad_input
def review_status(context: dg.AssetExecutionContext, review_db: ReviewDatabase, paths: ShortvidPaths):
    """Where the video stands in human review: pending, approved or rejected (REVIEW-3, REVIEW-4)."""
    day, slug = split_date_theme(context)
    current = paths.artifacts.find_video(day, slug)
    if current is None:
        raise FileNotFoundError(
            f"no composed video for {day}|{slug} in {paths.output_dir}: materialize composed_video for it first"
        )
    sha256 = file_sha256(current)
    with review_db.connection() as conn:
        decision = review_decisions.latest_decision(conn, day, slug, video_sha256=sha256)
        newest = review_decisions.latest_decision(conn, day, slug)
    status = decision.decision if decision else "pending"
    video = file_video(paths.artifacts, day, slug, status)
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
