"""Protects VOICE-2 beyond the tempo limits: scenes stretch to the voiceover, 2–4 s where possible,
summing to its length, and overlays move with their scenes."""

import pytest

from shortvid_assets.domain.models import TextOverlay
from shortvid_assets.domain.timeline import (
    SceneTimeline,
    adapt_scene_durations,
    remap_overlays,
    remap_time,
    timeline_for,
)


@pytest.mark.parametrize(
    ("plan", "total"),
    [
        ([2.86] * 6 + [2.84], 22.9),
        ([2.0, 2.0, 2.0], 11.5),
        ([2.0, 4.0, 3.0], 11.0),  # the 4 s scene cannot grow: the others take the rest
        ([3.0, 3.0, 3.0, 3.0], 12.0),
    ],
)
def test_adapted_durations_sum_to_the_speech_and_stay_within_two_to_four_seconds(plan, total):
    durations = adapt_scene_durations(plan, total)
    assert len(durations) == len(plan)
    assert sum(durations) == pytest.approx(total, abs=1e-6)
    assert all(2.0 <= d <= 4.0 for d in durations)


def test_durations_keep_the_plans_proportions_when_no_limit_is_hit():
    assert adapt_scene_durations([2.0, 3.0, 2.0], 8.4) == [2.4, 3.6, 2.4]


def test_a_scene_at_the_limit_is_held_and_the_rest_share_the_remainder():
    # 11/9 stretches scene 2 past 4 s, then scene 3; scene 1 takes what is left
    assert adapt_scene_durations([2.0, 4.0, 3.0], 11.0) == [3.0, 4.0, 4.0]


def test_beyond_what_the_scenes_can_hold_every_scene_scales_alike():
    durations = adapt_scene_durations([3.0, 3.0, 3.0], 15.0)
    assert durations == [5.0, 5.0, 5.0]


@pytest.mark.parametrize(("plan", "total"), [([], 5.0), ([2.0, 0.0], 5.0), ([2.0, 2.0], 0.0)])
def test_invalid_inputs_are_refused(plan, total):
    with pytest.raises(ValueError):
        adapt_scene_durations(plan, total)


def test_times_move_with_their_scene():
    old, new = [2.0, 2.0, 2.0], [2.0, 4.0, 3.0]
    assert remap_time(0.0, old, new) == 0.0
    assert remap_time(1.0, old, new) == 1.0
    assert remap_time(3.0, old, new) == 4.0  # the middle of scene 2
    assert remap_time(6.0, old, new) == 9.0  # the end of the video
    hook, cta = remap_overlays(
        [
            TextOverlay(text="hook", start_s=0.0, end_s=2.0, style="hook"),
            TextOverlay(text="cta", start_s=4.0, end_s=6.0, style="cta"),
        ],
        old,
        new,
    )
    assert (hook.start_s, hook.end_s, cta.start_s, cta.end_s) == (0.0, 2.0, 6.0, 9.0)


def test_timeline_records_the_plan_it_was_made_for_and_why():
    timeline = timeline_for([2.5, 2.5, 2.5], 9.0, 1.15)
    assert timeline.plan_durations == [2.5, 2.5, 2.5]
    assert timeline.duration_s == pytest.approx(9.0)
    assert "tempo 1.15" in timeline.reason
    again = SceneTimeline.model_validate_json(timeline.model_dump_json())
    assert again == timeline
    with pytest.raises(ValueError, match="3 scene durations for 2 scenes"):
        SceneTimeline(plan_durations=[2, 2], scene_durations=[2, 2, 2], speech_s=6, tempo=1.1, reason="x")
