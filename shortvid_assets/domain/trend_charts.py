"""Charts of the trend report for the Dagster UI: velocity by style as a PNG (matplotlib, Agg, no pyplot)."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pandas as pd

from shortvid_assets.domain.analysis import MIN_HOURS
from shortvid_assets.domain.files import atomic_path


def velocity_by_style_png(
    data: pd.DataFrame, path: Path, *, title: str = "Engagement velocity by style"
) -> Path:
    """A horizontal box plot of velocity (log scale) per style, styles ordered by median; written atomically.

    Rows whose velocity is unknown (no engagement count reported) are left out.
    """
    # matplotlib loads here, not with the code location: only the trend report draws.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if data.empty:
        raise ValueError("no trends to chart: the window holds no rows")
    data = data[data["velocity"].notna()]
    if data.empty:
        raise ValueError("no trend in the window has a known velocity to chart")
    velocity = data["velocity"].clip(lower=MIN_HOURS / 10)  # log scale: no zeros
    medians = velocity.groupby(data["style"]).median().sort_values()
    groups = [velocity[data["style"] == style].to_numpy() for style in medians.index]
    labels = [f"{style} (n={len(values)})" for style, values in zip(medians.index, groups, strict=True)]

    figure = Figure(figsize=(7, 0.45 * len(groups) + 1.4), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.boxplot(groups, orientation="horizontal", tick_labels=labels, showfliers=False, widths=0.6)
    for row, values in enumerate(groups, start=1):
        jitter = np.linspace(-0.15, 0.15, num=len(values)) if len(values) > 1 else np.zeros(1)
        axes.scatter(values, row + jitter, s=6, alpha=0.35, color="#d1495b", linewidths=0)
    axes.set_xscale("log")
    axes.set_xlabel("(likes + comments + shares) per hour since posted")
    axes.set_title(title, fontsize=11)
    axes.grid(axis="x", alpha=0.3)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
    return Path(path)


def markdown_image(path: Path, alt: str) -> str:
    """Markdown that shows a PNG inline (as a data URI), so the UI needs no file server."""
    encoded = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"![{alt}](data:image/png;base64,{encoded})"
