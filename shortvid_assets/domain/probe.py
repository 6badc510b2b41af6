"""Probing media with the ffmpeg binary alone (no ffprobe): streams, loudness, frames, black runs."""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from shortvid_assets.domain.captions import CaptionImage, caption_boxes_in_safe_zone
from shortvid_assets.domain.ffmpeg import FFmpegError, FFmpegTimeoutError, ffmpeg_exe, run_ffmpeg

PROBE_TIMEOUT_S = 60.0
ANALYSIS_TIMEOUT_S = 300.0


class ProbeError(RuntimeError):
    """A file could not be read as media, or ffmpeg did not report what was asked."""


@dataclass(frozen=True)
class MediaInfo:
    """What `ffmpeg -i` says about a media file (first video and first audio stream)."""

    duration_s: float
    width: int | None
    height: int | None
    video_codec: str | None
    pix_fmt: str | None
    fps: float | None
    audio_codec: str | None
    audio_sample_rate: int | None
    audio_channels: int | None

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


_DURATION_RE = re.compile(r"Duration:\s*(?:(\d+):(\d+):(\d+(?:\.\d+)?)|N/A)")
_STREAM_RE = re.compile(r"^\s*Stream #\d+:\d+\S*:\s*(Video|Audio):\s*(.*)$")
_SIZE_RE = re.compile(r"\b(\d{2,5})x(\d{2,5})\b")
_FPS_RE = re.compile(r"([\d.]+)(k?) fps\b")
_TBR_RE = re.compile(r"([\d.]+)(k?) tbr\b")
_HZ_RE = re.compile(r"(\d+) Hz")
_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "4.0": 4, "5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _rate(match: re.Match[str] | None) -> float | None:
    if not match:
        return None
    return float(match.group(1)) * (1000 if match.group(2) else 1)


def parse_ffmpeg_info(stderr: str) -> MediaInfo:
    """Parse the input description ffmpeg prints to stderr for `-i FILE`."""
    duration = 0.0
    if (m := _DURATION_RE.search(stderr)) and m.group(1) is not None:
        duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    video: dict[str, object] = {}
    audio: dict[str, object] = {}
    for line in stderr.splitlines():
        m = _STREAM_RE.match(line)
        if not m:
            continue
        kind, rest = m.groups()
        parts = _split_top_level(rest)
        codec = parts[0].split()[0] if parts and parts[0] else None
        if kind == "Video" and not video:
            if "attached pic" in rest:
                continue
            video["codec"] = codec
            video["pix_fmt"] = parts[1].split("(")[0].strip() if len(parts) > 1 else None
            if size := _SIZE_RE.search(rest):
                video["width"], video["height"] = int(size.group(1)), int(size.group(2))
            video["fps"] = _rate(_FPS_RE.search(rest)) or _rate(_TBR_RE.search(rest))
        elif kind == "Audio" and not audio:
            audio["codec"] = codec
            if hz := _HZ_RE.search(rest):
                audio["rate"] = int(hz.group(1))
            layout = parts[2].strip() if len(parts) > 2 else ""
            if layout in _CHANNELS:
                audio["channels"] = _CHANNELS[layout]
            elif cm := re.match(r"(\d+) channels", layout):
                audio["channels"] = int(cm.group(1))
            elif lm := re.match(r"(\d+)\.(\d+)", layout):
                audio["channels"] = int(lm.group(1)) + int(lm.group(2))
    return MediaInfo(
        duration_s=duration,
        width=video.get("width"),  # type: ignore[arg-type]
        height=video.get("height"),  # type: ignore[arg-type]
        video_codec=video.get("codec"),  # type: ignore[arg-type]
        pix_fmt=video.get("pix_fmt"),  # type: ignore[arg-type]
        fps=video.get("fps"),  # type: ignore[arg-type]
        audio_codec=audio.get("codec"),  # type: ignore[arg-type]
        audio_sample_rate=audio.get("rate"),  # type: ignore[arg-type]
        audio_channels=audio.get("channels"),  # type: ignore[arg-type]
    )


def _require_file(path: Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ProbeError(f"cannot probe {path}: no such file")
    return path.resolve()


def probe_media(path: Path) -> MediaInfo:
    """Streams and duration of a media file, parsed from `ffmpeg -hide_banner -i FILE`."""
    path = _require_file(path)
    # `ffmpeg -i FILE` with no output exits 1 by design; read stderr either way.
    try:
        run = run_ffmpeg(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)], timeout_s=PROBE_TIMEOUT_S
        )
        stderr = run.stderr
    except FFmpegTimeoutError as exc:
        raise ProbeError(f"probing {path} timed out: {exc}") from exc
    except FFmpegError as exc:
        if "Input #0" not in exc.stderr:
            raise ProbeError(f"ffmpeg cannot read {path} as media:\n{exc.stderr_tail}") from exc
        stderr = exc.stderr
    info = parse_ffmpeg_info(stderr)
    if not info.has_video and not info.has_audio:
        raise ProbeError(f"{path} has no audio or video stream ffmpeg can read")
    return info


