"""The final composition: audio-only passes make the soundtrack while captions are drawn, then one ffmpeg
process decodes and encodes the picture once (clips joined, captions overlaid, thumbnail taken) and encodes
the soundtrack alongside."""

from __future__ import annotations

import itertools
import logging
import math
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from shortvid_assets import settings
from shortvid_assets.domain.captions import CaptionImage, CaptionStream, CaptionTrack
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
LIMITER_ATTACK_MS = 5
LIMITER_RELEASE_MS = 50
LIMITER_CORRECTIONS = 2  # limited-mix passes at most; one when the trial gains bracket the target
# Extra gains (dB) over the plain gain at which one pass measures the limited mix.
LIMITER_TRIAL_STEPS_DB = (0.0, 2.0)
# A generated clip is one lavfi source filter with plain options: no chains, labels, quotes or escapes.
_SAFE_SOURCE = re.compile(r"^[a-z0-9_]+=[A-Za-z0-9_.:=+-]+$")


@dataclass(frozen=True)
class GeneratedClip:
    """A scene drawn by a lavfi source in the render process itself (no intermediate file), e.g. `gradients=...`."""

    source: str

    def __str__(self) -> str:
        return self.source


class RenderError(RuntimeError):
    """The video could not be rendered; the message says why (with ffmpeg's last lines when it ran)."""

    def __init__(self, message: str, *, stderr_tail: str = "") -> None:
        super().__init__(message)
        self.stderr_tail = stderr_tail


class RenderTimeoutError(RenderError):
    """The render ran past its timeout and ffmpeg was killed."""


# Threads of a render's video pass; 0 lets ffmpeg use every core. On 2 cores one render on both made as
# many 1080p videos an hour as two one-thread renders side by side, each in half the time and memory
# (benchmarks/backfill.py --encoder-check; figures in the README).
THREADS_ENV = "SHORTVID_VIDEO_THREADS"
DEFAULT_THREADS = 0


@dataclass(frozen=True)
class RenderSpec:
    """Everything one composition needs: clips and their timeline, captions, audio, encoding."""

    clips: list[Path | GeneratedClip]
    clip_durations: list[float]
    transitions: list[str]  # the transition from clip i into clip i+1: "cut" | "fade" | "dissolve"
    captions: list[CaptionImage]  # text overlays, each faded in and out
    voice: Path
    caption_streams: list[CaptionStream] = field(default_factory=list)  # word-highlighted spoken captions
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
    threads: int | None = None  # threads of the video pass; None: SHORTVID_VIDEO_THREADS (0 = every core)

    @property
    def video_threads(self) -> int:
        """Threads the video pass may use (x264 and the filter graph); 0 lets ffmpeg use every core."""
        if self.threads is not None:
            return self.threads
        return int(settings.number(THREADS_ENV, DEFAULT_THREADS, integer=True, minimum=0, maximum=64))

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
        for clip in self.clips:
            if isinstance(clip, GeneratedClip) and not _SAFE_SOURCE.match(clip.source):
                found.append(
                    f"generated clip {clip.source!r} is not a single lavfi source with plain options"
                )
        for cap in self.captions:
            if cap.end_s <= cap.start_s:
                found.append(
                    f"caption {Path(cap.path).name} ends ({cap.end_s}s) before it starts ({cap.start_s}s)"
                )
        return found


@dataclass(frozen=True)
class RenderResult:
    """The rendered files, how long the render took (and each stage), the exact video-pass arguments."""

    video: Path
    thumbnail: Path
    seconds: float
    ffmpeg_args: list[str] = field(default_factory=list)
    captions: CaptionTrack | None = None  # the track `render_video` drew, when it was given one to draw
    loudness: LoudnessMeasurement | None = None  # the mix as measured before its gain (None: not normalised)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # captions, soundtrack (overlapped), video


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


