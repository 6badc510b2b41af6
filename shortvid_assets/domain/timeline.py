"""Scene timing when the voiceover cannot be fitted to the plan (VOICE-2 beyond the tempo limits).

`fit_to_duration` changes the speech tempo only within 0.85–1.15. When even the fastest tempo
leaves the speech longer than the plan, the scenes stretch instead: every scene keeps its share
of the plan, durations stay within 2–4 s where the total allows it, and they sum to the speech's
length. Times inside the video (text overlays) move with their scene.

Whatever the timing, the call-to-action overlay never starts before the voice has finished the
body (`place_cta_overlays`).
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, Field, model_validator

from shortvid_assets.domain.models import MAX_SCENE_S, MIN_SCENE_S, TextOverlay, WordTiming

logger = logging.getLogger(__name__)

_EPSILON = 1e-6


class SceneTimeline(BaseModel):
    """Scene durations that replace the plan's, written beside the voiceover."""

    plan_durations: list[float] = Field(
        min_length=1, description="The plan's scene durations, for staleness checks"
    )
    scene_durations: list[float] = Field(min_length=1)
    speech_s: float = Field(gt=0, description="Length of the fitted voiceover the scenes now cover")
    tempo: float = Field(gt=0, description="The tempo the voiceover was sped up by")
    reason: str

    @model_validator(mode="after")
    def _same_scenes(self) -> SceneTimeline:
        if len(self.plan_durations) != len(self.scene_durations):
            raise ValueError(
                f"timeline has {len(self.scene_durations)} scene durations for {len(self.plan_durations)} scenes"
            )
        return self

    @property
    def duration_s(self) -> float:
        return sum(self.scene_durations)


def adapt_scene_durations(
    plan_durations: list[float],
    total_s: float,
    min_s: float = MIN_SCENE_S,
    max_s: float = MAX_SCENE_S,
) -> list[float]:
    """Scene durations summing to `total_s`, proportional to the plan's and within [min_s, max_s] where possible.

    When `total_s` cannot be covered within the limits by this many scenes, every scene is scaled
    by the same factor instead (some then last more than `max_s` or less than `min_s`).
    """
    if not plan_durations or any(d <= 0 for d in plan_durations):
        raise ValueError(f"plan durations must be positive, got {plan_durations}")
    if total_s <= 0:
        raise ValueError(f"total_s must be positive, got {total_s}")
    count = len(plan_durations)
    if not count * min_s - _EPSILON <= total_s <= count * max_s + _EPSILON:
        scale = total_s / sum(plan_durations)
        return _rounded([d * scale for d in plan_durations], total_s)
    fixed: dict[int, float] = {}
    while True:
        free = [i for i in range(count) if i not in fixed]
        remaining = total_s - sum(fixed.values())
        weight = sum(plan_durations[i] for i in free)
        values = {i: plan_durations[i] * remaining / weight for i in free}
        clamped = {i: min(max(v, min_s), max_s) for i, v in values.items() if not min_s <= v <= max_s}
        if not clamped or len(clamped) == len(free):
            fixed.update(clamped or values)
            break
        fixed.update(clamped)
    return _rounded([fixed[i] for i in range(count)], total_s)


def _rounded(durations: list[float], total_s: float) -> list[float]:
    """Durations to the millisecond, the last one taking the rounding so they sum to `total_s`."""
    rounded = [round(d, 3) for d in durations]
    rounded[-1] = round(total_s - sum(rounded[:-1]), 3)
    return rounded


def remap_time(t: float, old: list[float], new: list[float]) -> float:
    """Where time `t` of the old scene timing falls in the new one: the same point of the same scene."""
    if len(old) != len(new):
        raise ValueError(f"old and new timings differ in scene count ({len(old)} vs {len(new)})")
    start_old = start_new = 0.0
    for index, (d_old, d_new) in enumerate(zip(old, new, strict=True)):
        last = index == len(old) - 1
        if t <= start_old + d_old + _EPSILON or last:
            return round(start_new + (t - start_old) * d_new / d_old, 3)
        start_old += d_old
        start_new += d_new
    return t  # unreachable: the last scene returns


def remap_overlays(overlays: list[TextOverlay], old: list[float], new: list[float]) -> list[TextOverlay]:
    """Text overlays moved with their scenes from the old scene timing to the new one."""
    return [
        overlay.model_copy(
            update={
                "start_s": remap_time(overlay.start_s, old, new),
                "end_s": remap_time(overlay.end_s, old, new),
            }
        )
        for overlay in overlays
    ]


def timeline_for(plan_durations: list[float], speech_s: float, tempo: float) -> SceneTimeline:
    """The timeline that stretches the plan's scenes over `speech_s` of voiceover."""
    return SceneTimeline(
        plan_durations=list(plan_durations),
        scene_durations=adapt_scene_durations(plan_durations, speech_s),
        speech_s=speech_s,
        tempo=tempo,
        reason=(
            f"the voiceover lasts {speech_s:.2f}s even at tempo {tempo:.2f}, longer than the plan's "
            f"{sum(plan_durations):.2f}s: the scenes stretch to cover it"
        ),
    )


# Sentence-final punctuation in every supported script: where the body of the voiceover ends.
_SENTENCE_END = tuple(".!?…。！？؟।")
MIN_CTA_S = 0.5  # a call to action shown for less than this is not read


def body_end_s(words: list[WordTiming]) -> float | None:
    """When the voice finishes the body: the end of the last sentence before the closing one (the CTA)."""
    for index in range(len(words) - 2, -1, -1):
        if words[index].word.rstrip("\"')]」』 ").endswith(_SENTENCE_END):
            return words[index].end_s
    return None


def place_cta_overlays(
    overlays: list[TextOverlay], words: list[WordTiming], total_s: float
) -> list[TextOverlay]:
    """Call-to-action overlays moved to start no earlier than the voice finishes the body.

    A CTA that would then last under MIN_CTA_S is lengthened up to the video's end; one with no time
    left is dropped (with a log line). Other overlays are unchanged.
    """
    body_end = body_end_s(words)
    if body_end is None:
        return list(overlays)
    placed = []
    for overlay in overlays:
        if overlay.style != "cta" or overlay.start_s >= body_end:
            placed.append(overlay)
            continue
        start = round(body_end, 3)
        end = round(min(max(overlay.end_s, start + MIN_CTA_S), total_s), 3)
        if end - start < MIN_CTA_S / 2:
            logger.warning(
                "call to action %r dropped: the voice finishes the body at %.2fs, %.2fs before the end",
                overlay.text,
                body_end,
                total_s - body_end,
            )
            continue
        placed.append(overlay.model_copy(update={"start_s": start, "end_s": end}))
    return placed
