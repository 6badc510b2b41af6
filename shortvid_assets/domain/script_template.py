"""The offline script writer: a deterministic production plan from a theme and the day's report.

It follows the report exactly as the OpenAI writer must (SCRIPT-4): the same `plan_brief`
decides style, hook type, target duration (`prompts.plan_target_duration`, the one duration
rule) and which of the report's hashtags the plan uses, so `alignment_problems` finds nothing.

Every viewer-facing line is written in the theme's language from that language's templates
(`TEMPLATES`); a language without templates is refused. The voiceover keeps as many talking
points as the language's speaking pace fits in the duration, and `shorten_plan` drops more when
the spoken voice still runs over.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

import regex

from shortvid_assets.domain.languages import UnsupportedLanguageError, language_of
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
from shortvid_assets.domain.publishing import ThemeWinners

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
_NOT_IN_TAG = regex.compile(r"[^\p{L}\p{M}\p{N}_]")


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


@dataclass(frozen=True)
class Templates:
    """One language's lines; `{p}` is the product, `{t}` the tagline, `{a}` the audience, `{n}` a count."""

    hooks: dict[str, str]
    cta: str
    made_for: str
    full_stop: str = "."
    title: str = "{p}: {t}"


TEMPLATES: dict[str, Templates] = {
    "en": Templates(
        hooks={
            "question": "Want {t_lower}?",
            "number": "{n} reasons to try {p}",
            "pov": "POV: you just found {p}",
            "how-to": "How to upgrade your day with {p}",
            "bold-claim": "{p} changes everything",
            "statement": "Meet {p}.",
        },
        cta="Tap the link to get yours today.",
        made_for="{t}. Made for {a}.",
    ),
    "es": Templates(
        hooks={
            "question": "¿Ya conoces {p}?",
            "number": "{n} razones para probar {p}",
            "pov": "POV: acabas de descubrir {p}",
            "how-to": "Cómo mejorar tu día con {p}",
            "bold-claim": "{p} lo cambia todo",
            "statement": "Te presentamos {p}.",
        },
        cta="Toca el enlace y consigue el tuyo hoy.",
        made_for="{t}. Pensado para {a}.",
    ),
    "pt": Templates(
        hooks={
            "question": "Já conhece {p}?",
            "number": "{n} motivos para experimentar {p}",
            "pov": "POV: você acabou de descobrir {p}",
            "how-to": "Como melhorar o seu dia com {p}",
            "bold-claim": "{p} muda tudo",
            "statement": "Conheça {p}.",
        },
        cta="Toque no link e garanta o seu hoje.",
        made_for="{t}. Feito para {a}.",
    ),
    "de": Templates(
        hooks={
            "question": "Kennst du schon {p}?",
            "number": "{n} Gründe für {p}",
            "pov": "POV: Du hast gerade {p} entdeckt",
            "how-to": "So wird dein Tag besser mit {p}",
            "bold-claim": "{p} verändert alles",
            "statement": "Das ist {p}.",
        },
        cta="Tippe auf den Link und hol dir deins.",
        made_for="{t}. Gemacht für {a}.",
    ),
    "fr": Templates(
        hooks={
            "question": "Tu connais {p} ?",
            "number": "{n} raisons d'essayer {p}",
            "pov": "POV : tu viens de découvrir {p}",
            "how-to": "Comment améliorer ta journée avec {p}",
            "bold-claim": "{p} change tout",
            "statement": "Voici {p}.",
        },
        cta="Touche le lien pour avoir le tien dès aujourd'hui.",
        made_for="{t}. Pensé pour {a}.",
    ),
    "ja": Templates(
        hooks={
            "question": "{p}、もう試した？",
            "number": "{p}を試すべき{n}つの理由",
            "pov": "POV：{p}に出会った瞬間",
            "how-to": "{p}で毎日をアップグレードする方法",
            "bold-claim": "{p}がすべてを変える",
            "statement": "{p}、登場。",
        },
        cta="リンクから今すぐチェック。",
        made_for="{t}。{a}のために。",
        full_stop="。",
        title="{p}：{t}",
    ),
    "ko": Templates(
        hooks={
            "question": "{p}, 아직 안 써 보셨나요?",
            "number": "{p}, 써야 하는 이유 {n}가지",
            "pov": "POV: 방금 {p} 발견",
            "how-to": "하루를 바꾸는 방법: {p}",
            "bold-claim": "{p}, 모든 것을 바꿉니다",
            "statement": "소개합니다, {p}.",
        },
        cta="지금 링크를 눌러 확인하세요.",
        made_for="{t}. 대상: {a}.",
    ),
    "zh": Templates(
        hooks={
            "question": "你试过{p}吗？",
            "number": "选择{p}的{n}个理由",
            "pov": "POV：你刚刚发现了{p}",
            "how-to": "如何用{p}升级你的每一天",
            "bold-claim": "{p}改变一切",
            "statement": "认识一下{p}。",
        },
        cta="点击链接，马上拥有。",
        made_for="{t}。专为{a}打造。",
        full_stop="。",
        title="{p}：{t}",
    ),
    "ar": Templates(
        hooks={
            "question": "هل جربت {p}؟",
            "number": "{n} أسباب لتجربة {p}",
            "pov": "POV: اكتشفت {p} للتو",
            "how-to": "كيف تجعل يومك أفضل مع {p}",
            "bold-claim": "{p} يغير كل شيء",
            "statement": "تعرّف على {p}.",
        },
        cta="اضغط على الرابط واحصل عليه اليوم.",
        made_for="{t}. مصمم من أجل {a}.",
    ),
    "hi": Templates(
        hooks={
            "question": "क्या आपने {p} आज़माया है?",
            "number": "{p} आज़माने की {n} वजहें",
            "pov": "POV: आपने अभी-अभी {p} खोजा",
            "how-to": "{p} के साथ अपना दिन बेहतर कैसे बनाएं",
            "bold-claim": "{p} सब कुछ बदल देता है",
            "statement": "मिलिए {p} से।",
        },
        cta="लिंक पर टैप करें और आज ही पाएं।",
        made_for="{t}। {a} के लिए बनाया गया।",
        full_stop="।",
    ),
}
# Sentence-final punctuation in the supported scripts (a talking point ending in one keeps it).
_SENTENCE_END = ".!?…。！？؟।"
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…。！？؟।])\s*")