def _video_graph(
    spec: RenderSpec,
    clip_inputs: Sequence[int],
    caption_inputs: Sequence[int],
    stream_inputs: Sequence[int] = (),
) -> tuple[list[str], str]:
    """Filter chains for the picture: normalise clips, join them, fit the total, overlay captions."""
    w, h, fps, total = spec.width, spec.height, spec.fps, spec.total_s
    chains: list[str] = []
    overlaps = transition_durations(spec)
    for i, (duration, clip) in enumerate(zip(spec.clip_durations, spec.clips, strict=True)):
        length = duration + overlaps[i]
        if isinstance(clip, GeneratedClip):
            # Drawn by a lavfi input of this process (no decoder, no intermediate file), small, then scaled.
            head = f"[{clip_inputs[i]}:v]format=yuv420p,scale={w}:{h}:flags=bicubic,setsar=1,fps={fps}"
        else:
            head = (
                f"[{clip_inputs[i]}:v]scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1,"
                f"fps={fps},format=yuv420p"
            )
        chains.append(
            f"{head},tpad=stop_mode=clone:stop_duration={_n(length)},"
            f"trim=duration={_n(length)},setpts=PTS-STARTPTS,settb=AVTB[c{i}]"
        )
    # Join: clip i's head (blended with the tail of clip i-1), body, then tail (blended with clip i+1's head).
    # Only the transition segments pass through xfade, which works in yuv444p: given whole clips, it had
    # every frame of the video converted to 4:4:4 and back.
    segments: list[str] = []
    for i, duration in enumerate(spec.clip_durations):
        head, tail = overlaps[i - 1] if i else 0.0, overlaps[i]
        if not head and not tail:
            segments.append(f"c{i}")
            continue
        parts = (["h"] if head else []) + ["b"] + (["t"] if tail else [])
        chains.append(f"[c{i}]split={len(parts)}" + "".join(f"[{part}in{i}]" for part in parts))
        if head:
            chains.append(f"[hin{i}]trim=duration={_n(head)},setpts=PTS-STARTPTS[h{i}]")
            kind = XFADE_KIND[spec.transitions[i - 1]]
            chains.append(
                f"[t{i - 1}][h{i}]xfade=transition={kind}:duration={_n(head)}:offset=0,format=yuv420p[x{i - 1}]"
            )
            segments.append(f"x{i - 1}")
        chains.append(f"[bin{i}]trim=start={_n(head)}:end={_n(duration)},setpts=PTS-STARTPTS[b{i}]")
        segments.append(f"b{i}")
        if tail:
            chains.append(f"[tin{i}]trim=start={_n(duration)},setpts=PTS-STARTPTS[t{i}]")
    current = segments[0]
    if len(segments) > 1:
        chains.append("".join(f"[{seg}]" for seg in segments) + f"concat=n={len(segments)}:v=1:a=0[joined]")
        current = "joined"
    # Fit the picture to exactly the total: hold the last frame if short, cut if long.
    chains.append(
        f"[{current}]tpad=stop_mode=clone:stop_duration={_n(total)},trim=duration={_n(total)},"
        f"setpts=PTS-STARTPTS[base]"
    )
    current = "base"
    # Every overlay blends in yuv420: with format=auto ffmpeg 7 negotiates yuva420p for the main picture and
    # converts every full frame to it and back (~1 ms a frame at 1080x1920), for text that covers a band.
    for k, (cap, index) in enumerate(zip(spec.captions, caption_inputs, strict=True)):
        start, end = max(0.0, cap.start_s), min(total, cap.end_s)
        if end <= start:
            continue
        fade = min(spec.caption_fade_s, (end - start) / 3)
        # The still is decoded once and repeated in memory, timed to start with its caption.
        frames = max(1, math.ceil((end - start) * fps) + 1)
        chain = f"[{index}:v]format=yuva420p,loop=loop={frames - 1}:size=1:start=0,setpts=(N/{fps}+{_n(start)})/TB"
        if fade > 0:
            chain += (
                f",fade=t=in:st={_n(start)}:d={_n(fade)}:alpha=1"
                f",fade=t=out:st={_n(end - fade)}:d={_n(fade)}:alpha=1"
            )
        chains.append(f"{chain}[cap{k}]")
        chains.append(
            f"[{current}][cap{k}]overlay=x={int(cap.x)}:y={int(cap.y)}:eof_action=pass:format=yuv420"
            f":enable='between(t,{_n(start)},{_n(end)})'[ov{k}]"
        )
        current = f"ov{k}"
    for k, (stream, index) in enumerate(zip(spec.caption_streams, stream_inputs, strict=True)):
        # One band of word states from an ffconcat list: sparse frames, each held until the next.
        chains.append(f"[{index}:v]format=yuva420p[ws{k}]")
        chains.append(
            f"[{current}][ws{k}]overlay=x={int(stream.x)}:y={int(stream.y)}:eof_action=pass:format=yuv420[wov{k}]"
        )
        current = f"wov{k}"
    thumb_at = min(max(0.0, spec.thumbnail_at_s), max(0.0, total - 1.0 / fps))
    chains.append(f"[{current}]format=yuv420p,split=2[vout][tsrc]")
    # The thumbnail branch ends two frames after its time: an open-ended branch keeps taking every frame
    # from the split after its one picture is written, which cost ~1 s at the end of a 30 s 1080p render.
    chains.append(
        f"[tsrc]trim=start={_n(thumb_at)}:duration={_n(2.0 / fps)},setpts=PTS-STARTPTS,select='eq(n,0)',"
        f"format=yuvj420p[thumb]"
    )
    return chains, "vout"