def _analyse(path: Path, audio_filter: str, what: str) -> str:
    path = _require_file(path)
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-vn", "-sn", "-dn"]
    args += ["-af", audio_filter, "-f", "null", "-"]
    try:
        return run_ffmpeg(args, timeout_s=ANALYSIS_TIMEOUT_S, what=what).stderr
    except FFmpegError as exc:
        raise ProbeError(f"{what} of {path} failed: {exc}") from exc


def audio_mean_volume_db(path: Path) -> float:
    """Mean volume of the first audio stream in dBFS (`volumedetect`); -inf for digital silence."""
    stderr = _analyse(path, "volumedetect", "volume detection")
    matches = re.findall(r"mean_volume:\s*(-?inf|-?[\d.]+) dB", stderr)
    if not matches:
        raise ProbeError(f"{path}: volumedetect reported no mean volume (does the file have audio?)")
    value = matches[-1]
    return float("-inf") if "inf" in value else float(value)


def integrated_loudness_lufs(path: Path) -> float:
    """Integrated loudness of the first audio stream in LUFS (EBU R128, `ebur128`)."""
    stderr = _analyse(path, "ebur128=framelog=quiet", "loudness measurement")
    summary = stderr.rsplit("Summary:", 1)
    if len(summary) != 2:
        raise ProbeError(f"{path}: ebur128 printed no summary (does the file have audio?)")
    m = re.search(r"I:\s*(-?inf|-?[\d.]+) LUFS", summary[1])
    if not m:
        raise ProbeError(f"{path}: ebur128 summary has no integrated loudness")
    return float("-inf") if "inf" in m.group(1) else float(m.group(1))


def extract_frame(path: Path, at_s: float) -> Image.Image:
    """Decode the video frame shown at `at_s` seconds as an RGB image."""
    path = _require_file(path)
    info = probe_media(path)
    if not info.has_video or not info.width or not info.height:
        raise ProbeError(f"{path} has no video stream to take a frame from")
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-ss", f"{max(0.0, at_s):.3f}"]
    args += [
        "-i",
        str(path),
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "pipe:1",
    ]
    try:
        data = run_ffmpeg(
            args, timeout_s=PROBE_TIMEOUT_S, capture_stdout=True, what="frame extraction"
        ).stdout
    except FFmpegError as exc:
        raise ProbeError(f"cannot decode a frame of {path} at {at_s}s: {exc}") from exc
    size = info.width * info.height * 3
    if len(data) < size:
        raise ProbeError(f"{path} has no frame at {at_s}s (it lasts {info.duration_s:.2f}s)")
    return Image.frombytes("RGB", (info.width, info.height), data[:size])


def faststart(path: Path) -> bool:
    """True when an MP4's `moov` atom comes before its `mdat` (playable while downloading)."""
    path = _require_file(path)
    offsets: dict[bytes, int] = {}
    with path.open("rb") as fh:
        fh.seek(0, 2)
        end = fh.tell()
        pos = 0
        while pos + 8 <= end and not ({b"moov", b"mdat"} <= offsets.keys()):
            fh.seek(pos)
            size, kind = struct.unpack(">I4s", fh.read(8))
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0]
            elif size == 0:
                size = end - pos
            if size < 8:
                raise ProbeError(f"{path} is not a valid MP4: box {kind!r} at {pos} has size {size}")
            offsets.setdefault(kind, pos)
            pos += size
    if b"moov" not in offsets or b"mdat" not in offsets:
        raise ProbeError(
            f"{path} is not a complete MP4 (boxes found: {sorted(k.decode('latin-1') for k in offsets)})"
        )
    return offsets[b"moov"] < offsets[b"mdat"]


