"""The offline script writer: a deterministic production plan from a theme and the day's report."""

from __future__ import annotations

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


def plan_target_duration(theme: Theme, report: TrendReport) -> float:
    """Follow the report's recommended length, kept within ±50 % of the theme's target (SCRIPT-4)."""
    low = max(MIN_SCENES * MIN_SCENE_S, theme.target_duration_s * 0.5)
    high = min(MAX_SCENES * MAX_SCENE_S, theme.target_duration_s * 1.5)
    return round(min(max(report.recommended_duration_s, low), high), 1)


def scene_durations(total_s: float) -> list[float]:
    """Split `total_s` into 3–7 scenes of 2–4 s that sum to it exactly (VIDEO-3)."""
    count = min(max(round(total_s / 3.0), MIN_SCENES), MAX_SCENES)
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


def plan_hashtags(theme: Theme, report: TrendReport) -> list[str]:
    """The theme's own tags first, then the day's top non-generic tags, 5–8 in all."""
    tags: dict[str, None] = {}
    for tag in [*theme.hashtags, *(h.tag for h in report.top_hashtags if h.tag not in _GENERIC_TAGS)]:
        clean = tag.lower().lstrip("#").replace(" ", "")
        if clean:
            tags.setdefault(clean, None)
    for filler in (theme.slug.replace("-", ""), theme.product_name.lower().replace(" ", ""), "shorts", "fyp"):
        if len(tags) >= MIN_HASHTAGS:
            break
        tags.setdefault(filler, None)
    return list(tags)[:MAX_HASHTAGS]


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
    """A valid production plan (SCRIPT-3) that follows the report's hook, length and tags."""
    duration = plan_target_duration(theme, report)
    durations = scene_durations(duration)
    hook_type = report.dominant_hook_type
    hook = hook_text(hook_type, theme)
    cta = "Tap the link to get yours today."
    transition = _TRANSITION_BY_STYLE[theme.style]
    pattern = next((p for p in report.patterns if p.style == report.dominant_style), report.patterns[0])
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
            f"{theme.style} vertical video, {theme.tone} mood, for {theme.audience}; "
            f"trending format today: {pattern.format}"
        ),
        target_duration_s=duration,
        scenes=scenes,
        voiceover_script=voiceover_script(hook, theme, cta, duration),
        hook_text=hook,
        hook_type=hook_type,
        cta_text=cta,
        text_overlays=[
            TextOverlay(text=hook, start_s=0.0, end_s=round(durations[0], 2), position="top", style="hook"),
            TextOverlay(text=cta, start_s=cta_start, end_s=duration, position="center", style="cta"),
        ],
        hashtags=plan_hashtags(theme, report),
        style=theme.style,
        trend_pattern=(
            f"{report.dominant_style} dominates today's top performers ({pattern.format}, "
            f"{report.dominant_hook_type} hooks, ~{report.recommended_duration_s:.0f}s)"
        ),
    )