@dataclass(frozen=True)
class LoudnessMeasurement:
    """What the audio pass measured on the mixed audio (EBU R128 `ebur128`)."""

    integrated_lufs: float
    sample_peak_db: float
    limiter_loss_lu: float = 0.0  # how much the limiter lowered the loudness at the plain gain

    def gain_db(self, target_lufs: float) -> float:
        """The gain that brings the mix to the target once the limiter has shaved its peaks."""
        return target_lufs - self.integrated_lufs + self.limiter_loss_lu


METER = "ebur128=framelog=quiet:peak=sample"


def _gain_and_limiter(target_lufs: float, measured: LoudnessMeasurement) -> str:
    """The normalisation: the measured gain to the target, then a limiter that keeps peaks below TRUE_PEAK_DB.

    The gain is exact and costs nothing, unlike loudnorm (which resamples to 192 kHz for its peak detection).
    """
    limit = 10 ** (TRUE_PEAK_DB / 20)
    return (
        f"volume={measured.gain_db(target_lufs):.2f}dB,"
        f"alimiter=limit={limit:.4f}:attack={LIMITER_ATTACK_MS}:release={LIMITER_RELEASE_MS}:level=false:latency=true"
    )


def _audio_graph(spec: RenderSpec, voice_index: int, music_index: int | None, *, meter: bool) -> list[str]:
    """Filter chains for the sound: voice padded to the total, music looped and ducked, mixed (and metered)."""
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
    final = f"[{mixed}]aresample={SAMPLE_RATE},{fmt},atrim=duration={_n(total)}"
    chains.append(final + (f",{METER}" if meter else "") + "[aout]")
    return chains


def _wav_output(path: Path) -> list[str]:
    # 32-bit float: lossless between the passes, and nothing clips before the limiter.
    return ["-c:a", "pcm_f32le", "-map_metadata", "-1", "-f", "wav", str(path)]


def mix_command(spec: RenderSpec, out: Path, ffmpeg: str = "ffmpeg") -> list[str]:
    """The audio-only pass that mixes voice and ducked music to the total length into a WAV (pure).

    When the spec has a loudness target the mix is also metered: `ebur128` prints its integrated
    loudness and sample peak on stderr (`parse_ebur128_summary`).
    """
    if problems := spec.problems():
        raise RenderError("cannot render this spec: " + "; ".join(problems))
    meter = spec.loudness_lufs is not None
    args = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-v", "info" if meter else "error"]
    args += ["-i", str(Path(spec.voice).resolve())]
    music_index = None
    if spec.music is not None:
        music_index = 1
        args += ["-stream_loop", "-1", "-i", str(Path(spec.music).resolve())]
    graph = ";".join(_audio_graph(spec, 0, music_index, meter=meter))
    return [*args, "-filter_complex", graph, "-map", "[aout]", *_wav_output(out)]


