"""Loading the themes config (RUN-4): the products or themes shortvid makes videos for."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from shortvid_assets.domain.fonts import glyph_problems
from shortvid_assets.domain.models import Theme


class ThemeConfigError(ValueError):
    """The themes file is missing or invalid; the message names the file, the theme and the field."""


class UnknownThemeError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


def theme_glyph_problems(theme: Theme) -> list[str]:
    """Where a theme's on-screen text has characters no caption font can draw (empty when all drawable)."""
    fields = {"product_name": theme.product_name, "tagline": theme.tagline}
    fields.update({f"talking_points.{i}": point for i, point in enumerate(theme.talking_points)})
    return glyph_problems(fields)


def load_themes(path: Path, *, check_glyphs: bool = True) -> dict[str, Theme]:
    """Read and validate every theme in `path`, keyed by slug.

    With `check_glyphs`, a theme whose text the caption fonts cannot draw is refused, naming the field
    and the characters (by Unicode name).
    """
    path = Path(path)
    if not path.is_file():
        raise ThemeConfigError(f"{path}: themes file not found; set SHORTVID_THEMES_FILE or create it")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ThemeConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("themes"), list) or not raw["themes"]:
        raise ThemeConfigError(f"{path}: expected a top-level 'themes:' list with at least one theme")

    themes: dict[str, Theme] = {}
    for index, entry in enumerate(raw["themes"]):
        label = entry.get("slug") if isinstance(entry, dict) else None
        label = repr(label) if label else f"#{index + 1}"
        if not isinstance(entry, dict):
            raise ThemeConfigError(f"{path}: theme {label}: expected a mapping of fields")
        try:
            theme = Theme.model_validate(entry)
        except ValidationError as exc:
            problems = "; ".join(
                f"field '{'.'.join(str(p) for p in err['loc']) or '(theme)'}': "
                f"{err['msg'].removeprefix('Value error, ')}"
                for err in exc.errors()
            )
            raise ThemeConfigError(f"{path}: theme {label}: {problems}") from exc
        if theme.slug in themes:
            raise ThemeConfigError(f"{path}: theme {label}: field 'slug': duplicate slug")
        if check_glyphs and (problems := theme_glyph_problems(theme)):
            raise ThemeConfigError(
                f"{path}: theme {label}: " + "; ".join(problems) + " (captions would lose these characters)"
            )
        themes[theme.slug] = theme
    return themes


def get_theme(themes: dict[str, Theme], slug: str) -> Theme:
    try:
        return themes[slug]
    except KeyError:
        known = ", ".join(sorted(themes)) or "none"
        raise UnknownThemeError(f"unknown theme {slug!r}; known themes: {known}") from None
