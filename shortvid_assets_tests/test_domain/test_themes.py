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
