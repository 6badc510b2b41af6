"""Prompts for the script writer (SCRIPT-2) and the trend alignment every plan must follow (SCRIPT-4).

The trend report decides the *format* of the video: style, hook type, duration and part of the
hashtags. The theme decides the *content*: product, audience, tone, talking points, its own
hashtags, and the visual look (its `style` is given to the model as the brand's look).

Duration rule — the one rule both writers follow (`plan_target_duration`): the plan's target
duration is the report's recommended duration, limited to within ±25 % of the theme's target
duration (and to what 3–7 scenes of 2–4 s can fill, 6–28 s), rounded to half seconds. A theme
asking for 20 s keeps 20 s when the report recommends ~20 s, moves to 17 s when it recommends
17.2 s, and stops at 25 s when it recommends 45 s. A report with no trends, or no recommended
duration, leaves the theme's target unchanged (capped at 28 s).

Performance feedback: once our own published videos have a performance report, the theme's
best-performing hook pattern and style (`ThemeWinners` from `domain.publishing`) replace the
report's dominant ones in the brief, so both writers follow them (the template writer by
construction, the OpenAI writer through the brief and a block of context in its prompt), and the
brief's `trend_pattern` says where they came from. With no published videos the brief is as before.
"""

from __future__ import annotations

import math
from typing import get_args

from pydantic import BaseModel, ValidationError

from shortvid_assets.domain.languages import DEFAULT_LANGUAGE, language_of
from shortvid_assets.domain.models import (
    DURATION_TOLERANCE,
    MAX_HASHTAGS,
    MAX_SCENE_S,
    MAX_SCENES,
    MIN_HASHTAGS,
    MIN_SCENE_S,
    MIN_SCENES,
    HookType,
    Style,
    StylePattern,
    Theme,
    TrendReport,
    VideoPlan,
)
from shortvid_assets.domain.publishing import ThemeWinners

DURATION_PULL = 0.25  # how far (as a share of the theme's target) the trend may move the duration
MIN_PLAN_S = MIN_SCENES * MIN_SCENE_S
MAX_PLAN_S = MAX_SCENES * MAX_SCENE_S  # 7 scenes of 4 s
TREND_HASHTAGS = 5  # the report's top hashtags offered to the model
MIN_TREND_HASHTAGS = 2  # how many of them a plan must use
DURATION_MATCH_S = 0.5  # how close the plan's target duration must be to the brief's
MAX_ECHOED_OUTPUT = 6000  # characters of a rejected output repeated in the repair prompt

Message = dict[str, str]


class PlanBrief(BaseModel):
    """What a plan must follow: the theme and the day's trend report, resolved into targets."""

    style: Style
    hook_type: HookType
    target_duration_s: float
    trend_hashtags: list[str]
    theme_hashtags: list[str]
    trend_pattern: str
    pattern: StylePattern | None = None
    language: str = DEFAULT_LANGUAGE  # the theme's: every viewer-facing line is written in it
    performance: ThemeWinners | None = None  # our own videos' best hook and style for this theme, if any
    hook_source: str = "trend report"  # where hook_type comes from: "trend report" or "own best video"
    style_source: str = "trend report"

    @property
    def performance_pattern(self) -> str | None:
        """What the plan took from our own best videos ("question hook, montage style"), None if nothing."""
        taken = []
        if self.hook_source != "trend report":
            taken.append(f"{self.hook_type} hook")
        if self.style_source != "trend report":
            taken.append(f"{self.style} style")
        return ", ".join(taken) or None


def plan_target_duration(theme: Theme, report: TrendReport) -> float:
    """The plan's target duration: the report's recommendation within ±25 % of the theme's target."""
    target = theme.target_duration_s
    recommended = report.recommended_duration_s
    if report.trend_count <= 0 or not recommended or recommended <= 0:
        return min(max(target, MIN_PLAN_S), MAX_PLAN_S)
    low = max(MIN_PLAN_S, target * (1 - DURATION_PULL))
    high = min(MAX_PLAN_S, target * (1 + DURATION_PULL))
    chosen = round(min(max(recommended, low), high) * 2) / 2
    if chosen > high:
        chosen -= 0.5
    if chosen < low:
        chosen += 0.5
    return chosen


