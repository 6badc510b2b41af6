"""Protects the velocity-by-style chart: a real PNG with one box per style, written atomically, and its
inline Markdown form for the Dagster UI."""

from __future__ import annotations

import base64
from datetime import date

import pandas as pd
import pytest
from PIL import Image

from shortvid_assets.domain import analysis, windows
from shortvid_assets.domain.sample_trends import sample_trends
from shortvid_assets.domain.trend_charts import markdown_image, velocity_by_style_png

DAY = date(2026, 11, 24)


@pytest.fixture
def window() -> pd.DataFrame:
    frame = analysis.trends_frame(sample_trends("youtube", DAY) + sample_trends("tiktok", DAY))
    return analysis.window_trends(frame, windows.analysis_window(DAY, 24))


def test_chart_is_a_png_sized_by_the_number_of_styles(tmp_path, window):
    many = velocity_by_style_png(window, tmp_path / "many.png")
    one = velocity_by_style_png(window.assign(style="montage"), tmp_path / "one.png")

    with Image.open(many) as image:
        assert image.format == "PNG" and image.width == 700
        tall = image.height
    with Image.open(one) as image:
        assert image.height < tall  # one row instead of six
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.png", "one.png"]  # no temporary leftovers


def test_zero_velocity_is_drawn_on_the_log_scale(tmp_path, window):
    velocity_by_style_png(window.assign(velocity=0.0), tmp_path / "zero.png")
    assert (tmp_path / "zero.png").stat().st_size > 1000


def test_an_empty_window_is_refused(tmp_path, window):
    with pytest.raises(ValueError, match="no trends to chart"):
        velocity_by_style_png(window.iloc[0:0], tmp_path / "empty.png")
    assert not (tmp_path / "empty.png").exists()


def test_markdown_image_embeds_the_png(tmp_path, window):
    path = velocity_by_style_png(window, tmp_path / "chart.png")
    markdown = markdown_image(path, "velocity")
    prefix = "![velocity](data:image/png;base64,"
    assert markdown.startswith(prefix) and markdown.endswith(")")
    assert base64.b64decode(markdown[len(prefix) : -1]) == path.read_bytes()
