"""The review sensor's decisions as pure code: its cursor, and which review runs a tick asks for.

No Dagster and no database here: the sensor reads new decisions with
`storage.review_decisions.read_new_partitions`, passes them to `plan_review_runs`, and turns
the planned runs into run requests. Tested as tables of cases.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shortvid_assets.storage.review_decisions import InvalidCursor, PartitionDecisions

# A first tick on a long history may find thousands of videos: launch them over several ticks.
MAX_RUNS_PER_TICK = 100
MAX_IDS_KEPT = 20  # the newest decision ids a queued video carries (as `read_new_partitions` returns)


class ReviewSensorCursor(BaseModel):
    """Where the exactly-once read stopped, and videos read but not yet launched."""

    model_config = ConfigDict(extra="forbid")

    read: str | None = None
    pending: list[tuple[str, str, int, int] | tuple[str, str, int, int, list[int]]] = Field(
        default_factory=list,
        description="(date, theme, newest decision id, decisions, newest ids) still to launch.",
    )

    @classmethod
    def parse(cls, cursor: str | None) -> ReviewSensorCursor:
        if not cursor:
            return cls()
        try:
            raw = json.loads(cursor)
        except ValueError:
            raw = None
        if isinstance(raw, dict) and "xmin" in raw:  # a cursor from before the pending queue
            return cls(read=cursor)
        try:
            return cls.model_validate(raw)
        except ValidationError:
            raise InvalidCursor(
                f"Review sensor cursor {cursor[:80]!r} is not one this sensor wrote; reset the sensor's "
                "cursor to start from the first decision again."
            ) from None


@dataclass(frozen=True)
class ReviewRun:
    """One review_status run to ask for: a video and the decisions that made it due."""

    day: str
    theme: str
    newest_id: int
    count: int
    ids: tuple[int, ...] = field(default=())

    @property
    def run_key(self) -> str:
        """Names the set of decisions the run applies, never the partition alone.

        A later decision is a new run; so is the same newest id with more decisions (a tick
        evaluated again from the same cursor after a late, out-of-order commit), which a key of
        the newest id alone would have Dagster drop as a duplicate.
        """
        ids = ",".join(str(i) for i in sorted(set(self.ids) | {self.newest_id}))
        digest = hashlib.sha256(f"{self.count}:{ids}".encode()).hexdigest()[:12]
        return f"review-decision-{self.newest_id}-{digest}"

    @property
    def tags(self) -> dict[str, str]:
        return {
            "shortvid/decision_id": str(self.newest_id),
            "shortvid/decision_count": str(self.count),
            "shortvid/decision_ids": ",".join(str(i) for i in sorted(self.ids or (self.newest_id,))),
        }


def plan_review_runs(
    previous: ReviewSensorCursor, new: list[PartitionDecisions], read_cursor: str, limit: int
) -> tuple[list[ReviewRun], ReviewSensorCursor]:
    """Merge new decisions into the queue, launch the oldest `limit` videos, keep the rest queued."""
    queue: dict[tuple[str, str], tuple[int, int, tuple[int, ...]]] = {}
    for day, theme, max_id, count, *ids in previous.pending:
        queue[(day, theme)] = (max_id, count, tuple(ids[0]) if ids else (max_id,))
    for batch in new:
        key = (batch.partition_date.isoformat(), batch.theme)
        max_id, count, ids = queue.get(key, (0, 0, ()))
        merged = tuple(sorted(set(ids) | set(batch.ids), reverse=True)[:MAX_IDS_KEPT])
        queue[key] = (max(max_id, batch.max_id), count + batch.count, merged)
    ordered = sorted(queue.items(), key=lambda item: item[1][0])
    runs = [ReviewRun(day, theme, *entry) for (day, theme), entry in ordered[:limit]]
    rest = [(day, theme, max_id, count, list(ids)) for (day, theme), (max_id, count, ids) in ordered[limit:]]
    return runs, ReviewSensorCursor(read=read_cursor, pending=rest)