def plan_brief(theme: Theme, report: TrendReport, performance: ThemeWinners | None = None) -> PlanBrief:
    """Resolve the theme, the trend report and our own videos' performance into the targets a plan must meet."""
    hook_type, style = report.dominant_hook_type, report.dominant_style
    hook_source = style_source = "trend report"
    if performance is not None and performance.videos > 0:
        if performance.best_hook_pattern in get_args(HookType):
            hook_type, hook_source = performance.best_hook_pattern, "own best video"
        if performance.best_style in get_args(Style):
            style, style_source = performance.best_style, "own best video"
    else:
        performance = None
    pattern = next((p for p in report.patterns if p.style == style), None)
    trend_tags = [tag.tag.strip().lstrip("#").lower() for tag in report.top_hashtags[:TREND_HASHTAGS]]
    theme_tags = [tag.strip().lstrip("#").lower() for tag in theme.hashtags]
    duration = plan_target_duration(theme, report)
    label = f"{style} · {hook_type} hook · ~{duration:g} s"
    if pattern is not None:
        label += f" · {pattern.format}"
    if "own best video" in (hook_source, style_source):
        label += f" · from our best {theme.slug} videos"
    return PlanBrief(
        style=style,
        hook_type=hook_type,
        target_duration_s=duration,
        trend_hashtags=[tag for tag in trend_tags if tag],
        theme_hashtags=[tag for tag in theme_tags if tag],
        trend_pattern=label,
        pattern=pattern,
        language=theme.language,
        performance=performance,
        hook_source=hook_source,
        style_source=style_source,
    )


SYSTEM_PROMPT = (
    "You are a short-form video strategist and scriptwriter for vertical 9:16 videos "
    "(YouTube Shorts, TikTok, Instagram Reels). You write for the product you are given, follow "
    "the day's trend data exactly where it sets a format, never invent product claims "
    "beyond the talking points, and write every line the viewer sees or hears in the theme's language."
)


def _theme_block(theme: Theme) -> str:
    points = "\n".join(f"  - {point}" for point in theme.talking_points)
    tags = ", ".join(f"#{tag.lstrip('#')}" for tag in theme.hashtags) or "(none)"
    return (
        f"PRODUCT / THEME ({theme.slug})\n"
        f"- Product: {theme.product_name}\n"
        f"- Tagline: {theme.tagline}\n"
        f"- Audience: {theme.audience}\n"
        f"- Tone: {theme.tone}\n"
        f"- Brand look: {theme.style}\n"
        f"- Platform: {theme.platform}\n"
        f"- Language: {language_of(theme.language).name} ({theme.language})\n"
        f"- Theme's target duration: {theme.target_duration_s:g} s\n"
        f"- Theme hashtags: {tags}\n"
        f"- Talking points:\n{points}"
    )


def _report_block(report: TrendReport, brief: PlanBrief) -> str:
    lines = [
        f"TODAY'S TREND REPORT ({report.date}, {report.trend_count} trending videos)",
        f"- Dominant style: {report.dominant_style}",
        f"- Dominant hook type: {report.dominant_hook_type}",
        f"- Recommended duration: {report.recommended_duration_s:g} s",
        "- Top hashtags: " + (", ".join(f"#{tag}" for tag in brief.trend_hashtags) or "(none)"),
    ]
    if brief.pattern is not None:
        p = brief.pattern
        lines.append(
            f"- Pattern of the dominant style: format {p.format}, average {p.avg_duration_s:.0f} s, "
            f"{p.text_overlay_share:.0%} use text overlays, audio: {p.audio_type}"
        )
    for performer in report.top_performers[:3]:
        lines.append(
            f'- Top performer: "{performer.title}" ({performer.platform}, {performer.style}, '
            f"{performer.hook_type} hook, {performer.duration_s:.0f} s)"
        )
    return "\n".join(lines)


