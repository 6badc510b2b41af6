"""Render benchmark: one 30 s spec rendered six ways, at 720x1280 and 1080x1920, interleaved, medians.

  (a)  moviepy frame-by-frame composite, the way open-source short-video generators do it
       (VideoFileClip per scene, TextClip(method="caption") per line, CompositeVideoClip, write_videofile)
  (a2) the same composite tuned as far as moviepy allows (use_bgclip=True, pre-wrapped label captions)
  (b)  shortvid: render_video on the decoded clips, drawing the caption track (word-highlighted lines +
       overlays) while its soundtrack is mixed
  (c)  a bare ffmpeg encode of the same decoded clips and voice with shortvid's encoder settings (x264 preset,
       crf, 2 s keyframe interval): no captions, no mixing
  (b') shortvid with its procedural visuals drawn inside the render graph
  (d)  an encode of the very same procedural background: no captions, no mixing

Every run is a fresh subprocess; its wall time and the peak of the RSS summed over its whole process
tree (the Python process and every ffmpeg it starts), sampled with psutil every 20 ms, are recorded.
Runs are interleaved (each repetition runs every variant once, in a rotated order) so that load from
other work on the machine spreads over all variants; figures are medians.

    .venv/bin/python benchmarks/render.py --repeat 5          # the full run (about 25 minutes on 2 cores)
    .venv/bin/python benchmarks/render.py --quick             # 1 repetition, 8 s, 720x1280: a smoke test

The last output line is one JSON object with the ratios the README quotes.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shortvid_assets.domain.captions import (  # noqa: E402
    caption_cues_from_words,
    default_font_path,
    overlay_cues,
    render_caption_track,
)
from shortvid_assets.domain.ffmpeg import ffmpeg_exe, run_ffmpeg  # noqa: E402
from shortvid_assets.domain.models import TextOverlay, WordTiming  # noqa: E402
from shortvid_assets.domain.procedural import gradient_source, render_procedural_clip  # noqa: E402
from shortvid_assets.domain.render import GeneratedClip, RenderSpec, render_video  # noqa: E402

VARIANTS = ("a", "a2", "b", "c", "b_proc", "d")
LABELS = {
    "a": "(a) moviepy composite",
    "a2": "(a2) moviepy tuned",
    "b": "(b) shortvid",
    "c": "(c) bare ffmpeg encode",
    "b_proc": "(b') shortvid, procedural in-graph",
    "d": "(d) procedural encode, bare",
}
SCENE_S = 3.0
FPS = 30
CRF = 21
MUSIC_VOLUME = 0.15
SCRIPT = (
    "Three tricks nobody tells you about your morning coffee. First, warm the cup before you pour. "
    "Second, grind the beans right before brewing, never the night before. Third, keep the water just "
    "off the boil so the flavour stays sweet. Small changes, big difference in every single cup. "
    "Try all three tomorrow and taste it for yourself. Follow for more tiny upgrades to your day."
)


# --- inputs ------------------------------------------------------------------------------------------------


def _overlays(duration: float) -> list[TextOverlay]:
    return [
        TextOverlay(text="3 coffee tricks nobody tells you", start_s=0.0, end_s=min(3.0, duration), position="top",
                    style="hook"),
        TextOverlay(text="Warm the cup first", start_s=duration * 0.3, end_s=duration * 0.3 + 2.5,
                    position="center", style="body"),
        TextOverlay(text="Follow for more", start_s=duration - 3.0, end_s=duration, position="bottom", style="cta"),
    ]  # fmt: skip


def prepare_inputs(folder: Path, width: int, height: int, duration: float, preset: str) -> dict:
    """Scene clips (MP4), voice (WAV with word timings) and music for one size; reused by every run."""
    from shortvid_assets.domain.offline_voice import synthesize_offline, write_wav

    folder.mkdir(parents=True, exist_ok=True)
    scenes = max(1, round(duration / SCENE_S))
    durations = [duration / scenes] * scenes
    clips = []
    for i in range(scenes):
        path = folder / f"scene-{i:02d}.mp4"
        if not path.exists():
            render_procedural_clip(path, duration_s=durations[i], width=width, height=height, fps=FPS,
                                   seed=f"bench-{i}", prompt="warm golden coffee", preset=preset, crf=CRF)  # fmt: skip
        clips.append(path)
    voice, words_file = folder / "voice.wav", folder / "words.json"
    if not voice.exists():
        speech = synthesize_offline(SCRIPT, words_per_minute=175)
        write_wav(speech, voice)
        scale = min(1.0, (duration - 0.3) / speech.duration_s)
        if scale < 1.0:  # keep it inside the video: speed it up with atempo and scale the word times
            fast = folder / "voice-fast.wav"
            run_ffmpeg([ffmpeg_exe(), "-v", "error", "-y", "-i", str(voice), "-af", f"atempo={1 / scale:.4f}",
                        str(fast)])  # fmt: skip
            fast.replace(voice)
        words = [
            {"word": w.word, "start_s": w.start_s * scale, "end_s": w.end_s * scale} for w in speech.words
        ]
        words_file.write_text(json.dumps(words))
    music = folder / "music.wav"
    if not music.exists():
        chord = "+".join(f"0.2*sin(2*PI*{f}*t)" for f in (220, 277.2, 329.6))
        run_ffmpeg([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"aevalsrc={chord}*(0.6+0.4*sin(2*PI*2*t)):s=44100:d=8", "-ac", "2", str(music)])  # fmt: skip
    return {
        "clips": [str(c) for c in clips],
        "durations": durations,
        "voice": str(voice),
        "music": str(music),
        "words": json.loads(words_file.read_text()),
        "width": width,
        "height": height,
        "duration": duration,
        "preset": preset,
    }


# --- the variants (each runs in its own subprocess) ------------------------------------------------------


def run_shortvid(spec_in: dict, out: Path, procedural: bool) -> None:
    width, height, duration = spec_in["width"], spec_in["height"], spec_in["duration"]
    words = [WordTiming(**w) for w in spec_in["words"]]
    if procedural:
        clips = [
            GeneratedClip(
                gradient_source(
                    duration_s=d,
                    width=width,
                    height=height,
                    fps=FPS,
                    seed=f"bench-{i}",
                    prompt="warm golden coffee",
                )
            )
            for i, d in enumerate(spec_in["durations"])
        ]
    else:
        clips = [Path(c) for c in spec_in["clips"]]
    spec = RenderSpec(
        clips=clips,
        clip_durations=spec_in["durations"],
        transitions=["cut"] * (len(clips) - 1),
        captions=[],
        voice=Path(spec_in["voice"]),
        music=Path(spec_in["music"]),
        music_volume=MUSIC_VOLUME,
        width=width,
        height=height,
        fps=FPS,
        preset=spec_in["preset"],
        crf=CRF,
        duration_s=duration,
    )
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        # As the composed_video asset does: the caption track is drawn while the soundtrack is mixed.
        draw = functools.partial(
            render_caption_track, words, _overlays(duration), Path(tmp), width=width, height=height
        )
        rendered = render_video(spec, out, out.with_suffix(".jpg"), captions=draw)
    # Where the time went, for the driver's log (stdout of this subprocess).
    stages = {f"{k}_s": round(v, 2) for k, v in rendered.stage_seconds.items()}
    print(json.dumps({"stages": {**stages, "render_video_s": round(rendered.seconds, 2)}}))


def run_bare(spec_in: dict, out: Path, procedural: bool) -> None:
    """Concatenate and encode the inputs with shortvid's encoder settings (as `build_render_command`), nothing else."""
    width, height = spec_in["width"], spec_in["height"]
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-v", "error"]
    chains = []
    n = len(spec_in["durations"])
    if procedural:
        # The same lavfi inputs shortvid uses, with nothing added but the scale to the output size.
        for i, d in enumerate(spec_in["durations"]):
            source = gradient_source(duration_s=d, width=width, height=height, fps=FPS, seed=f"bench-{i}",
                                     prompt="warm golden coffee")  # fmt: skip
            args += ["-f", "lavfi", "-i", source]
            chains.append(f"[{i}:v]format=yuv420p,scale={width}:{height}:flags=bicubic,setsar=1[v{i}]")
    else:
        for clip in spec_in["clips"]:
            args += ["-i", clip]
        chains += [f"[{i}:v]setsar=1[v{i}]" for i in range(n)]
    voice_index = n
    args += ["-i", spec_in["voice"]]
    chains.append("".join(f"[v{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0[vout]")
    args += ["-filter_complex", ";".join(chains), "-map", "[vout]", "-map", f"{voice_index}:a"]
    args += ["-c:v", "libx264", "-preset", spec_in["preset"], "-crf", str(CRF), "-pix_fmt", "yuv420p",
             "-r", str(FPS), "-g", str(FPS * 2), "-c:a", "aac", "-b:a", "160k", "-ar", "48000", "-ac", "2", "-movflags", "+faststart", str(out)]  # fmt: skip
    run_ffmpeg(args, timeout_s=1800)


def _caption_lines(spec_in: dict) -> list[tuple[str, float, float, str, str]]:
    """(text, start, end, position, style) of every caption line: the overlays and the spoken lines."""
    words = [WordTiming(**w) for w in spec_in["words"]]
    cues = [*overlay_cues(_overlays(spec_in["duration"])), *caption_cues_from_words(words)]
    return [(c.text, c.start_s, c.end_s, c.position, c.style) for c in cues]


def run_moviepy(spec_in: dict, out: Path, tuned: bool) -> None:
    """The moviepy 2.x composite; `tuned` = use_bgclip=True and captions wrapped beforehand (label)."""
    from moviepy import (
        AudioFileClip,
        CompositeAudioClip,
        CompositeVideoClip,
        TextClip,
        VideoFileClip,
        afx,
        concatenate_videoclips,
    )

    width, height, duration = spec_in["width"], spec_in["height"], spec_in["duration"]
    font = str(default_font_path())
    clips = [
        VideoFileClip(c).subclipped(0, d) for c, d in zip(spec_in["clips"], spec_in["durations"], strict=True)
    ]
    video = concatenate_videoclips(clips).with_duration(duration)
    texts = []
    scale = {"caption": 0.070, "hook": 0.085, "body": 0.062, "cta": 0.075}
    for text, start, end, position, style in _caption_lines(spec_in):
        size = round(min(width, height) * scale[style])
        common = dict(
            font=font, font_size=size, color="white", stroke_color="black", stroke_width=max(1, size // 12)
        )
        if tuned:
            wrapped = "\n".join(textwrap.wrap(text, width=max(8, int(width * 0.85 / (size * 0.6)))))
            clip = TextClip(text=wrapped, method="label", text_align="center", **common)
        else:
            clip = TextClip(text=text, method="caption", size=(int(width * 0.85), None), text_align="center",
                            **common)  # fmt: skip
        y = {"top": height * 0.12, "center": (height - clip.h) / 2, "bottom": height * 0.8 - clip.h}[position]
        texts.append(clip.with_start(start).with_duration(end - start).with_position(("center", y)))
    final = CompositeVideoClip([video, *texts], size=(width, height), use_bgclip=tuned)
    voice = AudioFileClip(spec_in["voice"])
    music = AudioFileClip(spec_in["music"]).with_effects([afx.AudioLoop(duration=duration)])
    music = music.with_effects([afx.MultiplyVolume(MUSIC_VOLUME)])
    final = final.with_audio(CompositeAudioClip([voice, music]).with_duration(duration)).with_duration(
        duration
    )
    final.write_videofile(str(out), fps=FPS, codec="libx264", audio_codec="aac", preset=spec_in["preset"],
                          ffmpeg_params=["-crf", str(CRF), "-pix_fmt", "yuv420p", "-movflags", "+faststart"],
                          temp_audiofile_path=str(out.parent), logger=None)  # fmt: skip
    final.close()
    for clip in clips:
        clip.close()


def run_one(variant: str, inputs: Path, out: Path) -> None:
    spec_in = json.loads(inputs.read_text())
    if variant in ("a", "a2"):
        run_moviepy(spec_in, out, tuned=variant == "a2")
    elif variant in ("b", "b_proc"):
        run_shortvid(spec_in, out, procedural=variant == "b_proc")
    else:
        run_bare(spec_in, out, procedural=variant == "d")


# --- the driver --------------------------------------------------------------------------------------------


def measure(variant: str, inputs: Path, out: Path) -> tuple[float, float, str]:
    """Run one variant in a subprocess; (wall seconds, peak RSS in MB over its process tree, its stage times)."""
    out.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--run-one", variant, "--inputs", str(inputs), "--out", str(out)]
    with tempfile.TemporaryFile() as stdout:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
        root = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in procs:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    total += p.memory_info().rss
            peak = max(peak, total)
            time.sleep(0.02)
        seconds = time.monotonic() - started
        stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        proc.wait()
        if proc.returncode != 0 or not out.is_file():
            raise SystemExit(f"variant {variant} failed (exit {proc.returncode}):\n{stderr[-3000:]}")
        stdout.seek(0)
        printed = stdout.read().decode("utf-8", "replace").splitlines()
    stages = ""
    for line in printed:
        if line.startswith('{"stages"'):
            stages = ", ".join(f"{k} {v}" for k, v in json.loads(line)["stages"].items())
    return seconds, peak / 1e6, stages


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of every variant (median taken)")
    parser.add_argument("--sizes", default="720x1280,1080x1920")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--preset", default="veryfast", help="x264 preset for every variant")
    parser.add_argument("--workdir", default=str(ROOT / ".shortvid" / "bench"))
    parser.add_argument("--quick", action="store_true", help="1 repetition, 8 s, 720x1280 only")
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        run_one(args.run_one, Path(args.inputs), Path(args.out))
        return
    if args.quick:
        args.repeat, args.duration, args.sizes = 1, 8.0, "720x1280"
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    variants = [v for v in args.variants.split(",") if v]
    work = Path(args.workdir)
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())  # fmt: skip
    print(f"machine: {os.cpu_count()} cpus, {cpu}; load average {os.getloadavg()[0]:.2f}", flush=True)
    print(
        f"spec: {args.duration:g} s, {FPS} fps, x264 {args.preset} crf {CRF}, repeat {args.repeat}",
        flush=True,
    )

    input_files = {}
    for w, h in sizes:
        folder = work / f"inputs-{w}x{h}-{args.duration:g}s-{args.preset}"
        spec_in = prepare_inputs(folder, w, h, args.duration, args.preset)
        input_files[(w, h)] = folder / "spec.json"
        input_files[(w, h)].write_text(json.dumps(spec_in))

    times: dict[tuple[str, tuple[int, int]], list[float]] = {}
    rss: dict[tuple[str, tuple[int, int]], list[float]] = {}
    runs = [(v, s) for s in sizes for v in variants]
    for rep in range(args.repeat):
        shift = rep % len(runs)
        for variant, size in runs[shift:] + runs[:shift]:  # rotate the order each repetition
            out = work / f"out-{variant}-{size[0]}x{size[1]}.mp4"
            seconds, peak, stages = measure(variant, input_files[size], out)
            times.setdefault((variant, size), []).append(seconds)
            rss.setdefault((variant, size), []).append(peak)
            print(f"rep {rep + 1} {LABELS[variant]:38s} {size[0]}x{size[1]}: {seconds:7.2f} s, "
                  f"peak {peak:7.0f} MB" + (f" ({stages})" if stages else ""), flush=True)  # fmt: skip

    med = {key: statistics.median(v) for key, v in times.items()}
    peak_med = {key: statistics.median(v) for key, v in rss.items()}
    print()
    print("| variant | " + " | ".join(f"{w}x{h} s (peak MB)" for w, h in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for v in variants:
        cells = [f"{med[(v, s)]:.1f} ({peak_med[(v, s)]:.0f})" if (v, s) in med else "-" for s in sizes]
        print(f"| {LABELS[v]} | " + " | ".join(cells) + " |")

    def ratio(a: str, b: str, size: tuple[int, int]) -> float | None:
        if (a, size) in med and (b, size) in med:
            return round(med[(a, size)] / med[(b, size)], 3)
        return None

    small = min(sizes, key=lambda s: s[0] * s[1])
    big = max(sizes, key=lambda s: s[0] * s[1])
    summary = {
        "shortvid_vs_bare": ratio("b", "c", big),
        "shortvid_vs_bare_720p": ratio("b", "c", small),
        "moviepy_vs_shortvid": ratio("a", "b", small),
        "moviepy_vs_shortvid_1080p": ratio("a", "b", big),
        "tuned_moviepy_vs_shortvid": ratio("a2", "b", small),
        "tuned_moviepy_vs_shortvid_1080p": ratio("a2", "b", big),
        "procedural_vs_floor": ratio("b_proc", "d", big),
        "procedural_vs_floor_720p": ratio("b_proc", "d", small),
        "procedural_in_graph_vs_decoded_clips": ratio("b_proc", "b", big),
        "shortvid_peak_rss_mb": round(peak_med[("b", big)]) if ("b", big) in peak_med else None,
        "shortvid_procedural_peak_rss_mb": round(peak_med[("b_proc", big)])
        if ("b_proc", big) in peak_med
        else None,
        "moviepy_peak_rss_mb": round(peak_med[("a", big)]) if ("a", big) in peak_med else None,
        "medians_s": {f"{v}@{s[0]}x{s[1]}": round(t, 2) for (v, s), t in med.items()},
        "repeat": args.repeat,
        "duration_s": args.duration,
        "preset": args.preset,
        "cpus": os.cpu_count(),
        "cpu": cpu,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
