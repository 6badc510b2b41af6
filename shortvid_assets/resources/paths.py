"""The folders and the themes file a deployment uses, as a resource; the layout itself is `storage.artifacts`."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from shortvid_assets import settings
from shortvid_assets.domain.models import Theme
from shortvid_assets.domain.themes import get_theme, load_themes
from shortvid_assets.storage.artifacts import Artifacts


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

    @property
    def artifacts(self) -> Artifacts:
        return Artifacts(Path(self.data_dir), Path(self.output_dir))

    def themes(self) -> dict[str, Theme]:
        return load_themes(Path(self.themes_file))

    def theme(self, slug: str) -> Theme:
        return get_theme(self.themes(), slug)