def limiter_trial_command(
    mix: Path,
    target_lufs: float,
    trial: LoudnessMeasurement,
    ffmpeg: str = "ffmpeg",
    *,
    extra_gains_db: Sequence[float] = (0.0,),
) -> list[str]:
    """The pass that meters the mix after `trial`'s gain and the limiter, once per extra gain (pure).

    One pass measures several gains: the mix is read once and split, a limiter and a meter per gain.
    """
    if not extra_gains_db:
        raise ValueError("extra_gains_db needs at least one gain (0.0 measures the trial's own gain)")
    count = len(extra_gains_db)
    chains = ["[0:a]asplit=" + str(count) + "".join(f"[try{i}]" for i in range(count))]
    outputs: list[str] = []
    for i, extra in enumerate(extra_gains_db):
        gained = replace(trial, limiter_loss_lu=trial.limiter_loss_lu + float(extra))
        chains.append(f"[try{i}]{_gain_and_limiter(target_lufs, gained)},{METER}[meter{i}]")
        outputs += ["-map", f"[meter{i}]", "-f", "null", "-"]
    args = [ffmpeg, "-hide_banner", "-nostdin", "-v", "info", "-i", str(Path(mix).resolve())]
    return [*args, "-filter_complex", ";".join(chains), *outputs]


def soundtrack_command(
    mix: Path, out: Path, target_lufs: float, loudness: LoudnessMeasurement, ffmpeg: str = "ffmpeg"
) -> list[str]:
    """The pass that normalises the mix to the target into the finished soundtrack WAV (pure)."""
    args = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-v", "error", "-i", str(Path(mix).resolve())]
    return [*args, "-af", _gain_and_limiter(target_lufs, loudness), *_wav_output(out)]


_SUMMARY_I = re.compile(r"I:\s*(-?inf|-?[\d.]+) LUFS")
_SUMMARY_PEAK = re.compile(r"Sample peak:\s*Peak:\s*(-?inf|-?[\d.]+) dBFS")
_SUMMARY_HEAD = re.compile(r"\[Parsed_ebur128_(\d+) @ [^\]]*\] Summary:")


def _summary_measurement(summary: str, stderr: str) -> LoudnessMeasurement | None:
    loudness = _SUMMARY_I.search(summary)
    peak = _SUMMARY_PEAK.search(summary)
    if loudness is None or peak is None:
        raise RenderError("loudness analysis printed no measurement; ffmpeg's output:\n" + stderr[-1500:])
    values = [float(v) for v in (loudness.group(1), peak.group(1))]
    if not all(math.isfinite(v) for v in values) or values[0] <= -70:
        return None
    return LoudnessMeasurement(*values)


def parse_ebur128_summary(stderr: str) -> LoudnessMeasurement | None:
    """The integrated loudness and sample peak `ebur128` printed; None when the audio is silent."""
    parts = stderr.rsplit("Summary:", 1)
    return _summary_measurement(parts[-1] if len(parts) == 2 else "", stderr)


def parse_ebur128_summaries(stderr: str, count: int) -> list[LoudnessMeasurement | None]:
    """The summaries of `count` ebur128 filters of one pass, in the order the graph names them."""
    heads = list(_SUMMARY_HEAD.finditer(stderr))
    if len(heads) != count:
        raise RenderError(
            f"loudness analysis printed {len(heads)} measurements, expected {count}; ffmpeg's output:\n"
            + stderr[-1500:]
        )
    bodies = [
        (int(head.group(1)), stderr[head.end() : heads[k + 1].start() if k + 1 < count else len(stderr)])
        for k, head in enumerate(heads)
    ]
    return [_summary_measurement(body, stderr) for _, body in sorted(bodies)]


