"""Tiny themes and a tiny video format shared by the tests that run the graph: fast, real renders."""

SMALL = {"width": 216, "height": 384, "preset": "ultrafast", "crf": 30}

MINICUP = """
  - slug: minicup
    product_name: MiniCup
    tagline: A tiny mug for a quick test
    audience: test runners
    tone: brisk
    style: montage
    talking_points: [fits in a pocket]
    target_duration_s: 6
    hashtags: [coffee, tiny]
"""
TINYTEA = """
  - slug: tinytea
    product_name: TinyTea
    tagline: Tea in a thimble
    audience: test runners
    tone: calm
    style: cinematic
    talking_points: [brews in a second]
    target_duration_s: 6
    hashtags: [tea, tiny]
"""


def themes_yaml(*entries: str) -> str:
    return "themes:" + "".join(entries)
