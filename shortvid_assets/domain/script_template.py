"""The offline script writer: a deterministic production plan from a theme and the day's report.

It follows the report exactly as the OpenAI writer must (SCRIPT-4): the same `plan_brief`
decides style, hook type, target duration (`prompts.plan_target_duration`, the one duration
rule) and which of the report's hashtags the plan uses, so `alignment_problems` finds nothing.
"""

from __future__ import annotations

import math

from shortvid_assets.domain.models import (
    MAX_HASHTAGS,
    MAX_SCENE_S,
    MAX_SCENES,
    MIN_HASHTAGS,
    MIN_SCENE_S,
    MIN_SCENES,
    HookType,
    Scene,
    TextOverlay,
    Theme,
    Transition,
    TrendReport,
    VideoPlan,
)
from shortvid_assets.domain.prompts import MIN_TREND_HASHTAGS, PlanBrief, plan_brief

WORDS_PER_SECOND = 2.6  # a relaxed voiceover pace, leaves room for the hook to land
_TRANSITION_BY_STYLE: dict[str, Transition] = {
    "cinematic": "dissolve",
    "montage": "cut",
    "animation": "fade",
    "talking-head": "cut",
    "text-heavy": "fade",
    "tutorial": "fade",
}
_GENERIC_TAGS = {"fyp", "foryou", "viral", "trending", "shorts"}


def scene_durations(total_s: float) -> list[float]:
    """Split `total_s` into 3–7 scenes of 2–4 s that sum to it exactly (VIDEO-3)."""
    if not MIN_SCENES * MIN_SCENE_S <= total_s <= MAX_SCENES * MAX_SCENE_S:
        raise ValueError(
            f"{total_s}s cannot be split into {MIN_SCENES}–{MAX_SCENES} scenes of "
            f"{MIN_SCENE_S:g}–{MAX_SCENE_S:g} s; use plan_target_duration to choose the length"
        )
    count = min(max(round(total_s / 3.0), math.ceil(total_s / MAX_SCENE_S - 1e-9), MIN_SCENES), MAX_SCENES)
    base = round(total_s / count, 2)
    durations = [base] * count
    durations[-1] = round(total_s - base * (count - 1), 2)
    return durations


def hook_text(hook_type: HookType, theme: Theme) -> str:
    tagline = theme.tagline.rstrip(".!")
    lowered = tagline[0].lower() + tagline[1:]
    return {
        "question": f"Want {lowered}?",
        "number": f"{len(theme.talking_points)} reasons to try {theme.product_name}",
        "pov": f"POV: you just found {theme.product_name}",
        "how-to": f"How to upgrade your day with {theme.product_name}",
        "bold-claim": f"{theme.product_name} changes everything",
        "statement": f"Meet {theme.product_name}.",
    }[hook_type]


def _clean_tag(tag: str) -> str:
    return tag.lower().lstrip("#").replace(" ", "")


def plan_hashtags(theme: Theme, report: TrendReport, brief: PlanBrief | None = None) -> list[str]:
    """5–8 tags: the theme's own, then the day's top non-generic ones, always enough of the report's top tags."""
    brief = brief or plan_brief(theme, report)
    trend = sorted(brief.trend_hashtags, key=lambda tag: tag in _GENERIC_TAGS)  # non-generic first, stable
    required = trend[: min(MIN_TREND_HASHTAGS, len(trend))]
    own = [*theme.hashtags, *(h.tag for h in report.top_hashtags if _clean_tag(h.tag) not in _GENERIC_TAGS)]
    fillers = [theme.slug.replace("-", ""), theme.product_name, "shorts", "fyp"]
    own, fillers = [_clean_tag(t) for t in own], [_clean_tag(t) for t in fillers]
    chosen = dict.fromkeys(required)
    for tag in own:
        if tag and len(chosen) < MAX_HASHTAGS:
            chosen.setdefault(tag)
    for tag in fillers:
        if tag and len(chosen) < MIN_HASHTAGS:
            chosen.setdefault(tag)
    return [tag for tag in dict.fromkeys([*own, *required, *fillers]) if tag in chosen]


def _clean_tag(tag: str) -> str:
    return tag.strip().lower().lstrip("#").replace(" ", "")


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[0].upper() + text[1:] + "."


def voiceover_script(hook: str, theme: Theme, cta: str, duration_s: float) -> str:
    """Hook, tagline and as many talking points as fit the duration at a natural pace."""
    budget = int(duration_s * WORDS_PER_SECOND)
    parts = [hook if hook.endswith(("?", ".", "!")) else hook + ".", _sentence(theme.tagline)]
    closing = cta
    used = sum(len(p.split()) for p in [*parts, closing])
    for point in theme.talking_points:
        sentence = _sentence(point)
        if used + len(sentence.split()) > budget:
            break
        parts.append(sentence)
        used += len(sentence.split())
    return " ".join([*parts, closing])


def write_template_plan(theme: Theme, report: TrendReport) -> VideoPlan:
    """A valid production plan (SCRIPT-3) that follows the report's style, hook, length and tags (SCRIPT-4)."""
    brief = plan_brief(theme, report)
    duration = brief.target_duration_s
    durations = scene_durations(duration)
    hook = hook_text(brief.hook_type, theme)
    cta = "Tap the link to get yours today."
    transition = _TRANSITION_BY_STYLE[brief.style]
    trending_format = f"; trending format today: {brief.pattern.format}" if brief.pattern else ""
    beats = [hook, *theme.talking_points, theme.tagline]
    scenes = [
        Scene(
            number=i + 1,
            duration_s=d,
            visual_prompt=f"{theme.style} vertical shot for {theme.product_name}: {beats[min(i, len(beats) - 1)]}",
            transition="cut" if i == len(durations) - 1 else transition,
        )
        for i, d in enumerate(durations)
    ]
    cta_start = round(duration - durations[-1], 2)
    return VideoPlan(
        title=f"{theme.product_name}: {theme.tagline}"[:100],
        description=f"{theme.tagline}. Made for {theme.audience}.",
        master_visual_prompt=(
            f"{theme.style} vertical video, {theme.tone} mood, for {theme.audience}{trending_format}"
        ),
        target_duration_s=duration,
        scenes=scenes,
        voiceover_script=voiceover_script(hook, theme, cta, duration),
        hook_text=hook,
        hook_type=brief.hook_type,
        cta_text=cta,
        text_overlays=[
            TextOverlay(text=hook, start_s=0.0, end_s=round(durations[0], 2), position="top", style="hook"),
            TextOverlay(text=cta, start_s=cta_start, end_s=duration, position="center", style="cta"),
        ],
        hashtags=plan_hashtags(theme, report, brief),
        style=brief.style,
        trend_pattern=brief.trend_pattern,
    )