def _loss_for_target(points: Sequence[tuple[float, float]], target: float) -> tuple[float, bool]:
    """The limiter allowance whose measured loudness meets the target, from (allowance, loudness) points.

    Interpolates between the points that bracket the target (True), else extrapolates along the nearest
    segment (False: worth measuring again). Loudness rises with the allowance, at most 1 LU per dB.
    """
    ordered = sorted(points)
    for (x0, y0), (x1, y1) in itertools.pairwise(ordered):
        if y0 <= target <= y1:
            return (x0 if y1 - y0 < 1e-6 else x0 + (target - y0) * (x1 - x0) / (y1 - y0)), True
    (x0, y0), (x1, y1) = (ordered[0], ordered[1]) if target < ordered[0][1] else (ordered[-2], ordered[-1])
    slope = min(1.0, max(0.1, (y1 - y0) / (x1 - x0))) if x1 > x0 else 1.0
    anchor_x, anchor_y = (x0, y0) if target < ordered[0][1] else (x1, y1)
    return anchor_x + (target - anchor_y) / slope, False


def _ffmpeg_failure(exc: FFmpegError) -> RenderError:
    if isinstance(exc, FFmpegTimeoutError):
        return RenderTimeoutError(str(exc), stderr_tail=exc.stderr_tail)
    return RenderError(str(exc), stderr_tail=exc.stderr_tail)


def fit_limiter(
    mix: Path, target_lufs: float, measured: LoudnessMeasurement, run: Callable[[list[str]], str], ffmpeg: str
) -> LoudnessMeasurement:
    """`measured` with the limiter allowance that lands the limited mix on the target.

    When the plain gain would push peaks into the limiter, the limited mix is metered at a few allowances
    in one pass (LIMITER_TRIAL_STEPS_DB) and the one that meets the target is interpolated; a further
    pass runs only when the target lies beyond the allowances tried. `run` runs a command, returns stderr.
    """
    if measured.sample_peak_db + measured.gain_db(target_lufs) <= TRUE_PEAK_DB:
        return measured  # the limiter will not touch it: the plain gain is exact
    steps: tuple[float, ...] = LIMITER_TRIAL_STEPS_DB
    for _ in range(LIMITER_CORRECTIONS):
        stderr = run(limiter_trial_command(mix, target_lufs, measured, ffmpeg, extra_gains_db=steps))
        limited = parse_ebur128_summaries(stderr, len(steps))
        points = [
            (measured.limiter_loss_lu + step, result.integrated_lufs)
            for step, result in zip(steps, limited, strict=True)
            if result is not None
        ]
        if len(points) < 2:
            break
        loss, bracketed = _loss_for_target(points, target_lufs)
        measured = replace(measured, limiter_loss_lu=round(max(0.0, loss), 2))
        if bracketed:
            break
        steps = (
            0.0,
            1.5,
        )  # from the extrapolated allowance up: extrapolating along a flattening curve falls short
    return measured


@dataclass(frozen=True)
class Soundtrack:
    """The audio passes' result: the finished soundtrack (WAV) and the loudness it was normalised from."""

    path: Path
    loudness: LoudnessMeasurement | None  # the mix as metered; None: not normalised (no target, or silent)
    seconds: float


def mix_soundtrack(
    spec: RenderSpec, out: Path, *, timeout_s: float = 300.0, ffmpeg: str | None = None
) -> Soundtrack:
    """Mix, meter and normalise the spec's audio into the finished soundtrack WAV at `out`.

    Audio-only passes, a fraction of a second per minute of video: the mix (metered as it is written),
    the limiter trials when the gain reaches the limiter, and the gain. Without a target, or when the
    mix is silent, the mix itself is the soundtrack.
    """
    exe = ffmpeg or ffmpeg_exe()
    started = time.monotonic()
    out = Path(out)

    def run(command: list[str]) -> str:
        remaining = max(0.001, timeout_s - (time.monotonic() - started))
        try:
            return run_ffmpeg(command, timeout_s=remaining, what="audio mix").stderr
        except FFmpegError as exc:
            raise _ffmpeg_failure(exc) from exc

    target = spec.loudness_lufs
    mix = out if target is None else out.with_name(f"{out.stem}-mix.wav")
    stderr = run(mix_command(spec, mix, exe))
    measured = parse_ebur128_summary(stderr) if target is not None else None
    if target is not None and measured is None:
        logger.warning("the voice and music mix to silence; the soundtrack is not loudness-normalised")
        mix.replace(out)
    elif target is not None and measured is not None:
        measured = fit_limiter(mix, target, measured, run, exe)
        run(soundtrack_command(mix, out, target, measured, exe))
        mix.unlink(missing_ok=True)
    if not out.is_file() or out.stat().st_size == 0:
        raise RenderError(f"ffmpeg exited cleanly but wrote no soundtrack at {out}")
    return Soundtrack(path=out, loudness=measured, seconds=time.monotonic() - started)