def templates_for(language: str) -> Templates:
    """The template writer's lines for a language tag, or UnsupportedLanguageError naming the supported ones."""
    try:
        code = language_of(language).code
    except UnsupportedLanguageError as exc:
        raise UnsupportedLanguageError(f"the template writer cannot write {language!r}: {exc}") from None
    if code not in TEMPLATES:  # a language added to the table before its templates
        raise UnsupportedLanguageError(
            f"the template writer has no templates for {language!r}; it writes {', '.join(TEMPLATES)}"
        )
    return TEMPLATES[code]


def _fill(template: str, theme: Theme) -> str:
    tagline = theme.tagline.strip().rstrip(".!。！")
    lowered = tagline[0].lower() + tagline[1:] if tagline else tagline
    return template.format(
        p=theme.product_name.strip(),
        t=tagline,
        t_lower=lowered,
        a=theme.audience.strip(),
        n=len(theme.talking_points),
    )


def hook_text(hook_type: HookType, theme: Theme) -> str:
    return _fill(templates_for(theme.language).hooks[hook_type], theme)


def plan_hashtags(theme: Theme, report: TrendReport, brief: PlanBrief | None = None) -> list[str]:
    """5–8 tags: the theme's own, then the day's top non-generic ones, always enough of the report's top tags."""
    brief = brief or plan_brief(theme, report)
    trend = sorted(brief.trend_hashtags, key=lambda tag: tag in _GENERIC_TAGS)  # non-generic first, stable
    required = trend[: min(MIN_TREND_HASHTAGS, len(trend))]
    own = [*theme.hashtags, *(h.tag for h in report.top_hashtags if _clean_tag(h.tag) not in _GENERIC_TAGS)]
    # Generic fillers last: enough that any theme reaches the minimum, even one whose slug, name and tags
    # clean to the same word (or to nothing, for a name of punctuation and emoji).
    fillers = [theme.slug.replace("-", ""), theme.product_name, "shorts", "fyp", "viral", "trending", "video"]
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
    """A hashtag as a platform links it: lowercase letters (with their marks), digits and `_` only."""
    return _NOT_IN_TAG.sub("", tag.lower())


