"""Protects the themes config (RUN-4): the sample file loads; bad files name file, theme and field."""

import pytest

from shortvid_assets import settings
from shortvid_assets.domain.themes import ThemeConfigError, UnknownThemeError, get_theme, load_themes

GOOD = """
themes:
  - slug: glowcup
    product_name: GlowCup
    tagline: Hot coffee
    audience: commuters
    tone: upbeat
    style: montage
    talking_points: [hot]
    target_duration_s: 18
"""


def test_shipped_themes_file_has_valid_themes_one_of_them_not_in_english():
    themes = load_themes(settings.PROJECT_DIR / "themes.yaml")
    assert len(themes) == 3 and {t.language for t in themes.values()} == {"en", "es"}
    for slug, theme in themes.items():
        assert slug == theme.slug
        assert theme.talking_points


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("themes: [", "not valid YAML"),
        ("nothing: here", "top-level 'themes:' list"),
        ("themes: []", "top-level 'themes:' list"),
        (GOOD.replace("slug: glowcup", "slug: Glow Cup"), "theme 'Glow Cup': field 'slug'"),
        (
            GOOD.replace("target_duration_s: 18", "target_duration_s: 300"),
            "theme 'glowcup': field 'target_duration_s'",
        ),
        (GOOD.replace("    tone: upbeat\n", ""), "theme 'glowcup': field 'tone'"),
        (GOOD.replace("style: montage", "style: opera"), "field 'style'"),
        (GOOD + "    colour: red\n", "field 'colour'"),
        (GOOD + GOOD.replace("themes:\n", ""), "duplicate slug"),
        ("themes:\n  - just a string\n", "theme #1"),
    ],
)
def test_invalid_file_names_file_theme_and_field(tmp_path, text, message):
    path = tmp_path / "themes.yaml"
    path.write_text(text)
    with pytest.raises(ThemeConfigError) as err:
        load_themes(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ThemeConfigError, match="SHORTVID_THEMES_FILE"):
        load_themes(tmp_path / "nope.yaml")


def test_unknown_theme_lists_known_ones(tmp_path):
    path = tmp_path / "themes.yaml"
    path.write_text(GOOD)
    with pytest.raises(UnknownThemeError, match="known themes: glowcup"):
        get_theme(load_themes(path), "nope")


# --- the themes file is a person's input: read strictly, refused in one short line -------------------------


def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    """A few hundred bytes of YAML aliases that expand to width**levels (387 million) strings."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * width)}]" for n in range(1, levels)]
    return "\n".join(lines) + f"\nthemes: *l{levels - 1}\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (GOOD.replace("GlowCup", "Glöw").encode("latin-1"), "not UTF-8 (byte 0xf6 at offset"),
        (b"\xff\xfe" + GOOD.encode("utf-16-le"), "not UTF-8"),
        (("themes: " + "[" * 5000 + "]" * 5000).encode(), "nested more than 20 levels deep"),
        (_alias_bomb().encode(), "YAML anchors and aliases (& and *) are not allowed"),
        ((GOOD + "    base: &b {x: 1}\n").encode(), "YAML anchors and aliases"),
        ((GOOD + "    tone: calm\n").encode(), "line 11, column 5: key 'tone' appears twice in one mapping"),
        (("themes: [" + "x" * 300_000 + "\n").encode(), "not valid YAML"),
        (GOOD.encode() + b"#" * (600 * 1024), "too large for a themes file"),
    ],
)
def test_themes_file_refuses_bad_encoding_depth_aliases_duplicates_and_size_in_one_short_line(
    tmp_path, data, message
):
    path = tmp_path / "themes.yaml"
    path.write_bytes(data)
    with pytest.raises(ThemeConfigError) as refused:
        load_themes(path)
    text = str(refused.value)
    assert message in text
    assert "\n" not in text and len(text) < 400 + len(str(path))


def test_themes_file_messages_never_echo_more_than_a_few_dozen_characters_of_input(tmp_path):
    long_slug = "Slug " * 20_000
    for text in (
        GOOD.replace("slug: glowcup", f"slug: {long_slug}"),
        GOOD + f"    {'k' * 1000}: 1\n",
        GOOD.replace("style: montage", f"style: {'opera' * 20_000}"),
    ):
        path = tmp_path / "themes.yaml"
        path.write_text(text)
        with pytest.raises(ThemeConfigError) as refused:
            load_themes(path)
        assert len(str(refused.value)) < 400 + len(str(path))


# --- themes that load must render: every text field validated at load -------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tagline", "'.'", "field 'tagline': '.' has no letter or digit"),
        ("tagline", "'  '", "field 'tagline': is blank"),
        ("product_name", "'!!!'", "field 'product_name': '!!!' has no letter or digit"),
        ("talking_points", "['']", "field 'talking_points': talking point 1 is blank"),
        ("talking_points", "[fine, '...']", "talking point 2 '...' has no letter or digit"),
        ("tone", "'" + "x" * 300 + "'", "field 'tone': is 300 characters long: keep it to 200"),
        ("hashtags", "['#']", "hashtag 1 ('#') has no letter or digit"),
        ("music_path", "nope.mp3", "field 'music_path': 'nope.mp3' is not a file"),
    ],
)
def test_themes_render_text_fields_are_validated_at_load(tmp_path, field, value, message):
    text = GOOD + f"    {field}: {value}\n" if field not in GOOD else _set(GOOD, field, value)
    path = tmp_path / "themes.yaml"
    path.write_text(text)
    with pytest.raises(ThemeConfigError, match="theme 'glowcup': ") as refused:
        load_themes(path)
    assert message in str(refused.value)


def _set(text: str, field: str, value: str) -> str:
    lines = [
        f"    {field}: {value}" if line.startswith(f"    {field}:") else line for line in text.splitlines()
    ]
    return "\n".join(lines) + "\n"


def test_themes_render_music_path_is_resolved_against_the_themes_folder(tmp_path):
    (tmp_path / "music").mkdir()
    (tmp_path / "music" / "bed.mp3").write_bytes(b"ID3")
    path = tmp_path / "themes.yaml"
    path.write_text(GOOD + "    music_path: music/bed.mp3\n")
    assert load_themes(path)["glowcup"].music_path == str(tmp_path / "music" / "bed.mp3")


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("tagline", '"Hot\\0coffee"', "\\x00"),
        ("tagline", '"Hot\\e[2Jcoffee"', "\\x1b"),
        ("product_name", '"Glow\\r\\nCup"', "\\r, \\n"),
        ("audience", '"a\\u202Eb"', "U+202E"),
        ("talking_points", '["ok", "two\\nlines"]', "\\n"),
        ("hashtags", '["co\\x7ffee"]', "\\x7f"),
    ],
)
def test_control_characters_are_refused_in_every_themes_text_field(tmp_path, field, value, shown):
    path = tmp_path / "themes.yaml"
    path.write_text(_set(GOOD, field, value) if f"    {field}:" in GOOD else GOOD + f"    {field}: {value}\n")
    with pytest.raises(ThemeConfigError, match="control character") as refused:
        load_themes(path)
    assert shown in str(refused.value) and "\x1b" not in str(refused.value)
