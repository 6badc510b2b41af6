"""Protects the script writer's prompts and trend alignment (SCRIPT-2, SCRIPT-4): the duration rule,
what the prompts state, and which plans count as following the trend report."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shortvid_assets.domain.models import VideoPlan
from shortvid_assets.domain.prompts import (
    alignment_problems,
    analysis_messages,
    plan_brief,
    plan_instructions,
    plan_messages,
    plan_target_duration,
    repair_messages,
    validation_problems,
)
from shortvid_assets_tests.fakes.fake_openai import make_report, make_theme, plan_dict


@pytest.mark.parametrize(
    ("theme_s", "recommended_s", "expected_s"),
    [
        (20.0, 20.0, 20.0),  # the report agrees with the theme
        (20.0, 20.3, 20.5),  # rounded to half seconds
        (24.0, 20.0, 20.0),  # the report pulls within ±25 %
        (20.0, 17.2, 17.0),
        (20.0, 45.0, 25.0),  # ... and no further
        (20.0, 5.0, 15.0),
        (8.0, 3.0, 6.0),  # never below what 3 scenes of 2 s fill
        (30.0, 45.0, 28.0),  # never above what 7 scenes of 4 s fill
    ],
)
def test_target_duration_follows_the_report_within_the_themes_limits(
    theme_s: float, recommended_s: float, expected_s: float
) -> None:
    theme = make_theme(target_duration_s=theme_s)
    report = make_report(duration_s=recommended_s)

    assert plan_target_duration(theme, report) == expected_s


def test_an_empty_report_keeps_the_themes_duration() -> None:
    assert plan_target_duration(make_theme(target_duration_s=24.0), make_report(trend_count=0)) == 24.0
    assert plan_target_duration(make_theme(target_duration_s=30.0), make_report(trend_count=0)) == 28.0


def test_brief_takes_format_from_the_report() -> None:
    brief = plan_brief(make_theme(style="cinematic"), make_report(hook_type="question", style="talking-head"))

    assert (brief.style, brief.hook_type, brief.target_duration_s) == ("talking-head", "question", 20.0)
    assert brief.trend_hashtags == ["morningroutine", "coffee", "productivity", "fyp", "wfh"]
    assert brief.theme_hashtags == ["glowbrew", "coldbrew"]
    assert brief.pattern is not None and brief.pattern.format == "single speaker to camera"
    assert brief.trend_pattern == "talking-head · question hook · ~20 s · single speaker to camera"


def test_analysis_prompt_states_the_theme_and_the_reports_format() -> None:
    theme, report = make_theme(), make_report(hook_type="number", duration_s=16.0, style="montage")
    messages = analysis_messages(theme, report, plan_brief(theme, report))

    assert [message["role"] for message in messages] == ["system", "user"]
    prompt = messages[1]["content"]
    for fact in (
        "Product: GlowBrew",
        "- brewed cold for 20 hours",
        "Audience: busy professionals aged 25-40",
        "Dominant style: montage",
        "Dominant hook type: number",
        "Recommended duration: 16 s",
        "Top hashtags: #morningroutine, #coffee, #productivity, #fyp, #wfh",
        "hook_type: number",
        "target_duration_s: 16",
        'Top performer: "Top video 0?"',
    ):
        assert fact in prompt


def test_plan_prompt_carries_every_validation_rule() -> None:
    theme, report = make_theme(), make_report()
    brief = plan_brief(theme, report)

    messages = plan_messages(theme, report, brief, "my analysis")

    assert messages[:2] == analysis_messages(theme, report, brief)
    assert messages[2] == {"role": "assistant", "content": "my analysis"}
    instructions = messages[3]["content"]
    assert instructions == plan_instructions(brief)
    for rule in (
        "5–7 scenes numbered 1..n",
        "each 2–4 s long, whose durations sum to 20 s (allowed 18.0–22.0 s)",
        "hook_type: question",
        "5–8 unique tags",
        "at least 2 of: morningroutine, coffee, productivity, fyp, wfh",
        "no later than 20 s",
    ):
        assert rule in instructions


def test_repair_prompt_adds_the_rejected_output_and_the_problems() -> None:
    previous = [{"role": "user", "content": "write it"}]

    messages = repair_messages(previous, '{"bad": true}', ["scenes: Field required", "hook_type: wrong"])

    assert previous == [{"role": "user", "content": "write it"}]
    assert messages[:1] == previous
    assert messages[1] == {"role": "assistant", "content": '{"bad": true}'}
    assert "- scenes: Field required\n- hook_type: wrong" in messages[2]["content"]
    assert len(repair_messages([], "x" * 10_000, ["p"])[0]["content"]) == 6000


def test_an_aligned_plan_has_no_problems() -> None:
    brief = plan_brief(make_theme(), make_report())
    plan = VideoPlan.model_validate(
        plan_dict(target_s=20.0, hashtags=["coffee", "morningroutine", "a", "b", "c"])
    )

    assert alignment_problems(plan, brief) == []


def test_a_plan_ignoring_the_report_is_described() -> None:
    brief = plan_brief(make_theme(), make_report())
    plan = VideoPlan.model_validate(
        plan_dict(
            target_s=15.0, hook_type="statement", style="cinematic", hashtags=["coffee", "a", "b", "c", "d"]
        )
    )

    problems = alignment_problems(plan, brief)

    assert problems == [
        "hook_type is 'statement' but must be 'question', the report's dominant hook type",
        "style is 'cinematic' but must be 'talking-head', the report's dominant style",
        "target_duration_s is 15 but must be 20 (the scene durations must sum to it)",
        "hashtags use 1 of the report's top hashtags (morningroutine, coffee, productivity, fyp, wfh); use at least 2",
    ]


def test_validation_problems_are_one_line_each_with_their_field() -> None:
    bad = plan_dict()
    bad["scenes"] = bad["scenes"][:3]
    bad["hashtags"] = ["one"]
    with pytest.raises(ValidationError) as caught:
        VideoPlan.model_validate(bad)

    assert validation_problems(caught.value) == [
        "hashtags: List should have at least 5 items after validation, not 1"
    ]
    bad["hashtags"] = ["a", "b", "c", "d", "e"]
    with pytest.raises(ValidationError) as caught:
        VideoPlan.model_validate(bad)
    assert validation_problems(caught.value) == [
        "scene durations sum to 12.0s, not the target 20.0s ±10%",
        "overlay 'Try GlowBrew' ends at 20.0s, after the video (12.0s)",
    ]