def _sentence(text: str, full_stop: str = ".") -> str:
    """A line as a spoken sentence: capitalised where the script has case, ending in punctuation."""
    text = text.strip().rstrip(".。।")
    text = text[0].upper() + text[1:]
    return text if text.endswith(tuple(_SENTENCE_END)) else text + full_stop


def speech_units(text: str, language: str = "en") -> int:
    """How much there is to say: words, or letters in a script written without spaces (Japanese, Chinese)."""
    if language_of(language).spaced:
        return len(text.split())
    return sum(1 for c in text if unicodedata.category(c)[0] in "LN")


def estimated_speech_s(text: str, language: str = "en") -> float:
    """Seconds the offline voice takes to say `text` at its default pace, from the language's measured pace."""
    return speech_units(text, language) / language_of(language).units_per_s


def voiceover_script(hook: str, theme: Theme, cta: str, duration_s: float) -> str:
    """Hook, tagline and as many talking points as fit the duration at the language's natural pace."""
    language = theme.language
    stop = templates_for(language).full_stop
    pace = language_of(language).units_per_s
    if language_of(language).code == "en":
        pace = WORDS_PER_SECOND
    budget = duration_s * pace
    parts = [hook if hook.endswith(tuple(_SENTENCE_END)) else hook + stop, _sentence(theme.tagline, stop)]
    closing = cta
    used = sum(speech_units(p, language) for p in [*parts, closing])
    for point in theme.talking_points:
        sentence = _sentence(point, stop)
        if used + speech_units(sentence, language) > budget:
            break
        parts.append(sentence)
        used += speech_units(sentence, language)
    joiner = "" if not language_of(language).spaced else " "
    return joiner.join([*parts, closing])


def split_sentences(script: str) -> list[str]:
    """The sentences of a voiceover script (hook first, call to action last)."""
    return [part for part in _SENTENCE_SPLIT.split(script.strip()) if part.strip()]


def shorten_plan(plan: VideoPlan, overrun_s: float, *, speech_s: float | None = None) -> VideoPlan:
    """The plan with talking points dropped from the end of its voiceover until `overrun_s` less is spoken.

    The hook (first sentence) and the call to action (last) always stay; the tagline (second) goes
    only after every talking point. `speech_s` is how long the current voiceover lasts when spoken
    (it gives the pace); without it the language's estimated pace is used. A plan with nothing left
    to drop is returned unchanged.
    """
    if overrun_s <= 0:
        return plan
    sentences = split_sentences(plan.voiceover_script)
    if len(sentences) <= 2:
        return plan
    language = plan.language
    units = [max(1, speech_units(s, language)) for s in sentences]
    pace = (
        sum(units) / speech_s if speech_s and speech_s > 0 else language_of(language).units_per_s
    )  # units per second
    hook, body, cta = sentences[0], sentences[1:-1], sentences[-1]
    body_units = units[1:-1]
    saved = 0.0
    while body and saved < overrun_s:
        body.pop()
        saved += body_units.pop() / pace
    joiner = " " if language_of(language).spaced else ""
    script = joiner.join([hook, *body, cta])
    return VideoPlan.model_validate({**plan.model_dump(), "voiceover_script": script})


def write_template_plan(
    theme: Theme, report: TrendReport, performance: ThemeWinners | None = None
) -> VideoPlan:
    """A valid production plan (SCRIPT-3) that follows the report's style, hook, length and tags (SCRIPT-4).

    With `performance` (the theme's winners in our own performance report), the hook pattern and style
    are those of our best-performing videos instead of the report's dominant ones.
    """
    brief = plan_brief(theme, report, performance)
    duration = brief.target_duration_s
    durations = scene_durations(duration)
    hook = hook_text(brief.hook_type, theme)
    templates = templates_for(theme.language)
    cta = templates.cta
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
        title=_fill(templates.title, theme)[:100],
        description=_fill(templates.made_for, theme),
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
        language=theme.language,
    )
