"""Protects captions: word-timed short lines that never overlap, PNGs that fit the safe zone for any text,
the spoken word highlighted state by state, and word captions that move away from text overlays."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFont

from shortvid_assets.domain.captions import (
    SAFE_BOTTOM_FRACTION,
    SAFE_TOP_FRACTION,
    TEXT_WIDTH_FRACTION,
    CaptionCue,
    CaptionImage,
    CaptionStyle,
    CueWord,
    FontNotFoundError,
    _load_font,
    caption_boxes_in_safe_zone,
    caption_cues_from_words,
    caption_y,
    choose_word_position,
    default_font_path,
    draw_caption,
    draw_word_states,
    layout_caption,
    overlay_cues,
    render_caption_png,
    render_caption_track,
    word_states,
)
from shortvid_assets.domain.models import TextOverlay, WordTiming

W, H = 1080, 1920


def _words(*items: tuple[str, float, float]) -> list[WordTiming]:
    return [WordTiming(word=w, start_s=s, end_s=e) for w, s, e in items]


def _ink_bbox(path: Path) -> tuple[int, int, int, int] | None:
    return Image.open(path).getchannel("A").point(lambda a: 255 if a > 128 else 0).getbbox()


def test_cues_group_words_into_short_lines_that_never_overlap() -> None:
    words = _words(
        ("This", 0.0, 0.2), ("is", 0.25, 0.35), ("a", 0.4, 0.45), ("very", 0.5, 0.7), ("short", 0.75, 1.0),
        ("video", 1.05, 1.3), ("about", 1.35, 1.6), ("extraordinarily", 1.65, 2.3), ("cool", 2.35, 2.6),
        ("things.", 2.65, 3.0), ("Buy", 3.1, 3.3), ("now!", 3.35, 3.7),
    )  # fmt: skip
    cues = caption_cues_from_words(words, max_chars=18, max_words=4)
    texts = [c.text for c in cues]
    assert " ".join(texts) == " ".join(w.word for w in words), "every word is shown once, in order"
    assert all(len(c.text.split()) <= 4 for c in cues)
    assert all(len(c.text) <= 18 or len(c.text.split()) == 1 for c in cues)
    assert not any("things." in t and "Buy" in t for t in texts), "a new sentence starts a new line"
    assert any(t.endswith("things.") for t in texts), "a sentence end closes its line"
    for cue, nxt in itertools.pairwise(cues):
        assert cue.start_s < cue.end_s <= nxt.start_s
    assert cues[0].start_s == 0.0
    assert cues[-1].end_s == pytest.approx(3.7 + 0.3), "the last line is held briefly after its last word"
    assert all(c.position == "bottom" and c.style == "caption" for c in cues)


def test_cues_break_at_pauses_and_hold_until_the_next_line_when_close() -> None:
    cues = caption_cues_from_words(
        _words(("Wait", 0.0, 0.3), ("for", 0.35, 0.5), ("it", 2.0, 2.2)), max_words=4
    )
    assert [c.text for c in cues] == ["Wait for", "it"]
    assert cues[0].end_s == pytest.approx(0.8), "after a long pause the line leaves before the next starts"
    close = caption_cues_from_words(_words(("a", 0, 0.2), ("b", 0.25, 0.4), ("c", 0.5, 0.7)), max_words=2)
    assert close[0].end_s == close[1].start_s == 0.5


def test_cues_from_unsorted_empty_and_degenerate_words_still_do_not_overlap() -> None:
    words = _words(
        ("later", 1.0, 1.2), ("", 0.1, 0.2), ("first", 0.0, 0.0), ("same", 0.0, 0.0), ("  ", 0.5, 0.6)
    )
    cues = caption_cues_from_words(words, max_words=1)
    assert [c.text for c in cues][-1] == "later"
    for cue, nxt in itertools.pairwise(cues):
        assert cue.start_s < cue.end_s <= nxt.start_s
    assert caption_cues_from_words([]) == []


def test_overlay_cues_keep_text_timing_position_and_style() -> None:
    overlays = [
        TextOverlay(text="Buy now", start_s=5, end_s=7, position="bottom", style="cta"),
        TextOverlay(text="3 tricks", start_s=0, end_s=2, position="top", style="hook"),
    ]
    assert overlay_cues(overlays) == [
        CaptionCue("3 tricks", 0, 2, "top", "hook"),
        CaptionCue("Buy now", 5, 7, "bottom", "cta"),
    ]


@pytest.mark.parametrize("position", ["top", "center", "bottom"])
def test_caption_png_is_the_text_box_inside_the_safe_zone(tmp_path: Path, position: str) -> None:
    cue = CaptionCue("Three tricks nobody tells you about", 1.0, 2.5, position=position, style="hook")
    cap = render_caption_png(cue, tmp_path / "cap.png", width=W, height=H)
    image = Image.open(cap.path)
    assert image.format == "PNG" and image.mode == "RGBA"
    assert image.size == (cap.w, cap.h)
    assert (cap.start_s, cap.end_s) == (1.0, 2.5)
    assert cap.w <= W * TEXT_WIDTH_FRACTION + 0.05 * W
    assert cap.y >= H * SAFE_TOP_FRACTION - 1 and cap.y + cap.h <= H * (1 - SAFE_BOTTOM_FRACTION) + 1
    assert abs((cap.x + cap.w / 2) - W / 2) <= 1, "captions are centred"
    if position == "bottom":
        assert cap.y + cap.h == pytest.approx(H * (1 - SAFE_BOTTOM_FRACTION), abs=1), (
            "bottom sits just above the UI band"
        )
    if position == "top":
        assert cap.y == pytest.approx(H * SAFE_TOP_FRACTION, abs=1)
    assert caption_boxes_in_safe_zone([cap], W, H) == []
    # White fill with a dark outline: both appear among the opaque pixels.
    opaque = [px for px in image.getdata() if px[3] == 255]
    assert any(min(px[:3]) > 240 for px in opaque)
    assert any(max(px[:3]) < 40 for px in opaque)
    assert image.getpixel((0, 0))[3] == 0, "the background is transparent"


def test_long_text_wraps_by_words_within_the_width(tmp_path: Path) -> None:
    text = "This caption is far too long to fit on one line so it has to wrap onto several lines"
    cap = render_caption_png(CaptionCue(text, 0, 1), tmp_path / "long.png", width=W, height=H)
    short = render_caption_png(CaptionCue("Short", 0, 1), tmp_path / "short.png", width=W, height=H)
    assert cap.h > 2 * short.h, "several lines are stacked"
    assert cap.w <= W * TEXT_WIDTH_FRACTION + 0.05 * W
    ink = _ink_bbox(cap.path)
    assert ink is not None and ink[2] - ink[0] <= W * TEXT_WIDTH_FRACTION
    huge = render_caption_png(
        CaptionCue("Pneumonoultramicroscopicsilicovolcanoconiosis" * 2, 0, 1),
        tmp_path / "w.png",
        width=W,
        height=H,
    )
    assert huge.w <= W and caption_boxes_in_safe_zone([huge], W, H) == []


@pytest.mark.parametrize(
    "text",
    [
        "Fire 🔥 deals 😀👍🏽 today",
        "😀🔥👍",
        "שלום עולם — مرحبا بالعالم",
        "Zero\u200bwidth\u200d joiner\ufe0f and \x00 nul \x07 bell\ttab\r\nnewline",
        "Ünïcödé çàptîön — “quotes” …",
        "日本語のテキスト 中文 한국어",
        "\ud800 lone surrogate",
        " ",
    ],
)
def test_any_unicode_renders_without_error(tmp_path: Path, text: str) -> None:
    cap = render_caption_png(CaptionCue(text, 0, 1, "center", "body"), tmp_path / "u.png", width=W, height=H)
    assert Image.open(cap.path).size == (cap.w, cap.h)
    assert caption_boxes_in_safe_zone([cap], W, H) == []


def test_text_with_drawable_glyphs_leaves_ink(tmp_path: Path) -> None:
    for i, text in enumerate(["Fire 🔥 deals", "שלום עולם", "Ωmega"]):
        cap = render_caption_png(CaptionCue(text, 0, 1), tmp_path / f"{i}.png", width=W, height=H)
        assert _ink_bbox(cap.path) is not None, text


def test_default_font_is_montserrat_at_bold_weight() -> None:
    path = default_font_path()
    assert path.is_file() and "Montserrat" in path.name
    thin = ImageFont.truetype(str(path), 60)  # a variable font's default instance is its lightest
    assert _load_font(str(path), 60).getlength("Bold words") > thin.getlength("Bold words") * 1.05


def test_missing_or_unreadable_font_raises_font_not_found(tmp_path: Path) -> None:
    with pytest.raises(FontNotFoundError, match=r"nope\.ttf"):
        render_caption_png(
            CaptionCue("hi", 0, 1), tmp_path / "c.png", width=W, height=H, font_path=tmp_path / "nope.ttf"
        )
    bad = tmp_path / "bad.ttf"
    bad.write_bytes(b"not a font")
    with pytest.raises(FontNotFoundError, match=r"bad\.ttf"):
        render_caption_png(CaptionCue("hi", 0, 1), tmp_path / "c.png", width=W, height=H, font_path=bad)
    assert not (tmp_path / "c.png").exists()


@pytest.mark.parametrize(("width", "height"), [(720, 1280), (1920, 1080), (1080, 1080), (216, 384)])
def test_captions_fit_other_frame_sizes(tmp_path: Path, width: int, height: int) -> None:
    for position in ("top", "center", "bottom"):
        cue = CaptionCue("A fairly long caption line for this size", 0, 1, position, "cta")
        cap = render_caption_png(cue, tmp_path / f"{position}.png", width=width, height=height)
        assert caption_boxes_in_safe_zone([cap], width, height) == []
        assert cap.w <= width


def test_safe_zone_check_flags_boxes_in_the_ui_bands() -> None:
    ok = CaptionImage(Path("ok.png"), x=100, y=800, w=800, h=200, start_s=0, end_s=1)
    low = CaptionImage(Path("low.png"), x=100, y=1700, w=800, h=150, start_s=0, end_s=1)
    high = CaptionImage(Path("high.png"), x=100, y=50, w=800, h=150, start_s=0, end_s=1)
    out = CaptionImage(Path("out.png"), x=900, y=800, w=400, h=100, start_s=0, end_s=1)
    problems = caption_boxes_in_safe_zone([ok, low, high, out], W, H)
    assert len(problems) == 3
    assert [p.split(":")[0] for p in problems] == ["low.png", "high.png", "out.png"]


# --- word-highlighted caption track ---------------------------------------------------------------------

HIGHLIGHT = (255, 212, 0)


def _has_color(image: Image.Image, rgb: tuple[int, int, int], tolerance: int = 40) -> int:
    """How many opaque pixels are close to `rgb`."""
    return sum(
        1
        for px in image.convert("RGBA").getdata()
        if px[3] > 200 and all(abs(px[i] - rgb[i]) <= tolerance for i in range(3))
    )


def test_cue_words_carry_their_timings_and_each_word_gets_a_highlight_state() -> None:
    words = _words(("Hello", 0.0, 0.3), ("big", 0.35, 0.6), ("world.", 0.7, 1.0), ("Next", 1.5, 1.8))
    cues = caption_cues_from_words(words)
    assert [w.text for w in cues[0].words] == ["Hello", "big", "world."]
    states = word_states(cues[0])
    assert [(s[0].start, s[1], s[2]) for s in states] == [
        (0, 0.0, 0.35),
        (1, 0.35, 0.7),
        (2, 0.7, cues[0].end_s),
    ]
    assert word_states(CaptionCue("no timings", 0, 1)) == [(None, 0, 1)]
    two = CaptionCue("New York rocks", 0, 1, words=(CueWord("New York", 0, 0.5), CueWord("rocks", 0.5, 1)))
    assert [s[0] for s in word_states(two)] == [range(0, 2), range(2, 3)], (
        "a timed phrase highlights all its words"
    )


def test_track_renders_one_png_per_word_state_with_only_the_spoken_word_highlighted(tmp_path: Path) -> None:
    words = _words(("Alpha", 0.2, 0.5), ("beta", 0.6, 0.9), ("gamma", 1.0, 1.3))
    track = render_caption_track(words, [], tmp_path, width=W, height=H)
    assert track.overlays == [] and len(track.streams) == 1
    (stream,) = track.streams
    assert len(stream.states) == 3
    images = [Image.open(s.path) for s in stream.states]
    assert all(im.size == (stream.w, stream.h) for im in images), "one band size: one overlay in the render"
    spans = []
    for image in images:
        mask = Image.new("L", image.size)
        mask.putdata(
            [255 if p[3] > 200 and p[0] > 200 and p[1] > 170 and p[2] < 60 else 0 for p in image.getdata()]
        )
        box = mask.getbbox()
        assert box is not None, "every state highlights a word"
        spans.append((box[0], box[2]))
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans)), (
        f"one word at a time, left to right: {spans}"
    )
    assert all(right - left < stream.w / 2 for left, right in spans), "only one word is lit"
    playlist = stream.playlist.read_text().splitlines()
    assert playlist[0] == "ffconcat version 1.0"
    assert playlist[1:5] == ["file 'band0-blank.png'", "duration 0.200000", f"file '{stream.states[0].path.name}'",
                             "duration 0.400000"]  # fmt: skip
    assert playlist[-1] == "file 'band0-blank.png'", "the stream ends on a blank frame"
    assert caption_boxes_in_safe_zone(track.boxes, W, H) == []


def test_word_captions_move_out_of_the_band_an_overlay_occupies(tmp_path: Path) -> None:
    words = _words(
        ("Under", 0.0, 0.4), ("the", 0.5, 0.7), ("hook.", 0.8, 1.0), ("Later", 3.0, 3.4), ("on.", 3.5, 3.8)
    )
    overlays = [
        TextOverlay(text="A big bottom banner", start_s=0.0, end_s=2.0, position="bottom", style="cta")
    ]
    track = render_caption_track(words, overlays, tmp_path, width=W, height=H)
    (banner,) = track.overlays
    by_time = sorted(track.boxes[1:], key=lambda b: b.start_s)
    early, late = by_time[0], by_time[-1]
    assert early.y + early.h <= banner.y or early.y >= banner.y + banner.h, "no collision with the banner"
    assert early.y == pytest.approx(H * SAFE_TOP_FRACTION, abs=1), "moved to the top band"
    assert late.y + late.h == pytest.approx(H * (1 - SAFE_BOTTOM_FRACTION), abs=1), (
        "back at the bottom after it"
    )
    assert caption_boxes_in_safe_zone(track.boxes, W, H) == []


def test_collision_choice_falls_through_top_to_centre() -> None:
    cue = CaptionCue("line", 1.0, 2.0)
    bottom = CaptionImage(Path("b.png"), 0, caption_y("bottom", 100, H), W, 100, 0.0, 3.0)
    top = CaptionImage(Path("t.png"), 0, caption_y("top", 100, H), W, 100, 0.5, 1.5)
    later = CaptionImage(Path("l.png"), 0, caption_y("bottom", 100, H), W, 100, 2.5, 3.0)
    assert choose_word_position(cue, 100, [later], H) == "bottom", "an overlay at another time does not count"
    assert choose_word_position(cue, 100, [bottom], H) == "top"
    assert choose_word_position(cue, 100, [bottom, top], H) == "center"


@pytest.mark.parametrize("text", ["Fire 🔥 deals", "שלום עולם", "日本語 テキスト", "\x00 \ud800 ok"])
def test_any_unicode_word_track_renders(tmp_path: Path, text: str) -> None:
    words = [WordTiming(word=w, start_s=i * 0.3, end_s=i * 0.3 + 0.25) for i, w in enumerate(text.split())]
    track = render_caption_track(words, [], tmp_path, width=W, height=H)
    assert all(
        Image.open(s.path).size == (stream.w, stream.h) for stream in track.streams for s in stream.states
    )


@pytest.mark.parametrize(
    "cue",
    [
        CaptionCue(
            "One two three", 0, 3, words=(CueWord("One", 0, 1), CueWord("two", 1, 2), CueWord("three", 2, 3))
        ),
        CaptionCue("New York rocks", 0, 1, words=(CueWord("New York", 0, 0.5), CueWord("rocks", 0.5, 1))),
        CaptionCue(
            "A much longer caption line that wraps onto several lines of text here", 0, 5, style="hook"
        ),
        CaptionCue("שלום עולם", 0, 1, words=(CueWord("שלום", 0, 0.5), CueWord("עולם", 0.5, 1))),
    ],
)
def test_word_states_drawn_twice_match_each_state_drawn_alone(cue: CaptionCue) -> None:
    layout = layout_caption(cue, width=W, height=H)
    actives = [None, *(range(i, i + 1) for i in range(layout.word_count)), range(0, 2)]
    for active, image in zip(actives, draw_word_states(layout, None, actives), strict=True):
        alone = draw_caption(layout, active=active)
        assert ImageChops.difference(image, alone).getbbox() is None, f"state {active} differs"


def test_caption_style_colours_are_validated_and_used(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fill must be a colour"):
        render_caption_png(
            CaptionCue("x", 0, 1), tmp_path / "x.png", width=W, height=H, style=CaptionStyle(fill="red")
        )
    cap = render_caption_png(
        CaptionCue("Green", 0, 1), tmp_path / "g.png", width=W, height=H, style=CaptionStyle(fill="#00FF00")
    )
    assert _has_color(Image.open(cap.path), (0, 255, 0)) > 50
