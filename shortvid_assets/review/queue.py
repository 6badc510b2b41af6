"""The review sensor's decisions as pure code: its cursor, and which review runs a tick asks for.

No Dagster and no database here: the sensor reads new decisions with
`storage.review_decisions.read_new_partitions`, passes them to `plan_review_runs` with the
themes of the config and the range of daily partitions, and turns the planned runs into run
requests. A video whose decisions no run can apply (its theme is not in the config, its date
is outside the partitions) is set aside with the reason instead: a run for it would fail the
whole tick with an unknown partition, and no later decision would ever be applied.
Tested as tables of cases.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shortvid_assets.domain.dates import InvalidDate, check_in_partitions, parse_day
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


@dataclass(frozen=True)
class Partitions:
    """What a run can be launched for: the themes in the config and the days of the daily partitions."""

    themes: Collection[str]
    first_day: dt.date
    last_day: dt.date


@dataclass(frozen=True)
class SetAside:
    """A video's decisions that no run can apply, and why; they are recorded, never retried."""

    day: str
    theme: str
    ids: tuple[int, ...]
    count: int
    reason: str

    @property
    def log_line(self) -> str:
        shown = ", ".join(f"#{i}" for i in sorted(self.ids))
        more = f" and {self.count - len(self.ids)} older" if self.count > len(self.ids) else ""
        return f"review decision(s) {shown}{more} for {self.day}|{self.theme} set aside: {self.reason}"


def why_not_applicable(day: str, theme: str, partitions: Partitions) -> str | None:
    """Why no review run can apply decisions about (day, theme), or None when one can."""
    if theme not in partitions.themes:
        return f"theme {theme!r} is not in the themes config"
    try:
        check_in_partitions(parse_day(day), first=partitions.first_day, last=partitions.last_day)
    except InvalidDate as err:
        return str(err)
    return None


def plan_review_runs(
    previous: ReviewSensorCursor,
    new: list[PartitionDecisions],
    read_cursor: str,
    limit: int,
    partitions: Partitions | None = None,
) -> tuple[list[ReviewRun], ReviewSensorCursor, list[SetAside]]:
    """Merge new decisions into the queue, set aside what cannot be applied, launch the oldest `limit`
    videos, keep the rest queued.

    Every queued video is checked against `partitions` when it is planned, so a theme removed from
    the config while its video waited is set aside too; None checks nothing.
    """
    queue: dict[tuple[str, str], tuple[int, int, tuple[int, ...]]] = {}
    for day, theme, max_id, count, *ids in previous.pending:
        queue[(day, theme)] = (max_id, count, tuple(ids[0]) if ids else (max_id,))
    for batch in new:
        key = (batch.partition_date.isoformat(), batch.theme)
        max_id, count, ids = queue.get(key, (0, 0, ()))
        merged = tuple(sorted(set(ids) | set(batch.ids), reverse=True)[:MAX_IDS_KEPT])
        queue[key] = (max(max_id, batch.max_id), count + batch.count, merged)
    set_aside = []
    if partitions is not None:
        for (day, theme), (_max_id, count, ids) in sorted(queue.items(), key=lambda item: item[1][0]):
            reason = why_not_applicable(day, theme, partitions)
            if reason is not None:
                set_aside.append(SetAside(day, theme, tuple(sorted(ids)), count, reason))
                del queue[(day, theme)]
    ordered = sorted(queue.items(), key=lambda item: item[1][0])
    runs = [ReviewRun(day, theme, *entry) for (day, theme), entry in ordered[:limit]]
    rest = [(day, theme, max_id, count, list(ids)) for (day, theme), (max_id, count, ids) in ordered[limit:]]
    return runs, ReviewSensorCursor(read=read_cursor, pending=rest), set_aside