def build_render_command(
    spec: RenderSpec,
    video_out: Path,
    thumbnail_out: Path,
    ffmpeg: str = "ffmpeg",
    *,
    soundtrack: Path,
) -> list[str]:
    """The single ffmpeg argument list that renders the picture and thumbnail and encodes the soundtrack.

    Pure: runs nothing. `soundtrack` is `mix_soundtrack`'s finished WAV; this pass only encodes it to AAC.
    """
    if problems := spec.problems():
        raise RenderError("cannot render this spec: " + "; ".join(problems))
    total = spec.total_s
    args = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-v", "error"]
    inputs = 0
    clip_inputs: list[int] = []
    for clip in spec.clips:
        clip_inputs.append(inputs)
        if isinstance(clip, GeneratedClip):
            # An input, not a source inside -filter_complex: ffmpeg then generates it on demand in its own
            # thread; as graph sources, every scene was drawn ahead into memory (1.5 GB at 720p, and slower).
            args += ["-f", "lavfi", "-i", clip.source]
        else:
            args += ["-i", str(Path(clip).resolve())]
        inputs += 1
    caption_inputs = []
    for cap in spec.captions:
        caption_inputs.append(inputs)
        args += ["-i", str(Path(cap.path).resolve())]
        inputs += 1
    stream_inputs = []
    for stream in spec.caption_streams:
        stream_inputs.append(inputs)
        args += ["-f", "concat", "-i", str(Path(stream.playlist).resolve())]
        inputs += 1
    soundtrack_index = inputs
    args += ["-i", str(Path(soundtrack).resolve())]

    video_chains, video_label = _video_graph(spec, clip_inputs, caption_inputs, stream_inputs)
    threads = spec.video_threads
    if threads:
        args += ["-filter_complex_threads", str(threads)]
    args += ["-filter_complex", ";".join(video_chains)]
    args += [
        "-map", f"[{video_label}]", "-map", f"{soundtrack_index}:a:0",
        *(["-threads", str(threads)] if threads else []),
        "-c:v", "libx264", "-preset", spec.preset, "-crf", str(spec.crf), "-pix_fmt", "yuv420p",
        "-r", str(spec.fps), "-g", str(spec.fps * 2),
        "-c:a", "aac", "-b:a", spec.audio_bitrate, "-ar", str(SAMPLE_RATE), "-ac", "2",
        "-t", _n(total), "-movflags", "+faststart", "-map_metadata", "-1", "-f", "mp4", str(video_out),
        "-map", "[thumb]", "-frames:v", "1", "-update", "1", "-c:v", "mjpeg", "-q:v", "3",
        "-f", "image2", str(thumbnail_out),
    ]  # fmt: skip
    return args


