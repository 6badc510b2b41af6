"""A scene clip as stored by `scene_clips` and read by the render."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from shortvid_assets.domain.procedural import gradient_source
from shortvid_assets.domain.render import GeneratedClip


class SceneClip(BaseModel):
    """One scene's MP4 (VIDEO-4) and where it came from: provider, credit, cost."""

    path: str
    provider: str
    attribution: str | None = None
    source_url: str | None = None
    cost_usd: float = 0.0
    # Set by procedural visuals drawn in the render graph: the final render regenerates the scene from
    # these (at the scene's final length) instead of decoding the stored MP4.
    in_graph_seed: str | None = None
    in_graph_prompt: str | None = None

    def composition_input(
        self, *, duration_s: float, width: int, height: int, fps: int
    ) -> Path | GeneratedClip:
        """What the final render reads for this scene: the stored MP4, or its in-graph recipe."""
        if self.in_graph_seed is None:
            return Path(self.path)
        return GeneratedClip(
            gradient_source(
                duration_s=duration_s, width=width, height=height, fps=fps, seed=self.in_graph_seed,
                prompt=self.in_graph_prompt or "",
            )
        )  # fmt: skip