@dataclass(frozen=True)
class BlackRun:
    """A stretch of (almost) black video."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def black_runs(path: Path, min_s: float = 1.0, *, pixel_threshold: float = 0.10) -> list[BlackRun]:
    """Stretches of black video at least `min_s` long (`blackdetect`)."""
    path = _require_file(path)
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0", "-an"]
    args += ["-vf", f"blackdetect=d={min_s:.3f}:pix_th={pixel_threshold:.3f}", "-f", "null", "-"]
    try:
        stderr = run_ffmpeg(args, timeout_s=ANALYSIS_TIMEOUT_S, what="black detection").stderr
    except FFmpegError as exc:
        raise ProbeError(f"black detection of {path} failed: {exc}") from exc
    runs = re.findall(r"black_start:\s*([\d.]+)\s+black_end:\s*([\d.]+)", stderr)
    return [BlackRun(float(a), float(b)) for a, b in runs]


# --- quality checks on a finished video (the composed_video asset checks) ----------------------------------


@dataclass(frozen=True)
class QualityCheck:
    """The outcome of one check on a rendered video: passed or not, why, and what was measured."""

    passed: bool
    description: str
    metadata: dict[str, object]


def check_format(
    info: MediaInfo,
    *,
    width: int,
    height: int,
    fps: float,
    video_codec: str = "h264",
    pix_fmt: str = "yuv420p",
    audio_codec: str = "aac",
) -> QualityCheck:
    """Codecs, pixel format, resolution and frame rate are the configured ones."""
    expected = {
        "video_codec": video_codec,
        "pix_fmt": pix_fmt,
        "resolution": f"{width}x{height}",
        "fps": float(fps),
        "audio_codec": audio_codec,
    }
    found = {
        "video_codec": info.video_codec,
        "pix_fmt": info.pix_fmt,
        "resolution": f"{info.width}x{info.height}",
        "fps": info.fps,
        "audio_codec": info.audio_codec,
    }
    wrong = [
        f"{key} is {found[key]!r}, expected {value!r}"
        for key, value in expected.items()
        if (abs((found[key] or 0) - value) > 0.01 if key == "fps" else found[key] != value)
    ]
    return QualityCheck(
        not wrong, "; ".join(wrong) or "codecs, pixel format, size and fps as configured", found
    )


def check_duration(info: MediaInfo, planned_s: float, tolerance_s: float = 0.5) -> QualityCheck:
    """The video lasts as long as its plan, within `tolerance_s`."""
    off = info.duration_s - planned_s
    passed = abs(off) <= tolerance_s
    text = (
        f"{info.duration_s:.2f}s against a plan of {planned_s:.2f}s ({off:+.2f}s, allowed ±{tolerance_s:g}s)"
    )
    return QualityCheck(passed, text, {"duration_s": round(info.duration_s, 3), "planned_s": planned_s})


def check_audio(path: Path, info: MediaInfo, silence_db: float = -50.0) -> QualityCheck:
    """The video has an audio stream and it is not silent (mean volume above `silence_db`)."""
    if not info.has_audio:
        return QualityCheck(False, "the video has no audio stream", {"audio": False})
    mean = audio_mean_volume_db(path)
    passed = mean > silence_db
    text = f"mean volume {mean:.1f} dBFS" + (
        "" if passed else f", at or below the silence floor {silence_db:g}"
    )
    return QualityCheck(passed, text, {"audio": True, "mean_volume_db": mean})


def check_loudness(
    path: Path, info: MediaInfo, target_lufs: float, tolerance_lu: float = 1.0
) -> QualityCheck:
    """Integrated loudness within `tolerance_lu` of the target."""
    if not info.has_audio:
        return QualityCheck(False, "the video has no audio stream to measure", {"target_lufs": target_lufs})
    measured = integrated_loudness_lufs(path)
    passed = abs(measured - target_lufs) <= tolerance_lu
    text = f"{measured:.1f} LUFS against a target of {target_lufs:.1f} (allowed ±{tolerance_lu:g} LU)"
    return QualityCheck(passed, text, {"loudness_lufs": measured, "target_lufs": target_lufs})


def check_black(path: Path, max_s: float = 1.0) -> QualityCheck:
    """No stretch of black picture lasts longer than `max_s`."""
    runs = [run for run in black_runs(path, min_s=max_s) if run.duration_s > max_s]
    text = (
        f"no black run longer than {max_s:g}s"
        if not runs
        else "black from " + ", ".join(f"{r.start_s:.2f}s to {r.end_s:.2f}s" for r in runs)
    )
    longest = max((r.duration_s for r in runs), default=0.0)
    return QualityCheck(not runs, text, {"black_runs": len(runs), "longest_black_s": round(longest, 3)})


def check_captions_safe_zone(captions: Sequence[CaptionImage], width: int, height: int) -> QualityCheck:
    """Every caption box lies inside the frame and outside the platform-UI bands."""
    problems = caption_boxes_in_safe_zone(captions, width, height)
    text = "; ".join(problems[:5]) if problems else f"all {len(captions)} caption boxes inside the safe zone"
    return QualityCheck(not problems, text, {"captions": len(captions), "outside": len(problems)})


def check_glyphs_drawn(text: str, font_path: Path | None = None) -> QualityCheck:
    """Every character of the captions and overlays is drawable by a font of the caption chain."""
    from shortvid_assets.domain.fonts import missing_glyphs

    missing = missing_glyphs(text, font_path)
    return QualityCheck(
        passed=not missing,
        description="every caption character drawn"
        if not missing
        else f"{len(missing)} characters no caption font can draw: {', '.join(missing[:8])}",
        metadata={"undrawable_characters": len(missing), "undrawable": ", ".join(missing[:20]) or None},
    )
