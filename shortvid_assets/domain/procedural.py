"""Offline scene clips (VIDEO-1 default): moving colour gradients derived from a seed and the scene prompt."""

from __future__ import annotations

import colorsys
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from shortvid_assets.domain.ffmpeg import FFmpegError, ffmpeg_exe, run_ffmpeg
from shortvid_assets.domain.files import atomic_path

CLIP_TIMEOUT_S = 300.0

# Prompt words that steer the palette's base hue (degrees) and brightness; the seed adds variety.
_MOODS: list[tuple[re.Pattern[str], float, float]] = [
    (re.compile(r"\b(ocean|sea|water|sky|ice|winter|calm|cool|blue)\b"), 205.0, 0.85),
    (re.compile(r"\b(forest|nature|green|plant|leaf|garden|fresh|eco)\b"), 130.0, 0.80),
    (re.compile(r"\b(sunset|sunrise|fire|warm|summer|gold|golden|orange|autumn)\b"), 28.0, 0.95),
    (re.compile(r"\b(neon|cyber|night ?club|party|futur\w*|tech\w*)\b"), 290.0, 0.90),
    (re.compile(r"\b(love|romance|pink|beauty|rose)\b"), 335.0, 0.92),
    (re.compile(r"\b(night|dark|moody|noir|space)\b"), 240.0, 0.45),
    (re.compile(r"\b(coffee|chocolate|wood|earth|cozy)\b"), 25.0, 0.55),
]
_GRADIENT_TYPES = ("linear", "radial")  # "circular" draws a hard seam


@dataclass(frozen=True)
class GradientLook:
    """The deterministic look of one procedural clip."""

    colors: tuple[str, ...]
    kind: str
    speed: float
    seed: int


def gradient_look(seed: str, prompt: str = "") -> GradientLook:
    """Derive colours, gradient type and motion speed from the seed and the prompt, deterministically."""
    digest = hashlib.sha256(f"{seed}\x00{prompt}".encode()).digest()
    words = prompt.lower()
    base_hue, value = digest[0] / 255 * 360.0, 0.70 + digest[1] / 255 * 0.25
    for pattern, hue, mood_value in _MOODS:
        if pattern.search(words):
            base_hue = hue + (digest[0] / 255 - 0.5) * 40.0  # keep the mood, vary within ±20°
            value = mood_value
            break
    # Palette schemes: analogous, complementary, triadic, split-complementary (hue offsets in degrees).
    schemes = [(0, 30, -30), (0, 180, 20), (0, 120, 240), (0, 150, 210)]
    offsets = schemes[digest[2] % len(schemes)]
    count = 2 + digest[3] % 2
    colors = []
    for i in range(count):
        hue = ((base_hue + offsets[i]) % 360) / 360
        sat = 0.55 + digest[4 + i] / 255 * 0.4
        val = max(0.2, min(1.0, value - i * 0.12 + (digest[8 + i] / 255 - 0.5) * 0.1))
        r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
        colors.append(f"0x{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}")
    return GradientLook(
        colors=tuple(colors),
        kind=_GRADIENT_TYPES[digest[12] % len(_GRADIENT_TYPES)],
        speed=round(0.008 + digest[13] / 255 * 0.012, 4),
        seed=int.from_bytes(digest[16:20], "big"),
    )


def gradient_source(
    *, duration_s: float, width: int, height: int, fps: int, seed: str, prompt: str = ""
) -> str:
    """The lavfi `gradients` source of one clip, drawn small for a later scale to width x height (pure).

    Only numbers and hex colours derived from the seed reach the string, never the prompt's text, so it
    is safe inside a filter graph.
    """
    if duration_s <= 0:
        raise ValueError(f"clip duration must be positive, got {duration_s}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    look = gradient_look(seed, prompt)
    # Gradients are smooth: draw them at a quarter of the size and scale up (several times cheaper at 1080p).
    factor = 4 if min(width, height) >= 480 else 1
    src_w, src_h = max(16, width // factor // 2 * 2), max(16, height // factor // 2 * 2)
    colors = ":".join(f"c{i}={c}" for i, c in enumerate(look.colors))
    return (
        f"gradients=s={src_w}x{src_h}:r={fps}:d={duration_s:.3f}:{colors}:n={len(look.colors)}"
        f":type={look.kind}:speed={look.speed}:seed={look.seed}"
    )


def procedural_clip_command(
    out: Path,
    *,
    duration_s: float,
    width: int,
    height: int,
    fps: int = 30,
    seed: str,
    prompt: str = "",
    preset: str = "veryfast",
    crf: int = 23,
    ffmpeg: str = "ffmpeg",
) -> list[str]:
    """The ffmpeg argument list that renders one gradient clip to `out` (pure)."""
    if duration_s <= 0:
        raise ValueError(f"clip duration must be positive, got {duration_s}")
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise ValueError(f"clip size must be even and at least 16x16 for H.264 yuv420p, got {width}x{height}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    source = gradient_source(
        duration_s=duration_s, width=width, height=height, fps=fps, seed=seed, prompt=prompt
    )
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-y", "-v", "error",
        "-f", "lavfi", "-i", source,
        "-vf", f"scale={width}:{height}:flags=bicubic,format=yuv420p,setsar=1",
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-r", str(fps), "-an", "-movflags", "+faststart", "-f", "mp4", str(out),
    ]  # fmt: skip


def render_procedural_clip(
    out: Path,
    *,
    duration_s: float,
    width: int,
    height: int,
    fps: int = 30,
    seed: str,
    prompt: str = "",
    preset: str = "veryfast",
    crf: int = 23,
    timeout_s: float = CLIP_TIMEOUT_S,
) -> Path:
    """Render a moving-gradient H.264 clip (no audio) to `out`, written atomically."""
    out = Path(out)
    with atomic_path(out) as tmp:
        args = procedural_clip_command(
            tmp,
            duration_s=duration_s,
            width=width,
            height=height,
            fps=fps,
            seed=seed,
            prompt=prompt,
            preset=preset,
            crf=crf,
            ffmpeg=ffmpeg_exe(),
        )
        try:
            run_ffmpeg(args, timeout_s=timeout_s, what=f"procedural clip {out.name}")
        except FFmpegError as exc:
            raise ProceduralClipError(f"could not render procedural clip {out}: {exc}") from exc
    return out


class ProceduralClipError(RuntimeError):
    """ffmpeg could not render a procedural clip."""
