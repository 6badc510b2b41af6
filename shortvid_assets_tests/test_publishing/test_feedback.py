"""Protects the feedback from our own videos into generation: the performance report's best hook pattern
and style for a theme set the brief both writers follow (the template writer takes them, the OpenAI writer
gets them as context in its prompt and is checked against them), the plan says where they came from, and
with no published videos the brief and the plan are exactly as before."""

from __future__ import annotations

from datetime import date

import pytest

from shortvid_assets.clients.openai_writer import OpenAIScriptWriter
from shortvid_assets.domain.prompts import alignment_problems, analysis_messages, plan_brief
from shortvid_assets.domain.publishing import ThemeWinners
from shortvid_assets.domain.script_template import write_template_plan
from shortvid_assets.resources.script_writers import TemplateScriptWriter
from shortvid_assets_tests.fakes.fake_openai import (
    CHAT,
    FAKE_KEY,
    make_report,
    make_theme,
    plan_json,
    running_fake,
)

WINNERS = ThemeWinners(
    theme="glowbrew",
    videos=3,
    best_hook_pattern="pov",
    best_style="montage",
    hook_scores={"pov": 0.9, "question": 0.2},
    style_scores={"montage": 0.8, "talking-head": 0.3},
)
NO_DATA = ThemeWinners(theme="glowbrew", videos=0, best_hook_pattern=None, best_style=None)


@pytest.mark.parametrize("performance", [None, NO_DATA])
def test_without_published_videos_plans_are_as_today(performance):
    theme, report = make_theme(), make_report(hook_type="question", style="talking-head")
    brief = plan_brief(theme, report, performance)
    assert brief == plan_brief(theme, report)
    assert (brief.hook_type, brief.style, brief.performance_pattern) == ("question", "talking-head", None)
    assert write_template_plan(theme, report, performance) == write_template_plan(theme, report)
    assert "OUR OWN PUBLISHED VIDEOS" not in analysis_messages(theme, report, brief)[1]["content"]


def test_the_template_writer_takes_the_best_hook_and_style_and_says_so():
    theme, report = make_theme(), make_report(hook_type="question", style="talking-head")
    written = TemplateScriptWriter().write(theme, report, WINNERS)
    plan = written.plan
    assert (plan.hook_type, plan.style) == ("pov", "montage")
    assert plan.hook_text.startswith("POV")
    assert written.performance_pattern == "pov hook, montage style"
    assert "from our best" in plan.trend_pattern
    brief = plan_brief(theme, report, WINNERS)
    assert alignment_problems(plan, brief) == []
    assert plan.target_duration_s == brief.target_duration_s  # the trend report still sets the length


def test_a_winner_that_is_not_a_known_pattern_is_ignored():
    odd = WINNERS.model_copy(update={"best_hook_pattern": "interpretive-dance"})
    brief = plan_brief(make_theme(), make_report(hook_type="question", style="talking-head"), odd)
    assert (brief.hook_type, brief.style, brief.performance_pattern) == (
        "question",
        "montage",
        "montage style",
    )


def test_the_openai_writer_gets_our_performance_as_context_and_is_held_to_it():
    theme, report = make_theme(), make_report(hook_type="question", style="talking-head")
    winners = WINNERS.model_copy(update={"best_hook_pattern": "question", "best_style": "talking-head"})
    for fake in running_fake():
        fake.chat("Analysis: repeat our question hooks.", plan_json())
        result = OpenAIScriptWriter(FAKE_KEY, base_url=fake.base_url, max_retries=0).write_plan(
            theme, report, winners
        )
        analysis = fake.requests_to(CHAT)[0].json["messages"][1]["content"]
    assert "OUR OWN PUBLISHED VIDEOS FOR THIS THEME (3" in analysis
    assert "Hook patterns: pov 0.90, question 0.20" in analysis
    assert "our own best-performing videos' hook type" in analysis
    assert result.brief.performance_pattern == "question hook, talking-head style"
    assert not result.repaired


def test_a_performance_report_names_each_themes_winners():
    from shortvid_assets.domain.publishing import StatsSnapshot, VideoFeatures, performance_report

    def features(video_id, hook, style):
        return VideoFeatures(video_id=video_id, theme="glowbrew", hook_pattern=hook, style=style, duration_s=20,
                             voice="espeak-ng:en-us", visuals_provider="procedural", caption_style="word-highlight",
                             language="en", posting_hour=17, published_on=date(2026, 11, 24))  # fmt: skip

    snapshots = [
        StatsSnapshot(video_id="a", day=date(2026, 11, 25), views=900),
        StatsSnapshot(video_id="b", day=date(2026, 11, 25), views=100),
    ]
    report = performance_report(
        snapshots, [features("a", "pov", "montage"), features("b", "question", "cinematic")],
        as_of=date(2026, 11, 25),
    )  # fmt: skip
    best = report.best_for("glowbrew")
    assert (best.best_hook_pattern, best.best_style) == ("pov", "montage")
    assert plan_brief(make_theme(), make_report(), best).performance_pattern == "pov hook, montage style"
