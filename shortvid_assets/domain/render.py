"""The final composition: one ffmpeg process joins clips, overlays captions, mixes audio and takes the thumbnail."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from shortvid_assets.domain.captions import CaptionImage
from shortvid_assets.domain.ffmpeg import (
    FFmpegError,
    FFmpegNotFoundError,
    FFmpegTimeoutError,
    ffmpeg_exe,
    run_ffmpeg,
)
from shortvid_assets.domain.files import atomic_path

logger = logging.getLogger(__name__)

TRANSITIONS = ("cut", "fade", "dissolve")
# "fade" dips through black, "dissolve" cross-fades the two clips.
XFADE_KIND = {"fade": "fadeblack", "dissolve": "fade"}
SAMPLE_RATE = 48_000
TRUE_PEAK_DB = -1.5


class RenderError(RuntimeError):
    """The video could not be rendered; the message says why (with ffmpeg's last lines when it ran)."""

    def __init__(self, message: str, *, stderr_tail: str = "") -> None:
        super().__init__(message)
        self.stderr_tail = stderr_tail


class RenderTimeoutError(RenderError):
    """The render ran past its timeout and ffmpeg was killed."""


@dataclass(frozen=True)
class RenderSpec:
    """Everything one composition needs: clips and their timeline, captions, audio, encoding."""

    clips: list[Path]
    clip_durations: list[float]
    transitions: list[str]  # the transition from clip i into clip i+1: "cut" | "fade" | "dissolve"
    captions: list[CaptionImage]
    voice: Path
    music: Path | None = None
    music_volume: float = 0.15
    width: int = 1080
    height: int = 1920
    fps: int = 30
    preset: str = "veryfast"
    crf: int = 21
    loudness_lufs: float | None = -14.0
    thumbnail_at_s: float = 1.0
    duration_s: float | None = None  # total; None means the sum of clip_durations
    transition_s: float = 0.5
    caption_fade_s: float = 0.15
    duck_music: bool = True
    audio_bitrate: str = "160k"

    @property
    def total_s(self) -> float:
        return float(self.duration_s) if self.duration_s is not None else float(sum(self.clip_durations))

    def problems(self) -> list[str]:
        """What is wrong with this spec (empty when it can be rendered)."""
        found = []
        if not self.clips:
            found.append("no clips to compose")
        if len(self.clip_durations) != len(self.clips):
            found.append(f"{len(self.clips)} clips but {len(self.clip_durations)} clip durations")
        if len(self.transitions) not in (max(0, len(self.clips) - 1), len(self.clips)):
            found.append(
                f"{len(self.clips)} clips need {len(self.clips) - 1} transitions, got {len(self.transitions)}"
            )
        if bad := sorted({t for t in self.transitions if t not in TRANSITIONS}):
            found.append(f"unknown transitions {bad}; use one of {list(TRANSITIONS)}")
        if any(d <= 0 for d in self.clip_durations):
            found.append(f"clip durations must be positive, got {self.clip_durations}")
        if self.total_s <= 0:
            found.append(f"total duration must be positive, got {self.total_s}")
        if self.width < 16 or self.height < 16 or self.width % 2 or self.height % 2:
            found.append(
                f"output size must be even and at least 16x16 (H.264 yuv420p), got {self.width}x{self.height}"
            )
        if self.fps <= 0:
            found.append(f"fps must be positive, got {self.fps}")
        if not 0 <= self.music_volume <= 4:
            found.append(f"music_volume must be between 0 and 4, got {self.music_volume}")
        if not 0 <= self.crf <= 51:
            found.append(f"crf must be 0..51, got {self.crf}")
        if not self.preset.isalpha():
            found.append(f"preset must be an x264 preset name such as 'veryfast', got {self.preset!r}")
        if self.loudness_lufs is not None and not -70 <= self.loudness_lufs <= -5:
            found.append(f"loudness target must be between -70 and -5 LUFS, got {self.loudness_lufs}")
        for cap in self.captions:
            if cap.end_s <= cap.start_s:
                found.append(
                    f"caption {Path(cap.path).name} ends ({cap.end_s}s) before it starts ({cap.start_s}s)"
                )
        return found


@dataclass(frozen=True)
class RenderResult:
    """The rendered files, how long the render took and the exact ffmpeg arguments used."""

    video: Path
    thumbnail: Path
    seconds: float
    ffmpeg_args: list[str] = field(default_factory=list)


def _n(value: float) -> str:
    """A number for a filter string: only digits, a dot and a sign ever reach the graph."""
    return f"{float(value):.3f}"


def transition_durations(spec: RenderSpec) -> list[float]:
    """The overlap after each clip (0 for cuts and the last clip), clamped to fit both neighbours."""
    overlaps = []
    durations = spec.clip_durations
    for i in range(len(durations)):
        kind = spec.transitions[i] if i < len(spec.transitions) else "cut"
        if i == len(durations) - 1 or kind == "cut":
            overlaps.append(0.0)
        else:
            overlaps.append(round(min(spec.transition_s, 0.4 * durations[i], 0.4 * durations[i + 1]), 3))
    return overlaps


def _video_graph(spec: RenderSpec, caption_inputs: Sequence[int]) -> tuple[list[str], str]:
    """Filter chains for the picture: normalise clips, join them, fit the total, overlay captions."""
    w, h, fps, total = spec.width, spec.height, spec.fps, spec.total_s
    chains: list[str] = []
    overlaps = transition_durations(spec)
    for i, duration in enumerate(spec.clip_durations):
        length = duration + overlaps[i]
        chains.append(
            f"[{i}:v]scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1,"
            f"fps={fps},format=yuv420p,tpad=stop_mode=clone:stop_duration={_n(length)},"
            f"trim=duration={_n(length)},setpts=PTS-STARTPTS,settb=AVTB[c{i}]"
        )
    current, running = "c0", spec.clip_durations[0] + overlaps[0]
    for i in range(1, len(spec.clips)):
        kind = spec.transitions[i - 1]
        out = f"j{i}"
        if kind == "cut":
            chains.append(f"[{current}][c{i}]concat=n=2:v=1:a=0[{out}]")
        else:
            offset = running - overlaps[i - 1]
            chains.append(
                f"[{current}][c{i}]xfade=transition={XFADE_KIND[kind]}:duration={_n(overlaps[i - 1])}"
                f":offset={_n(offset)}[{out}]"
            )
            running -= overlaps[i - 1]
        running += spec.clip_durations[i] + overlaps[i]
        current = out
    # Fit the picture to exactly the total: hold the last frame if short, cut if long.
    chains.append(
        f"[{current}]tpad=stop_mode=clone:stop_duration={_n(total)},trim=duration={_n(total)},"
        f"setpts=PTS-STARTPTS[base]"
    )
    current = "base"
    for k, (cap, index) in enumerate(zip(spec.captions, caption_inputs, strict=True)):
        start, end = max(0.0, cap.start_s), min(total, cap.end_s)
        if end <= start:
            continue
        fade = min(spec.caption_fade_s, (end - start) / 3)
        chain = f"[{index}:v]format=rgba"
        if fade > 0:
            chain += (
                f",fade=t=in:st={_n(start)}:d={_n(fade)}:alpha=1"
                f",fade=t=out:st={_n(end - fade)}:d={_n(fade)}:alpha=1"
            )
        chains.append(f"{chain}[cap{k}]")
        chains.append(
            f"[{current}][cap{k}]overlay=x={int(cap.x)}:y={int(cap.y)}:eof_action=pass:format=auto"
            f":enable='between(t,{_n(start)},{_n(end)})'[ov{k}]"
        )
        current = f"ov{k}"
    thumb_at = min(max(0.0, spec.thumbnail_at_s), max(0.0, total - 1.0 / fps))
    chains.append(f"[{current}]format=yuv420p,split=2[vout][tsrc]")
    chains.append(
        f"[tsrc]trim=start={_n(thumb_at)},setpts=PTS-STARTPTS,select='eq(n,0)',format=yuvj420p[thumb]"
    )
    return chains, "vout"


@dataclass(frozen=True)
class LoudnessMeasurement:
    """What loudnorm's analysis pass measured on the mixed audio (EBU R128)."""

    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    target_offset: float


def _loudnorm(spec: RenderSpec, measured: LoudnessMeasurement | None) -> str:
    """loudnorm for the final pass: linear gain from measured values when given, else one-pass dynamic."""
    target = spec.loudness_lufs
    if measured is None:
        return f"loudnorm=I={target:.1f}:TP={TRUE_PEAK_DB}:LRA=11"
    # A loudness range above the target's would make loudnorm fall back to dynamic mode: allow the measured one.
    lra = min(50.0, max(11.0, measured.input_lra + 1.0))
    return (
        f"loudnorm=I={target:.1f}:TP={TRUE_PEAK_DB}:LRA={lra:.1f}"
        f":measured_I={measured.input_i:.2f}:measured_TP={measured.input_tp:.2f}"
        f":measured_LRA={measured.input_lra:.2f}:measured_thresh={measured.input_thresh:.2f}"
        f":offset={measured.target_offset:.2f}:linear=true"
    )


def _audio_graph(
    spec: RenderSpec,
    voice_index: int,
    music_index: int | None,
    *,
    normalise: str | None,
) -> list[str]:
    """Filter chains for the sound: voice padded to the total, music looped and ducked, mixed, then `normalise`."""
    total = spec.total_s
    fmt = f"aformat=sample_fmts=fltp:sample_rates={SAMPLE_RATE}:channel_layouts=stereo"
    chains = [
        f"[{voice_index}:a]{fmt},apad=whole_dur={_n(total)},atrim=duration={_n(total)},asetpts=N/SR/TB[voice]"
    ]
    mixed = "voice"
    if music_index is not None:
        fade_out = min(1.0, total / 4)
        chains.append(
            f"[{music_index}:a]{fmt},atrim=duration={_n(total)},asetpts=N/SR/TB,"
            f"volume={spec.music_volume:.4f},afade=t=out:st={_n(total - fade_out)}:d={_n(fade_out)}[music]"
        )
        music = "music"
        if spec.duck_music:
            chains.append("[voice]asplit=2[voicemix][voicekey]")
            chains.append(
                "[music][voicekey]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400:makeup=1[ducked]"
            )
            music, voice = "ducked", "voicemix"
        else:
            voice = "voice"
        chains.append(f"[{voice}][{music}]amix=inputs=2:duration=first:normalize=0[mix]")
        mixed = "mix"
    final = f"[{mixed}]"
    if normalise:
        final += f"{normalise},"
    final += f"aresample={SAMPLE_RATE},{fmt},atrim=duration={_n(total)}[aout]"
    chains.append(final)
    return chains


def loudness_analysis_command(spec: RenderSpec, ffmpeg: str = "ffmpeg") -> list[str]:
    """The audio-only ffmpeg pass that measures the mix's loudness for a linear final normalisation (pure)."""
    if problems := spec.problems():
        raise RenderError("cannot render this spec: " + "; ".join(problems))
    target = spec.loudness_lufs if spec.loudness_lufs is not None else -14.0
    args = [ffmpeg, "-hide_banner", "-nostdin", "-v", "info", "-i", str(Path(spec.voice).resolve())]
    music_index = None
    if spec.music is not None:
        music_index = 1
        args += ["-stream_loop", "-1", "-i", str(Path(spec.music).resolve())]
    measure = f"loudnorm=I={target:.1f}:TP={TRUE_PEAK_DB}:LRA=11:print_format=json"
    graph = ";".join(_audio_graph(spec, 0, music_index, normalise=measure))
    return [*args, "-filter_complex", graph, "-map", "[aout]", "-f", "null", "-"]


def parse_loudnorm_json(stderr: str) -> LoudnessMeasurement | None:
    """The measurement loudnorm printed as JSON; None when the audio is silent (nothing to normalise)."""
    start = stderr.rfind("{")
    end = stderr.rfind("}")
    if start < 0 or end < start:
        raise RenderError("loudness analysis printed no measurement; ffmpeg's output:\n" + stderr[-1500:])
    try:
        data = json.loads(stderr[start : end + 1])
        values = [
            float(data[k]) for k in ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")
        ]
    except (ValueError, KeyError) as exc:
        raise RenderError(f"cannot read loudnorm's measurement {stderr[start : end + 1]!r}: {exc}") from exc
    if not all(math.isfinite(v) for v in values) or values[0] < -70:
        return None
    return LoudnessMeasurement(*values)


def measure_mix_loudness(
    spec: RenderSpec, *, timeout_s: float = 300.0, ffmpeg: str | None = None
) -> LoudnessMeasurement | None:
    """Run the audio-only analysis pass (voice + ducked music) and return loudnorm's measurement."""
    command = loudness_analysis_command(spec, ffmpeg or ffmpeg_exe())
    try:
        run = run_ffmpeg(command, timeout_s=timeout_s, what="loudness analysis")
    except FFmpegTimeoutError as exc:
        raise RenderTimeoutError(str(exc), stderr_tail=exc.stderr_tail) from exc
    except FFmpegError as exc:
        raise RenderError(str(exc), stderr_tail=exc.stderr_tail) from exc
    return parse_loudnorm_json(run.stderr)


def build_render_command(
    spec: RenderSpec,
    video_out: Path,
    thumbnail_out: Path,
    ffmpeg: str = "ffmpeg",
    *,
    loudness: LoudnessMeasurement | None = None,
) -> list[str]:
    """The single ffmpeg argument list that renders the video and its thumbnail (pure: runs nothing).

    With `loudness` (from `measure_mix_loudness`) the audio is normalised linearly to the target;
    without it, by loudnorm's one-pass dynamic mode.
    """
    if problems := spec.problems():
        raise RenderError("cannot render this spec: " + "; ".join(problems))
    total = spec.total_s
    args = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-v", "error"]
    for clip in spec.clips:
        args += ["-i", str(Path(clip).resolve())]
    caption_inputs = []
    for cap in spec.captions:
        caption_inputs.append(len(spec.clips) + len(caption_inputs))
        # A looped still that ends with its caption; overlay passes the picture through after it.
        args += ["-loop", "1", "-framerate", str(spec.fps), "-t", _n(min(total, cap.end_s) + 1.0 / spec.fps)]
        args += ["-i", str(Path(cap.path).resolve())]
    voice_index = len(spec.clips) + len(spec.captions)
    args += ["-i", str(Path(spec.voice).resolve())]
    music_index = None
    if spec.music is not None:
        music_index = voice_index + 1
        args += ["-stream_loop", "-1", "-i", str(Path(spec.music).resolve())]

    video_chains, video_label = _video_graph(spec, caption_inputs)
    normalise = _loudnorm(spec, loudness) if spec.loudness_lufs is not None else None
    graph = ";".join(video_chains + _audio_graph(spec, voice_index, music_index, normalise=normalise))
    args += ["-filter_complex", graph]
    args += [
        "-map", f"[{video_label}]", "-map", "[aout]",
        "-c:v", "libx264", "-preset", spec.preset, "-crf", str(spec.crf), "-pix_fmt", "yuv420p",
        "-r", str(spec.fps), "-g", str(spec.fps * 2),
        "-c:a", "aac", "-b:a", spec.audio_bitrate, "-ar", str(SAMPLE_RATE), "-ac", "2",
        "-t", _n(total), "-movflags", "+faststart", "-map_metadata", "-1", "-f", "mp4", str(video_out),
        "-map", "[thumb]", "-frames:v", "1", "-update", "1", "-c:v", "mjpeg", "-q:v", "3",
        "-f", "image2", str(thumbnail_out),
    ]  # fmt: skip
    return args


def _check_inputs(spec: RenderSpec) -> None:
    inputs = [*spec.clips, *(cap.path for cap in spec.captions), spec.voice]
    if spec.music is not None:
        inputs.append(spec.music)
    missing = [str(p) for p in inputs if not Path(p).is_file()]
    if missing:
        raise RenderError(
            f"render inputs do not exist: {', '.join(missing)}; re-materialize the stage that makes them"
        )


def render_video(
    spec: RenderSpec,
    video_out: Path,
    thumbnail_out: Path,
    *,
    timeout_s: float = 900,
    on_progress: Callable[[float], None] | None = None,
) -> RenderResult:
    """Render the video and its thumbnail in one ffmpeg process; both land atomically or not at all."""
    if problems := spec.problems():
        raise RenderError("cannot render this spec: " + "; ".join(problems))
    _check_inputs(spec)
    try:
        exe = ffmpeg_exe()
    except FFmpegNotFoundError as exc:
        raise RenderError(str(exc)) from exc
    video_out, thumbnail_out = Path(video_out), Path(thumbnail_out)
    started = time.monotonic()
    loudness = None
    if spec.loudness_lufs is not None:
        try:
            loudness = measure_mix_loudness(spec, timeout_s=timeout_s, ffmpeg=exe)
        except RenderTimeoutError as exc:
            raise RenderTimeoutError(
                f"render of {video_out.name} took longer than {timeout_s:g}s (in its loudness analysis) and was "
                f"killed; raise the timeout or shorten the video",
                stderr_tail=exc.stderr_tail,
            ) from exc
        if loudness is None:
            logger.warning("the mixed audio of %s is silent; it is not loudness-normalised", video_out.name)
            spec = replace(spec, loudness_lufs=None)
    remaining = timeout_s - (time.monotonic() - started)
    with atomic_path(video_out) as video_tmp, atomic_path(thumbnail_out) as thumb_tmp:
        args = build_render_command(spec, video_tmp, thumb_tmp, ffmpeg=exe, loudness=loudness)
        logger.info(
            "rendering %s: %d clips, %d captions, %.1fs at %dx%d",
            video_out.name,
            len(spec.clips),
            len(spec.captions),
            spec.total_s,
            spec.width,
            spec.height,
        )
        try:
            run_ffmpeg(
                args,
                timeout_s=max(remaining, 0.001),
                progress_duration_s=spec.total_s,
                on_progress=on_progress,
                what=f"render of {video_out.name}",
            )
        except FFmpegTimeoutError as exc:
            raise RenderTimeoutError(
                f"render of {video_out.name} took longer than {timeout_s:g}s and was killed; "
                f"raise the timeout or shorten the video"
                + (f"\nffmpeg's last lines:\n{exc.stderr_tail}" if exc.stderr_tail else ""),
                stderr_tail=exc.stderr_tail,
            ) from exc
        except FFmpegError as exc:
            raise RenderError(str(exc), stderr_tail=exc.stderr_tail) from exc
        if thumb_tmp.stat().st_size == 0 or video_tmp.stat().st_size == 0:
            raise RenderError(
                f"ffmpeg exited cleanly but wrote an empty video or thumbnail for {video_out.name}"
            )
    seconds = time.monotonic() - started
    logger.info("rendered %s in %.1fs", video_out.name, seconds)
    return RenderResult(video=video_out, thumbnail=thumbnail_out, seconds=seconds, ffmpeg_args=args)
