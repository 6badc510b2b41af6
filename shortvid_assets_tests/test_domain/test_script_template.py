"""Protects the template writer: a valid plan (SCRIPT-3) that follows the report (SCRIPT-4) by the same
brief and duration rule as the OpenAI writer."""

import random
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from shortvid_assets.domain.models import HashtagCount, StylePattern, Theme, TrendReport, VideoPlan
from shortvid_assets.domain.prompts import alignment_problems, plan_brief
from shortvid_assets.domain.script_template import TEMPLATES, scene_durations, write_template_plan

THEME = Theme(
    slug="glowcup",
    product_name="GlowCup",
    tagline="The mug that keeps coffee hot",
    audience="commuters",
    tone="upbeat",
    style="montage",
    talking_points=["hot for 6 hours", "USB-C charging", "one-hand lid"],
    target_duration_s=18,
    hashtags=["coffee", "gadgets"],
)


def report(hook="question", duration=20.0, style="cinematic") -> TrendReport:
    when = datetime(2026, 11, 24, tzinfo=UTC)
    pattern = StylePattern(
        style=style,
        count=10,
        share=1.0,
        avg_duration_s=duration,
        avg_velocity=5.0,
        format=f"short {style}",
        hook_type=hook,
        text_overlay_share=0.2,
        audio_type="music",
    )
    return TrendReport(
        date=date(2026, 11, 24),
        window_start=when,
        window_end=when,
        trend_count=10,
        counts_by_platform={"youtube": 10},
        top_hashtags=[
            {"tag": "fyp", "count": 9},
            {"tag": "morning", "count": 5},
            {"tag": "coffee", "count": 4},
        ],
        top_performers=[],
        patterns=[pattern],
        dominant_style=style,
        dominant_hook_type=hook,
        recommended_duration_s=duration,
        duration_histogram={},
        posting_hour_histogram={},
    )


@pytest.mark.parametrize("total", [6.0, 7.5, 9.5, 15.0, 18.0, 20.0, 22.5, 27.4, 27.5, 28.0])
def test_scene_durations_sum_exactly_and_stay_in_range(total):
    durations = scene_durations(total)
    assert sum(durations) == pytest.approx(total, abs=0.011)
    assert 3 <= len(durations) <= 7
    assert all(2.0 <= d <= 4.0 for d in durations)


@pytest.mark.parametrize("total", [5.9, 28.5, 30.0])
def test_scene_durations_refuse_lengths_no_scenes_can_fill(total):
    with pytest.raises(ValueError, match="cannot be split"):
        scene_durations(total)


def test_question_hooks_and_twenty_seconds_give_a_question_hook_of_twenty_seconds():
    plan = write_template_plan(THEME, report(hook="question", duration=20))
    assert plan.hook_type == "question"
    assert plan.hook_text.endswith("?")
    assert plan.duration_s == pytest.approx(20, abs=0.05)
    assert "morning" in plan.hashtags and "fyp" not in plan.hashtags


@pytest.mark.parametrize("hook", ["question", "number", "pov", "how-to", "bold-claim", "statement"])
def test_every_hook_type_gives_a_valid_plan(hook):
    plan = write_template_plan(THEME, report(hook=hook))
    VideoPlan.model_validate(plan.model_dump())  # round-trips through validation
    assert plan.hook_type == hook
    assert 5 <= len(plan.hashtags) <= 8
    assert all(o.end_s <= plan.duration_s + 1e-6 for o in plan.text_overlays)
    assert plan.voiceover_script.startswith(plan.hook_text.rstrip("."))


def test_duration_follows_the_one_rule_within_a_quarter_of_the_theme_target():
    assert write_template_plan(THEME, report(duration=59)).duration_s == pytest.approx(22.5, abs=0.05)
    assert write_template_plan(THEME, report(duration=3)).duration_s == pytest.approx(13.5, abs=0.05)
    assert write_template_plan(THEME, report(duration=17.2)).duration_s == pytest.approx(17.0, abs=0.05)


@pytest.mark.parametrize("target", [6, 30])
def test_extreme_theme_targets_still_give_a_valid_plan(target):
    theme = THEME.model_copy(update={"target_duration_s": target})
    plan = write_template_plan(theme, report(duration=target))
    assert 6 <= plan.duration_s <= 28
    assert all(2.0 <= s.duration_s <= 4.0 for s in plan.scenes)