def _performance_block(brief: PlanBrief) -> str:
    """Our own published videos of this theme: which hooks and styles scored best (growth and retention)."""
    winners = brief.performance
    if winners is None:
        return ""
    hooks = ", ".join(
        f"{name} {score:.2f}" for name, score in sorted(winners.hook_scores.items(), key=lambda i: -i[1])
    )
    styles = ", ".join(
        f"{name} {score:.2f}" for name, score in sorted(winners.style_scores.items(), key=lambda i: -i[1])
    )
    return (
        f"OUR OWN PUBLISHED VIDEOS FOR THIS THEME ({winners.videos}, scored 0–1 on views per day and retention)\n"
        f"- Hook patterns: {hooks or '(none)'}\n"
        f"- Styles: {styles or '(none)'}\n"
        f"- Best so far: {winners.best_hook_pattern or '?'} hook, {winners.best_style or '?'} style; "
        "repeat what worked for our audience\n\n"
    )


def _source(what: str, source: str) -> str:
    return (
        f"our own best-performing videos' {what}"
        if source != "trend report"
        else f"the report's dominant {what}"
    )


def _targets_block(brief: PlanBrief) -> str:
    tags = ", ".join(f"#{tag}" for tag in brief.trend_hashtags) or "(none)"
    need = min(MIN_TREND_HASHTAGS, len(brief.trend_hashtags))
    return (
        "THE PLAN MUST FOLLOW THE TREND REPORT\n"
        f"- style: {brief.style} ({_source('style', brief.style_source)})\n"
        f"- hook_type: {brief.hook_type} ({_source('hook type', brief.hook_source)}); the hook is the first words "
        "spoken and the first overlay\n"
        f"- target_duration_s: {brief.target_duration_s:g} (the report's recommended duration, kept within "
        "the theme's limits)\n"
        f"- hashtags: use at least {need} of the report's top hashtags {tags}, plus theme hashtags\n"
        f"- trend_pattern: {brief.trend_pattern!r}"
    )


def analysis_messages(theme: Theme, report: TrendReport, brief: PlanBrief) -> list[Message]:
    """Messages of the first call: theme interpretation and trend alignment, in plain text."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {
            "role": "user",
            "content": (
                f"{_theme_block(theme)}\n\n{_report_block(report, brief)}\n\n{_performance_block(brief)}"
                f"{_targets_block(brief)}\n\n"
                "Step 1 — analysis. In at most 200 words of plain text:\n"
                "1. Theme interpretation: the single message this video should leave with the audience, "
                "and which talking points carry it.\n"
                "2. Trend alignment: how to apply the report's style, hook type, duration and hashtags "
                "to this product; draft the hook line."
            ),
        },
    ]


def plan_instructions(brief: PlanBrief) -> str:
    """The request for the structured plan, with every rule the plan is validated against."""
    target = brief.target_duration_s
    low, high = target * (1 - DURATION_TOLERANCE), target * (1 + DURATION_TOLERANCE)
    scenes_low = max(MIN_SCENES, math.ceil(low / MAX_SCENE_S))
    scenes_high = min(MAX_SCENES, math.floor(high / MIN_SCENE_S))
    return (
        "Step 2 — production plan. Using your analysis, write the complete plan as JSON in the given schema:\n"
        f"{_language_rule(brief.language)}"
        f"- Scenes: {scenes_low}–{scenes_high} scenes numbered 1..n in order, each {MIN_SCENE_S:g}–{MAX_SCENE_S:g} s "
        f"long, whose durations sum to {target:g} s (allowed {low:.1f}–{high:.1f} s). Each scene has one "
        "concrete visual prompt (subject, setting, camera, light) consistent with the master visual prompt, "
        "and a transition: cut, fade or dissolve.\n"
        f"- target_duration_s: {target:g}; aspect_ratio: 9:16.\n"
        f"- hook_text: a {brief.hook_type} hook, spoken first; hook_type: {brief.hook_type}.\n"
        f"- voiceover_script: the full narration, speakable in about {target:g} s "
        f"({_length_hint(brief.language, target)}), starting with the hook and ending with the CTA; "
        "no emoji, URLs or hashtags in it (they are never read aloud).\n"
        "- text_overlays: the hook overlay (style hook) at the start, short body overlays, the CTA overlay "
        f"(style cta) at the end; every overlay ends after it starts and no later than {target:g} s; "
        "positions top, center or bottom.\n"
        f"- hashtags: {MIN_HASHTAGS}–{MAX_HASHTAGS} unique tags without '#', including at least "
        f"{min(MIN_TREND_HASHTAGS, len(brief.trend_hashtags))} of: {', '.join(brief.trend_hashtags) or '(none)'}.\n"
        f"- style: {brief.style}; trend_pattern: {brief.trend_pattern!r}.\n"
        "- title (at most 100 characters) and a description of one or two sentences."
    )


def _length_hint(language: str, target_s: float) -> str:
    """How long the narration may be, in the unit the language counts (words, or characters)."""
    lang = language_of(language)
    if lang.code == "en":
        return f"about {int(target_s * 2.5)} words"
    units = int(target_s * lang.units_per_s)
    return f"about {units} words" if lang.spaced else f"about {units} characters"


def _language_rule(language: str) -> str:
    """The instruction that keeps every viewer-facing line in the theme's language."""
    name = language_of(language).name
    return (
        f"- Language: write title, description, hook_text, voiceover_script, text_overlays and cta_text "
        f"entirely in {name} ({language}), naturally, not translated word for word; keep the product name "
        "as given; visual prompts stay in English.\n"
    )


