"""Where artifacts and finished videos live (DESIGN: `<asset>/<date>/<theme>.<ext>`)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from shortvid_assets import settings
from shortvid_assets.domain.models import Theme
from shortvid_assets.domain.themes import get_theme, load_themes

REVIEW_FOLDERS = ("review", "approved", "rejected")


class ShortvidPaths(dg.ConfigurableResource):
    """The data folder, the output folders and the themes file."""

    data_dir: str
    output_dir: str
    themes_file: str

    @classmethod
    def from_env(cls) -> ShortvidPaths:
        return cls(
            data_dir=str(settings.data_dir()),
            output_dir=str(settings.output_dir()),
            themes_file=str(settings.themes_file()),
        )

    def daily(self, asset: str, date: str, ext: str) -> Path:
        return Path(self.data_dir) / asset / f"{date}.{ext}"

    def per_theme(self, asset: str, date: str, theme: str, ext: str) -> Path:
        return Path(self.data_dir) / asset / date / f"{theme}.{ext}"

    def scene_dir(self, date: str, theme: str) -> Path:
        return Path(self.data_dir) / "scene_clips" / date / theme

    def review_file(self, folder: str, date: str, theme: str, ext: str) -> Path:
        """A finished video (or its thumbnail) in output/<review|approved|rejected>/."""
        return Path(self.output_dir) / folder / f"{date}_{theme}.{ext}"

    def themes(self) -> dict[str, Theme]:
        return load_themes(Path(self.themes_file))

    def theme(self, slug: str) -> Theme:
        return get_theme(self.themes(), slug)