@pytest.mark.parametrize("style", ["cinematic", "talking-head", "text-heavy"])
def test_template_plan_passes_the_same_alignment_check_as_the_openai_writer(style):
    day = report(hook="number", duration=16, style=style)
    plan = write_template_plan(THEME, day)
    assert plan.style == style  # the report sets the format; the theme's look stays in the prompts
    assert alignment_problems(plan, plan_brief(THEME, day)) == []


def test_generic_report_tags_are_used_only_when_the_report_has_nothing_else():
    tags = [HashtagCount(tag="fyp", count=9), HashtagCount(tag="viral", count=5)]
    day = report().model_copy(update={"top_hashtags": tags})
    plan = write_template_plan(THEME, day)
    assert {"fyp", "viral"} <= set(plan.hashtags)
    assert plan.hashtags[:2] == ["coffee", "gadgets"]


def test_plan_validation_names_the_problem():
    plan = write_template_plan(THEME, report()).model_dump()
    plan["scenes"][0]["duration_s"] = 4.0
    plan["scenes"][1]["duration_s"] = 4.0
    plan["target_duration_s"] = 10
    with pytest.raises(ValidationError, match="scene durations sum"):
        VideoPlan.model_validate(plan)
    plan = write_template_plan(THEME, report()).model_dump()
    plan["hashtags"] = ["a", "b"]
    with pytest.raises(ValidationError, match="hashtags"):
        VideoPlan.model_validate(plan)


# --- themes that load must render: any text the theme validator accepts makes a valid plan ---------------

# Short, punctuated, non-Latin, emoji, URL, hashtag, brace and combining-mark text a theme may hold.
TRICKY = [
    "a", "A.", "x!", "1", "…a", "a…", "¿a?", "a.b", "{p}", "{}", "{0}", "%s", "a" * 200, "!a", "a?!", ".a.",
    "ñ", "ß", "İstanbul", "ǅ", "ﬁne", "٣", "१", "a。", "。a", "🔥a", "a🔥", "#tag a", "http://x.io a", "www.a.com",
    "a — b", "‘a’", '"a"', "a\u200db", "e\u0301", "\u0301a", "Ⅻ", "$5", "5%", "3.5", "日本", "한국", "مرحبا",
    "नमस्ते", "ok...", "..ok", "a!!", "-a", "a/b", "<b>", "&amp;",
]  # fmt: skip
HOOKS = ["question", "number", "pov", "how-to", "bold-claim", "statement"]


def tricky_themes(count: int, seed: int = 7):
    """`count` themes the validator accepts, drawn from TRICKY in every language with templates (deterministic)."""
    rng = random.Random(seed)
    made = 0
    while made < count:
        pick = lambda: rng.choice(TRICKY)  # noqa: E731
        try:
            theme = Theme(
                slug=rng.choice(["a", "glowcup", "x-1"]),
                product_name=pick()[:80],
                tagline=pick(),
                audience=pick(),
                tone=pick(),
                style=rng.choice(["montage", "cinematic", "tutorial"]),
                talking_points=[pick() for _ in range(rng.randint(1, 12))],
                target_duration_s=rng.choice([6, 7.5, 18, 30]),
                hashtags=rng.sample(["a", "A", "#a", "b c", "fyp", "shorts", "日本"], rng.randint(0, 4)),
                language=rng.choice(list(TEMPLATES)),
            )
        except ValidationError:
            continue
        made += 1
        yield theme, rng.choice(HOOKS), rng.choice([6.0, 20.0, 40.0]), rng.random() < 0.5


def test_themes_render_any_accepted_text_makes_a_valid_aligned_plan():
    """Before: a tagline of "." or a theme whose tags cleaned to fewer than five failed the script stage."""
    for theme, hook, duration, with_tags in tricky_themes(600):
        day = report(hook=hook, duration=duration)
        if not with_tags:
            day = day.model_copy(update={"top_hashtags": []})
        plan = write_template_plan(theme, day)
        assert alignment_problems(plan, plan_brief(theme, day)) == [], theme
        assert all(tag and tag == tag.lower() for tag in plan.hashtags)


@pytest.mark.parametrize("name", ["GlowCup", "Glow-Cup!", "🔥🔥 GlowCup", "glowcup"])
def test_themes_render_a_theme_whose_tags_collapse_still_gets_five_hashtags(name):
    theme = THEME.model_copy(
        update={"slug": "glowcup", "product_name": name, "hashtags": ["glowcup", "GlowCup"]}
    )
    day = report().model_copy(update={"top_hashtags": []})
    plan = write_template_plan(theme, day)
    assert len(plan.hashtags) >= 5 and plan.hashtags[0] == "glowcup"