def plan_messages(theme: Theme, report: TrendReport, brief: PlanBrief, analysis: str) -> list[Message]:
    """Messages of the second call: the analysis conversation followed by the plan request."""
    return [
        *analysis_messages(theme, report, brief),
        {"role": "assistant", "content": analysis},
        {"role": "user", "content": plan_instructions(brief)},
    ]


def repair_messages(previous: list[Message], rejected_output: str, problems: list[str]) -> list[Message]:
    """Messages of the repair call: the rejected output and what was wrong with it."""
    echoed = (
        rejected_output if len(rejected_output) <= MAX_ECHOED_OUTPUT else rejected_output[:MAX_ECHOED_OUTPUT]
    )
    listed = "\n".join(f"- {problem}" for problem in problems)
    return [
        *previous,
        {"role": "assistant", "content": echoed or "(empty output)"},
        {
            "role": "user",
            "content": (
                f"That plan was rejected by validation:\n{listed}\n\n"
                "Return the complete corrected plan as JSON in the same schema, fixing every problem "
                "above and keeping all other rules."
            ),
        },
    ]


def alignment_problems(plan: VideoPlan, brief: PlanBrief) -> list[str]:
    """Where a valid plan does not follow the trend report (SCRIPT-4); empty when it does."""
    problems = []
    if plan.hook_type != brief.hook_type:
        problems.append(
            f"hook_type is {plan.hook_type!r} but must be {brief.hook_type!r}, {_source('hook type', brief.hook_source)}"
        )
    if plan.style != brief.style:
        problems.append(
            f"style is {plan.style!r} but must be {brief.style!r}, {_source('style', brief.style_source)}"
        )
    if abs(plan.target_duration_s - brief.target_duration_s) > DURATION_MATCH_S:
        problems.append(
            f"target_duration_s is {plan.target_duration_s:g} but must be {brief.target_duration_s:g} "
            "(the scene durations must sum to it)"
        )
    need = min(MIN_TREND_HASHTAGS, len(brief.trend_hashtags))
    used = [tag for tag in plan.hashtags if tag in brief.trend_hashtags]
    if len(used) < need:
        problems.append(
            f"hashtags use {len(used)} of the report's top hashtags ({', '.join(brief.trend_hashtags)}); "
            f"use at least {need}"
        )
    return problems


def validation_problems(exc: ValidationError) -> list[str]:
    """One readable line per pydantic error, for the repair prompt and error messages."""
    problems = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if location:
            problems.append(f"{location}: {message}")
        else:  # VideoPlan's own check joins its findings with "; "
            problems.extend(part for part in message.split("; ") if part)
    return problems
