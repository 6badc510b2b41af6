"""Loading the themes config (RUN-4): the products or themes shortvid makes videos for.

The file is a person's input, read strictly: UTF-8, at most `MAX_FILE_BYTES`, nested at most
`MAX_DEPTH` deep, no YAML anchors or aliases (a few lines of aliases expand to millions of items),
no key twice in one mapping. Every refusal is one line that names the file, the theme and the field,
and quotes at most a few dozen characters of what was written.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from shortvid_assets.domain.fonts import glyph_problems
from shortvid_assets.domain.models import Theme
from shortvid_assets.domain.text_fields import printable

MAX_FILE_BYTES = 512 * 1024
MAX_DEPTH = 20
MAX_THEMES = 200
_MAX_PROBLEM_CHARS = 300


class ThemeConfigError(ValueError):
    """The themes file is missing or invalid; the message names the file, the theme and the field."""


class _Refused(yaml.YAMLError):
    """A YAML construct the themes file may not use (anchors, aliases, deep nesting, repeated keys)."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors or aliases, with a depth limit and no repeated keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(
                "YAML anchors and aliases (& and *) are not allowed: write each value out", event.start_mark
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, (list, dict)):
                    raise _Refused("a mapping key must be a plain value", key_node.start_mark)
                if key in seen:
                    raise _Refused(f"key {_quote(key)} appears twice in one mapping", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _quote(value: object, limit: int = 40) -> str:
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _cut(problem: str) -> str:
    problem = printable(" ".join(problem.split()))
    return problem if len(problem) <= _MAX_PROBLEM_CHARS else problem[: _MAX_PROBLEM_CHARS - 1] + "…"


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Where and what, from the error's mark and problem: never the snippet of the file it would quote."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or type(exc).__name__
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    if isinstance(exc, _Refused):
        return _cut(f"{where or 'refused'}: {problem}")
    return _cut(f"not valid YAML{' at ' + where if where else ''}: {problem}")


def _read(path: Path) -> object:
    if not path.is_file():
        raise ThemeConfigError(f"{path}: themes file not found; set SHORTVID_THEMES_FILE or create it")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ThemeConfigError(
                f"{path}: {size} bytes is too large for a themes file (at most {MAX_FILE_BYTES}): "
                "keep only the themes you make videos for"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ThemeConfigError(
            f"{path}: cannot read the themes file ({exc.strerror}): check its permissions"
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ThemeConfigError(
            f"{path}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}): save the file as UTF-8"
        ) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise ThemeConfigError(f"{path}: {_yaml_problem(exc)}") from None
    except RecursionError:
        raise ThemeConfigError(f"{path}: nested too deep (at most {MAX_DEPTH} levels)") from None


def _resolve_music(theme: Theme, folder: Path) -> Theme:
    """The theme with `music_path` made absolute (relative to the themes file's folder), or an error if missing."""
    if theme.music_path is None:
        return theme
    music = Path(theme.music_path).expanduser()
    music = music if music.is_absolute() else folder / music
    if not music.is_file():
        raise ValueError(
            f"field 'music_path': {_quote(theme.music_path)} is not a file: give an audio file's path"
        )
    return theme.model_copy(update={"music_path": str(music.resolve())})


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
    raw = _read(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("themes"), list) or not raw["themes"]:
        raise ThemeConfigError(f"{path}: expected a top-level 'themes:' list with at least one theme")
    if len(raw["themes"]) > MAX_THEMES:
        raise ThemeConfigError(f"{path}: {len(raw['themes'])} themes; at most {MAX_THEMES} in one file")

    themes: dict[str, Theme] = {}
    for index, entry in enumerate(raw["themes"]):
        label = entry.get("slug") if isinstance(entry, dict) else None
        label = _quote(label, 64) if label else f"#{index + 1}"
        if not isinstance(entry, dict):
            raise ThemeConfigError(f"{path}: theme {label}: expected a mapping of fields")
        try:
            theme = _resolve_music(Theme.model_validate(entry), path.parent)
        except ValidationError as exc:
            problems = "; ".join(
                f"field '{'.'.join(str(p)[:40] for p in err['loc']) or '(theme)'}': "
                f"{err['msg'].removeprefix('Value error, ')}"
                for err in exc.errors()[:3]
            )
            raise ThemeConfigError(f"{path}: theme {label}: {_cut(problems)}") from None
        except ValueError as exc:
            raise ThemeConfigError(f"{path}: theme {label}: {_cut(str(exc))}") from None
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