def _check_inputs(spec: RenderSpec) -> None:
    inputs = [c for c in spec.clips if not isinstance(c, GeneratedClip)]
    inputs += [*(cap.path for cap in spec.captions), *(s.playlist for s in spec.caption_streams), spec.voice]
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
    captions: Callable[[], CaptionTrack] | None = None,
) -> RenderResult:
    """Render the video and its thumbnail; both land atomically or not at all.

    The soundtrack is mixed, measured and encoded by audio-only ffmpeg passes in a worker thread while
    `captions` (when given) draws the caption track in this one, so the two overlap on separate cores;
    its overlays and word streams are added to the spec's. Then one ffmpeg process renders the picture.
    """
    if problems := spec.problems():
        raise RenderError("cannot render this spec: " + "; ".join(problems))
    _check_inputs(spec)
    try:
        exe = ffmpeg_exe()
    except FFmpegNotFoundError as exc:
        raise RenderError(str(exc)) from exc
    video_out, thumbnail_out = Path(video_out), Path(thumbnail_out)
    started = time.monotonic()
    stages: dict[str, float] = {}
    track = None
    with (
        tempfile.TemporaryDirectory(prefix="shortvid-soundtrack-") as audio_dir,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="soundtrack") as pool,
    ):
        mixing = pool.submit(
            mix_soundtrack, spec, Path(audio_dir) / "soundtrack.wav", timeout_s=timeout_s, ffmpeg=exe
        )
        if captions is not None:
            track = captions()
            stages["captions"] = round(time.monotonic() - started, 3)
            spec = replace(
                spec,
                captions=[*spec.captions, *track.overlays],
                caption_streams=[*spec.caption_streams, *track.streams],
            )
            _check_inputs(spec)
        try:
            soundtrack = mixing.result()
        except RenderTimeoutError as exc:
            raise RenderTimeoutError(
                f"render of {video_out.name} took longer than {timeout_s:g}s (in its audio pass) and was "
                f"killed; raise the timeout or shorten the video",
                stderr_tail=exc.stderr_tail,
            ) from exc
        stages["soundtrack"] = round(soundtrack.seconds, 3)
        remaining = timeout_s - (time.monotonic() - started)
        video_started = time.monotonic()
        with atomic_path(video_out) as video_tmp, atomic_path(thumbnail_out) as thumb_tmp:
            args = build_render_command(spec, video_tmp, thumb_tmp, ffmpeg=exe, soundtrack=soundtrack.path)
            logger.info(
                "rendering %s: %d clips, %d captions, %.1fs at %dx%d",
                video_out.name,
                len(spec.clips),
                len(spec.captions) + sum(len(s.states) for s in spec.caption_streams),
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
        stages["video"] = round(time.monotonic() - video_started, 3)
    seconds = time.monotonic() - started
    logger.info("rendered %s in %.1fs", video_out.name, seconds)
    return RenderResult(
        video=video_out,
        thumbnail=thumbnail_out,
        seconds=seconds,
        ffmpeg_args=args,
        captions=track,
        loudness=soundtrack.loudness,
        stage_seconds=stages,
    )


def fit_clip_command(
    source: Path, out: Path, *, duration_s: float, width: int, height: int, fps: int = 30,
    preset: str = "veryfast", crf: int = 21, ffmpeg: str = "ffmpeg",
) -> list[str]:  # fmt: skip
    """The ffmpeg arguments that cut a downloaded clip to a scene: its length, size (cover + crop), fps, no audio."""
    if duration_s <= 0:
        raise ValueError(f"scene duration must be positive, got {duration_s}")
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise ValueError(f"scene size must be even and at least 16x16, got {width}x{height}")
    picture = (
        f"scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},setsar=1,"
        f"fps={fps},format=yuv420p,tpad=stop_mode=clone:stop_duration={_n(duration_s)},trim=duration={_n(duration_s)}"
    )
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-y", "-v", "error", "-i", str(Path(source).resolve()),
        "-map", "0:v:0", "-vf", picture, "-an", "-c:v", "libx264", "-preset", preset, "-crf", str(crf),
        "-pix_fmt", "yuv420p", "-r", str(fps), "-movflags", "+faststart", "-f", "mp4", str(out),
    ]  # fmt: skip


def fit_clip(
    source: Path,
    out: Path,
    *,
    duration_s: float,
    width: int,
    height: int,
    fps: int = 30,
    timeout_s: float = 300.0,
) -> Path:
    """Cut a downloaded or generated clip to the scene's length and size (a short clip holds its last frame)."""
    out = Path(out)
    with atomic_path(out) as tmp:
        args = fit_clip_command(
            source, tmp, duration_s=duration_s, width=width, height=height, fps=fps, ffmpeg=ffmpeg_exe()
        )
        try:
            run_ffmpeg(args, timeout_s=timeout_s, what=f"fitting {Path(source).name} to the scene")
        except FFmpegError as exc:
            raise RenderError(
                f"cannot use {Path(source).name} as a scene clip: {exc}", stderr_tail=exc.stderr_tail
            ) from exc
    return out
