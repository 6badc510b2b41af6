"""Protects the one-pass composition and the ffmpeg runner: the filter graph, real renders, failures, timeouts."""

from __future__ import annotations

import os
import stat
import time
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from shortvid_assets.domain import render as render_module
from shortvid_assets.domain.captions import (
    CaptionCue,
    CaptionImage,
    CaptionTrack,
    FontNotFoundError,
    caption_boxes_in_safe_zone,
    render_caption_png,
    render_caption_track,
)
from shortvid_assets.domain.ffmpeg import (
    FFmpegError,
    FFmpegNotFoundError,
    FFmpegTimeoutError,
    ffmpeg_exe,
    run_ffmpeg,
)
from shortvid_assets.domain.models import WordTiming
from shortvid_assets.domain.probe import (
    audio_mean_volume_db,
    black_runs,
    extract_frame,
    faststart,
    integrated_loudness_lufs,
    probe_media,
)
from shortvid_assets.domain.procedural import gradient_source, render_procedural_clip
from shortvid_assets.domain.render import (
    GeneratedClip,
    LoudnessMeasurement,
    RenderError,
    RenderSpec,
    RenderTimeoutError,
    build_render_command,
    fit_clip,
    limiter_trial_command,
    mix_command,
    mix_soundtrack,
    parse_ebur128_summaries,
    parse_ebur128_summary,
    render_video,
    soundtrack_command,
)

W, H = 216, 384
EVIL_TEXT = "x';[0:v]drawtext=text='pwned':fontfile=/etc/passwd[v];movie=/etc/shadow"


def _fake_ffmpeg(folder: Path, body: str) -> Path:
    """A stand-in ffmpeg: a shell script with the given body."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ffmpeg"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _graph(args: list[str]) -> str:
    return args[args.index("-filter_complex") + 1]


def _video_command(spec: RenderSpec) -> list[str]:
    return build_render_command(spec, Path("o.mp4"), Path("t.jpg"), soundtrack=Path("/in/soundtrack.wav"))


def _audio_command(spec: RenderSpec) -> list[str]:
    return mix_command(spec, Path("/out/mix.wav"))


def _region_diff(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> float:
    return max(ImageStat.Stat(ImageChops.difference(a.crop(box), b.crop(box))).mean)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three tiny clips, a speech-like mono voice, a stereo music loop."""
    folder = tmp_path_factory.mktemp("media")
    clips = [
        render_procedural_clip(
            folder / f"clip{i}.mp4", duration_s=1.2, width=W, height=H, seed=f"s{i}", preset="ultrafast"
        )
        for i in range(3)
    ]
    voice, music = folder / "voice.wav", folder / "music.wav"
    tone = "0.6*sin(2*PI*220*t)*(0.5+0.5*sin(2*PI*3*t))"
    run_ffmpeg(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"aevalsrc={tone}:s=22050:d=2.4", str(voice)]
    )
    run_ffmpeg(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=523:d=1.1", "-ac", "2", str(music)]
    )
    return {
        "clip0": clips[0],
        "clip1": clips[1],
        "clip2": clips[2],
        "voice": voice,
        "music": music,
        "dir": folder,
    }


def _spec(media: dict[str, Path], **changes) -> RenderSpec:
    base = RenderSpec(
        clips=[media["clip0"], media["clip1"], media["clip2"]],
        clip_durations=[1.0, 1.0, 1.0],
        transitions=["fade", "cut"],
        captions=[],
        voice=media["voice"],
        width=W,
        height=H,
        preset="ultrafast",
    )
    return replace(base, **changes)


# --- the pure command builder ---------------------------------------------------------------------------


def _paper_spec(**changes) -> RenderSpec:
    base = RenderSpec(
        clips=[Path("/in/a.mp4"), Path("/in/b.mp4"), Path("/in/c.mp4")],
        clip_durations=[2.0, 2.0, 2.0],
        transitions=["cut", "cut"],
        captions=[CaptionImage(Path("/in/cap.png"), x=20, y=250, w=170, h=40, start_s=1.0, end_s=2.0)],
        voice=Path("/in/voice.wav"),
        width=W,
        height=H,
    )
    return replace(base, **changes)


def test_command_normalises_every_clip_and_joins_cuts_with_concat() -> None:
    args = build_render_command(
        _paper_spec(), Path("out.mp4"), Path("thumb.jpg"), soundtrack=Path("/in/soundtrack.wav")
    )
    graph = _graph(args)
    for i in range(3):
        assert (
            f"[{i}:v]scale={W}:{H}:force_original_aspect_ratio=increase,crop={W}:{H},setsar=1,fps=30" in graph
        )
    assert graph.count("concat=") == 1 and "[c0][c1][c2]concat=n=3:v=1:a=0" in graph, "cuts: one concat"
    assert "xfade" not in graph and "split=3" not in graph
    assert "trim=duration=6.000" in graph, "the picture is fitted to the total duration"
    assert args[args.index("-movflags") + 1] == "+faststart"
    assert args[args.index("-c:v") + 1] == "libx264" and args[args.index("-pix_fmt") + 1] == "yuv420p"
    assert "-update" in args and args[-1] == "thumb.jpg"
    assert "[tsrc]trim=start=1.000:duration=0.067," in graph, (
        "the thumbnail comes from the same graph, from a branch that ends after its frame"
    )


def test_video_pass_only_encodes_the_finished_soundtrack() -> None:
    args = _video_command(_paper_spec(music=Path("/in/music.mp3")))
    graph = _graph(args)
    soundtrack_input = args.index("/in/soundtrack.wav")
    assert args[soundtrack_input - 1] == "-i"
    index = sum(1 for a in args[:soundtrack_input] if a == "-i") - 1
    assert args[args.index("-map", args.index("-map") + 1) + 1] == f"{index}:a:0"
    assert args[args.index("-c:a") + 1] == "aac" and args[args.index("-b:a") + 1] == "160k"
    assert args[args.index("-ar") + 1] == "48000" and args[args.index("-ac") + 1] == "2"
    assert "/in/voice.wav" not in args and "/in/music.mp3" not in args
    assert not any(f in graph for f in ("amix", "volume", "alimiter", "loudnorm", "apad", "aformat"))


@pytest.mark.parametrize(("transition", "kind"), [("fade", "fadeblack"), ("dissolve", "fade")])
def test_command_uses_xfade_at_clip_boundaries(transition: str, kind: str) -> None:
    graph = _graph(_video_command(_paper_spec(transitions=[transition, transition])))
    assert "trim=duration=2.500" in graph, "a clip that fades out runs on under the next one"
    # Only the overlapping half-seconds go through xfade (which works in 4:4:4), then back to 4:2:0.
    assert "[tin0]trim=start=2.000,setpts=PTS-STARTPTS[t0]" in graph
    assert "[hin1]trim=duration=0.500,setpts=PTS-STARTPTS[h1]" in graph
    assert f"[t0][h1]xfade=transition={kind}:duration=0.500:offset=0,format=yuv420p[x0]" in graph
    assert f"[t1][h2]xfade=transition={kind}:duration=0.500:offset=0,format=yuv420p[x1]" in graph
    assert "[bin1]trim=start=0.500:end=2.000,setpts=PTS-STARTPTS[b1]" in graph
    assert "[b0][x0][b1][x1][b2]concat=n=5:v=1:a=0" in graph, "2 + 0.5 + 1.5 + 0.5 + 1.5 = 6 s"


def test_cuts_and_transitions_mix_in_one_timeline() -> None:
    graph = _graph(_video_command(_paper_spec(transitions=["cut", "dissolve"])))
    assert "[c0][b1][x1][b2]concat=n=4:v=1:a=0" in graph, "a cut clip joins whole"
    assert "[t1][h2]xfade=transition=fade:duration=0.500:offset=0" in graph
    assert graph.count("xfade") == 1 and "[c0]split" not in graph


def test_mix_pads_the_voice_to_the_total_and_meters_it() -> None:
    args = _audio_command(_paper_spec())
    graph = _graph(args)
    assert args[args.index("-i") + 1] == "/in/voice.wav" and args.count("-i") == 1, "audio inputs only"
    assert "apad=whole_dur=6.000" in graph
    assert graph.endswith(",ebur128=framelog=quiet:peak=sample[aout]"), "metered as it is written"
    assert "amix" not in graph and "sidechaincompress" not in graph and "-stream_loop" not in args
    assert args[args.index("-c:a") + 1] == "pcm_f32le", "lossless between passes; the video pass encodes once"
    assert args[-3:] == ["-f", "wav", "/out/mix.wav"]
    assert "ebur128" not in _graph(_audio_command(_paper_spec(loudness_lufs=None))), "no target, no meter"


def test_mix_loops_ducks_and_mixes_the_music_without_normalising_inputs() -> None:
    args = _audio_command(_paper_spec(music=Path("/in/music.mp3"), music_volume=0.2))
    graph = _graph(args)
    music_at = args.index("/in/music.mp3")
    assert args[music_at - 3 : music_at] == ["-stream_loop", "-1", "-i"]
    assert "volume=0.2000" in graph
    assert "sidechaincompress" in graph
    assert "amix=inputs=2:duration=first:normalize=0" in graph
    assert graph.count("aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo") >= 2


def test_command_overlays_captions_in_time_with_alpha_fades() -> None:
    graph = _graph(_video_command(_paper_spec()))
    assert "fade=t=in:st=1.000:d=0.150:alpha=1" in graph
    assert "fade=t=out:st=1.850:d=0.150:alpha=1" in graph
    assert "overlay=x=20:y=250" in graph and "enable='between(t,1.000,2.000)'" in graph
    assert "format=auto" not in graph and "eof_action=pass:format=yuv420" in graph


def test_captions_blend_onto_the_yuv420_picture_without_converting_every_frame(
    media: dict, tmp_path: Path
) -> None:
    words = [
        WordTiming(word="Hello", start_s=0.2, end_s=1.0),
        WordTiming(word="there", start_s=1.0, end_s=2.0),
    ]
    track = render_caption_track(words, [], tmp_path / "caps", width=W, height=H)
    cap = render_caption_png(
        CaptionCue("Top line", 0.5, 1.5, position="top"), tmp_path / "c.png", width=W, height=H
    )
    spec = _spec(media, captions=[cap], caption_streams=track.streams, transitions=["cut", "cut"])
    args = build_render_command(
        spec, tmp_path / "v.mp4", tmp_path / "t.jpg", ffmpeg_exe(), soundtrack=media["voice"]
    )
    args[args.index("-v") + 1] = "verbose"  # ffmpeg then logs each overlay's negotiated formats
    stderr = run_ffmpeg(args).stderr
    mains = [line.split("main ", 1)[1] for line in stderr.splitlines() if "] main w:" in line]
    assert len(mains) == 2 and all(f"w:{W} h:{H} fmt:yuv420p " in m for m in mains), mains
    assert not [
        line
        for line in stderr.splitlines()
        if "auto_scale" in line
        and f"w:{W} h:{H} fmt:yuv420p" in line
        and "-> " in line
        and "yuvj420p" not in line
    ], "no full-frame conversion around the overlays"


def test_untrusted_caption_text_and_paths_never_reach_the_filter_graph(tmp_path: Path) -> None:
    weird_dir = tmp_path / "a;b[c]'d,e=f"
    cap = render_caption_png(CaptionCue(EVIL_TEXT, 0.5, 1.5), weird_dir / "cap';[x].png", width=W, height=H)
    args = _video_command(_paper_spec(captions=[cap]))
    assert not any("pwned" in a or "/etc/passwd" in a or "drawtext" in a for a in args)
    graph = _graph(args)
    assert "cap';[x]" not in graph and str(weird_dir) not in graph
    assert args[args.index(str(cap.path.resolve())) - 1] == "-i", "the caption file is only ever an input"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"clip_durations": [2.0, 2.0]}, "3 clips but 2 clip durations"),
        ({"transitions": ["cut", "wipe"]}, "unknown transitions"),
        ({"transitions": ["cut"]}, "need 2 transitions"),
        ({"width": 215}, "even"),
        ({"clips": [], "clip_durations": [], "transitions": []}, "no clips"),
        ({"clip_durations": [2.0, 0.0, 2.0]}, "positive"),
    ],
)
def test_command_rejects_inconsistent_specs(changes: dict, message: str) -> None:
    with pytest.raises(RenderError, match=message):
        _video_command(_paper_spec(**changes))


# --- real renders ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(media: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The same 3 s video rendered with one caption and without it."""
    out = tmp_path_factory.mktemp("render")
    cap = render_caption_png(CaptionCue("Hello there", 0.8, 1.8), out / "cap.png", width=W, height=H)
    percents: list[float] = []
    with_caption = render_video(
        _spec(media, captions=[cap]),
        out / "final" / "video.mp4",
        out / "final" / "thumb.jpg",
        on_progress=percents.append,
    )
    without = render_video(_spec(media), out / "plain" / "video.mp4", out / "plain" / "thumb.jpg")
    return {"result": with_caption, "plain": without, "caption": cap, "percents": percents, "dir": out}


def test_render_is_h264_aac_at_the_requested_shape_and_duration(rendered: dict) -> None:
    info = probe_media(rendered["result"].video)
    assert (info.video_codec, info.pix_fmt, info.width, info.height) == ("h264", "yuv420p", W, H)
    assert info.fps == pytest.approx(30)
    assert (info.audio_codec, info.audio_sample_rate, info.audio_channels) == ("aac", 48000, 2)
    assert info.duration_s == pytest.approx(3.0, abs=0.1)
    assert faststart(rendered["result"].video)
    assert audio_mean_volume_db(rendered["result"].video) > -35, "the voice is audible"
    assert rendered["result"].seconds > 0
    assert sorted(p.name for p in (rendered["dir"] / "final").iterdir()) == ["thumb.jpg", "video.mp4"]


def test_caption_shows_only_between_its_start_and_end(rendered: dict) -> None:
    cap: CaptionImage = rendered["caption"]
    box = (cap.x, cap.y, cap.x + cap.w, cap.y + cap.h)
    video, plain = rendered["result"].video, rendered["plain"].video
    during = _region_diff(extract_frame(video, 1.3), extract_frame(plain, 1.3), box)
    before = _region_diff(extract_frame(video, 0.4), extract_frame(plain, 0.4), box)
    after = _region_diff(extract_frame(video, 2.4), extract_frame(plain, 2.4), box)
    assert during > 15, f"caption should be visible at 1.3 s (difference {during:.1f})"
    assert before < 4 and after < 4, f"caption should be absent outside its time ({before:.1f}, {after:.1f})"


def test_thumbnail_is_a_jpeg_of_the_frame_at_its_time(rendered: dict) -> None:
    thumb_path = rendered["result"].thumbnail
    assert thumb_path.read_bytes()[:3] == b"\xff\xd8\xff"
    thumb = Image.open(thumb_path)
    assert thumb.format == "JPEG" and thumb.size == (W, H)
    frame = extract_frame(rendered["result"].video, 1.0)
    assert _region_diff(thumb.convert("RGB"), frame, (0, 0, W, H)) < 8


def test_progress_is_reported_in_increasing_percents_up_to_100(rendered: dict) -> None:
    percents = rendered["percents"]
    assert percents, "the callback was called"
    assert percents == sorted(set(percents)), "strictly increasing"
    assert percents[-1] == 100.0 and all(0 <= p <= 100 for p in percents)


def test_cut_only_render_with_music_and_a_longer_total_holds_the_last_frame(
    media: dict, tmp_path: Path
) -> None:
    spec = _spec(media, transitions=["cut", "cut"], music=media["music"], duration_s=3.5)
    result = render_video(spec, tmp_path / "v.mp4", tmp_path / "t.jpg")
    info = probe_media(result.video)
    assert info.duration_s == pytest.approx(3.5, abs=0.1)
    assert _region_diff(extract_frame(result.video, 3.05), extract_frame(result.video, 3.4), (0, 0, W, H)) < 3


def test_failing_ffmpeg_raises_with_its_last_lines_and_leaves_no_file(media: dict, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00garbage" * 500)
    spec = _spec(media, clips=[media["clip0"], broken, media["clip2"]])
    with pytest.raises(RenderError, match="Invalid data") as info:
        render_video(spec, tmp_path / "out" / "v.mp4", tmp_path / "out" / "t.jpg")
    assert "broken.mp4" in info.value.stderr_tail
    assert os.listdir(tmp_path / "out") == [], "no final and no temporary file is left"


def test_missing_input_is_named_before_running_ffmpeg(media: dict, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"do not exist: .*missing\.wav"):
        render_video(_spec(media, voice=tmp_path / "missing.wav"), tmp_path / "v.mp4", tmp_path / "t.jpg")
    assert not (tmp_path / "v.mp4").exists()


@pytest.mark.parametrize("loudness", [None, -14.0], ids=["render-pass", "with-loudness-analysis"])
def test_timeout_kills_a_real_render_and_leaves_nothing(
    media: dict, tmp_path: Path, loudness: float | None
) -> None:
    spec = _spec(media, duration_s=60.0, loudness_lufs=loudness)
    out = tmp_path / "out"
    started = time.monotonic()
    with pytest.raises(RenderTimeoutError, match=r"longer than 0\.3s"):
        render_video(spec, out / "v.mp4", out / "t.jpg", timeout_s=0.3)
    assert time.monotonic() - started < 10
    assert not out.exists() or os.listdir(out) == []


# --- the ffmpeg runner ----------------------------------------------------------------------------------


def test_timeout_kills_the_ffmpeg_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pid_file = tmp_path / "pid"
    fake = _fake_ffmpeg(tmp_path / "bin", f"echo $$ > {pid_file}\nexec sleep 30")
    with pytest.raises(FFmpegTimeoutError):
        run_ffmpeg([str(fake)], timeout_s=0.5)
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_progress_lines_become_increasing_percents(tmp_path: Path) -> None:
    lines = "out_time_us=750000 progress=continue out_time_us=750000 out_time_us=1500000 out_time_us=N/A progress=end"
    fake = _fake_ffmpeg(tmp_path, f"for l in {lines}; do echo $l; done")
    seen: list[float] = []
    run_ffmpeg([str(fake)], progress_duration_s=3.0, on_progress=seen.append)
    assert seen == [25.0, 50.0, 100.0]


def test_heavy_stderr_does_not_deadlock_and_its_tail_is_reported(tmp_path: Path) -> None:
    body = "i=0; while [ $i -lt 20000 ]; do echo \"noise line $i\" >&2; i=$((i+1)); done\necho 'the real error' >&2\nexit 3"
    fake = _fake_ffmpeg(tmp_path, body)
    with pytest.raises(FFmpegError, match="the real error") as info:
        run_ffmpeg([str(fake)], timeout_s=60)
    assert info.value.returncode == 3
    assert "noise line 0\n" not in str(info.value), "only the last lines are kept in the message"


def test_missing_ffmpeg_binary_gives_a_clear_error(
    media: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHORTVID_FFMPEG", str(tmp_path / "no-ffmpeg-here"))
    with pytest.raises(FFmpegNotFoundError, match="SHORTVID_FFMPEG"):
        ffmpeg_exe()
    with pytest.raises(RenderError, match="SHORTVID_FFMPEG"):
        render_video(_spec(media), tmp_path / "v.mp4", tmp_path / "t.jpg")
    assert not (tmp_path / "v.mp4").exists()


def test_missing_bundled_binary_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import imageio_ffmpeg

    def gone() -> str:
        raise RuntimeError("No ffmpeg exe could be found")

    monkeypatch.delenv("SHORTVID_FFMPEG", raising=False)
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", gone)
    with pytest.raises(FFmpegNotFoundError, match="imageio-ffmpeg"):
        ffmpeg_exe()


def test_env_override_selects_the_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_ffmpeg(tmp_path, "exit 0")
    monkeypatch.setenv("SHORTVID_FFMPEG", str(fake))
    assert ffmpeg_exe() == str(fake)


# --- phase 2: loudness, ducking, transitions, other sizes ----------------------------------------------


def _audio(path: Path, source: str, *extra: str) -> Path:
    run_ffmpeg([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", source, *extra, str(path)])
    return path


def _band_volume(path: Path, start: float, duration: float, freq: int) -> float:
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-ss", str(start), "-t", str(duration), "-i", str(path)]
    args += ["-af", f"bandpass=f={freq}:width_type=q:w=10,volumedetect", "-vn", "-f", "null", "-"]
    stderr = run_ffmpeg(args).stderr
    return float(stderr.rsplit("mean_volume:", 1)[1].split("dB")[0])


EBUR128_SUMMARY = """[Parsed_ebur128_0 @ 0x1] Summary:

  Integrated loudness:
    I:         -21.1 LUFS
    Threshold: -31.3 LUFS

  Loudness range:
    LRA:         3.5 LU

  Sample peak:
    Peak:       -5.6 dBFS
"""


def test_parse_ebur128_summary_reads_the_measurement_and_treats_silence_as_none() -> None:
    assert parse_ebur128_summary("noise\n" + EBUR128_SUMMARY) == LoudnessMeasurement(-21.1, -5.6)
    silent = EBUR128_SUMMARY.replace("-21.1 LUFS", "-70.0 LUFS").replace("-5.6 dBFS", "-inf dBFS")
    assert parse_ebur128_summary(silent) is None
    with pytest.raises(RenderError, match="no measurement"):
        parse_ebur128_summary("no summary here")


def test_soundtrack_applies_the_measured_gain_and_a_peak_limiter() -> None:
    measured = LoudnessMeasurement(-21.1, -5.6, limiter_loss_lu=0.4)
    args = soundtrack_command(Path("/tmp/mix.wav"), Path("/tmp/final.wav"), -14.0, measured)
    chain = args[args.index("-af") + 1]
    assert chain.startswith("volume=7.50dB,alimiter=limit=0.8414"), "gain = target - measured + limiter loss"
    assert "loudnorm" not in chain, "no 192 kHz loudnorm: the mix is measured"
    assert args[args.index("-i") + 1] == "/tmp/mix.wav" and args[-1] == "/tmp/final.wav"


def test_one_trial_pass_measures_the_limited_mix_at_several_gains() -> None:
    measured = LoudnessMeasurement(-21.1, -5.6, limiter_loss_lu=0.4)
    args = limiter_trial_command(Path("/tmp/mix.wav"), -14.0, measured, extra_gains_db=(0.0, 2.0))
    graph = _graph(args)
    assert "[0:a]asplit=2[try0][try1]" in graph and args.count("-i") == 1, "the mix is read once"
    assert "[try0]volume=7.50dB,alimiter" in graph and "[try1]volume=9.50dB,alimiter" in graph
    assert graph.count("ebur128=") == 2 and args.count("null") == 2, "one meter and one null output per gain"
    with pytest.raises(ValueError, match="at least one gain"):
        limiter_trial_command(Path("/tmp/mix.wav"), -14.0, measured, extra_gains_db=())


def test_parse_ebur128_summaries_orders_by_filter_and_checks_the_count() -> None:
    second = EBUR128_SUMMARY.replace("Parsed_ebur128_0", "Parsed_ebur128_9").replace(
        "-21.1 LUFS", "-14.2 LUFS"
    )
    first = EBUR128_SUMMARY.replace("Parsed_ebur128_0", "Parsed_ebur128_5")
    stderr = "size=N/A time=00:00:03.00\r" + second + first  # printed in any order, after a progress line
    assert parse_ebur128_summaries(stderr, 2) == [
        LoudnessMeasurement(-21.1, -5.6),
        LoudnessMeasurement(-14.2, -5.6),
    ]
    with pytest.raises(RenderError, match="printed 2 measurements, expected 3"):
        parse_ebur128_summaries(stderr, 3)


@pytest.mark.parametrize("target", [-9.0, -6.0])  # just over the limit, and far over it
def test_gain_interpolated_from_the_limited_trials_meets_the_target(
    media: dict, tmp_path: Path, target: float
) -> None:
    tone = (
        "0.5*sin(2*PI*220*t)*(0.2+0.8*gt(sin(2*PI*2*t)\\,0.9))"  # quiet with loud bursts: the limiter works
    )
    voice = _audio(tmp_path / "voice.wav", f"aevalsrc={tone}:s=22050:d=3")
    spec = _spec(media, voice=voice, music=media["music"], music_volume=0.3, loudness_lufs=target)
    soundtrack = mix_soundtrack(spec, tmp_path / "soundtrack.wav")
    measured = soundtrack.loudness
    assert measured is not None and measured.limiter_loss_lu > 0, "the limiter takes loudness off"
    assert integrated_loudness_lufs(soundtrack.path) == pytest.approx(target, abs=0.5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["soundtrack.wav", "voice.wav"], "the mix is removed"


@pytest.mark.parametrize(("voice_gain", "target"), [(0.6, -14.0), (0.03, -14.0), (0.6, -16.0)])
def test_voice_and_music_are_normalised_to_the_target_loudness(
    media: dict, tmp_path: Path, voice_gain: float, target: float
) -> None:
    tone = f"{voice_gain}*sin(2*PI*220*t)*(0.5+0.5*sin(2*PI*3*t))"
    voice = _audio(tmp_path / "voice.wav", f"aevalsrc={tone}:s=22050:d=3")
    spec = _spec(media, voice=voice, music=media["music"], music_volume=0.3, loudness_lufs=target)
    result = render_video(spec, tmp_path / "v.mp4", tmp_path / "t.jpg")
    assert integrated_loudness_lufs(result.video) == pytest.approx(target, abs=1.0)


def test_without_a_target_the_mix_keeps_its_level(media: dict, tmp_path: Path) -> None:
    voice = _audio(tmp_path / "quiet.wav", "aevalsrc=0.02*sin(2*PI*220*t):s=22050:d=3")
    result = render_video(
        _spec(media, voice=voice, loudness_lufs=None), tmp_path / "v.mp4", tmp_path / "t.jpg"
    )
    assert integrated_loudness_lufs(result.video) < -30


def test_silent_voice_renders_without_normalising_noise(media: dict, tmp_path: Path) -> None:
    voice = _audio(tmp_path / "silent.wav", "anullsrc=r=22050:cl=mono", "-t", "3")
    result = render_video(_spec(media, voice=voice), tmp_path / "v.mp4", tmp_path / "t.jpg")
    assert audio_mean_volume_db(result.video) < -60


def test_music_ducks_under_the_voice(media: dict, tmp_path: Path) -> None:
    voice = _audio(tmp_path / "voice.wav", "aevalsrc=0.5*sin(2*PI*220*t):s=22050:d=1.5")
    music = _audio(tmp_path / "music.wav", "sine=f=2000:d=1", "-ac", "2")
    spec = _spec(media, voice=voice, music=music, music_volume=0.3, duration_s=4.0, loudness_lufs=None)
    result = render_video(spec, tmp_path / "v.mp4", tmp_path / "t.jpg")
    under_voice = _band_volume(result.video, 0.4, 0.9, 2000)
    alone = _band_volume(result.video, 2.1, 0.8, 2000)
    assert alone - under_voice > 6, f"music under the voice {under_voice} dB vs alone {alone} dB"
    plain = render_video(replace(spec, duck_music=False), tmp_path / "p.mp4", tmp_path / "p.jpg")
    assert _band_volume(plain.video, 0.4, 0.9, 2000) == pytest.approx(alone, abs=1.5), (
        "no ducking when disabled"
    )


def test_soundtrack_stays_in_sync_with_the_picture(media: dict, tmp_path: Path) -> None:
    voice = _audio(tmp_path / "beep.wav", "aevalsrc=0.5*sin(2*PI*440*t)*between(t\\,1.0\\,1.5):s=22050:d=3")
    result = render_video(
        _spec(media, voice=voice, loudness_lufs=None), tmp_path / "v.mp4", tmp_path / "t.jpg"
    )
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(result.video), "-af"]
    stderr = run_ffmpeg([*args, "silencedetect=n=-40dB:d=0.1", "-vn", "-f", "null", "-"]).stderr
    onset = float(stderr.split("silence_end:", 1)[1].split("|")[0])
    assert onset == pytest.approx(1.0, abs=0.025), "the soundtrack starts where it was spoken"
    info = probe_media(result.video)
    assert info.audio_codec == "aac" and info.duration_s == pytest.approx(3.0, abs=0.05)


def test_captions_are_drawn_while_the_soundtrack_is_mixed(
    media: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spans: dict[str, tuple[float, float]] = {}
    real_mix = render_module.mix_soundtrack

    def timed_mix(*args, **kwargs):
        started = time.monotonic()
        try:
            return real_mix(*args, **kwargs)
        finally:
            spans["soundtrack"] = (started, time.monotonic())

    def draw() -> CaptionTrack:
        started = time.monotonic()
        words = [
            WordTiming(word="Hello", start_s=0.2, end_s=1.0),
            WordTiming(word="there", start_s=1.0, end_s=2.0),
        ]
        track = render_caption_track(words, [], tmp_path / "caps", width=W, height=H)
        time.sleep(0.4)  # a slow caption track: the soundtrack must not wait for it
        spans["captions"] = (started, time.monotonic())
        return track

    monkeypatch.setattr(render_module, "mix_soundtrack", timed_mix)
    music = _audio(tmp_path / "music.wav", "sine=f=523:d=1.1", "-ac", "2")
    result = render_video(_spec(media, music=music), tmp_path / "v.mp4", tmp_path / "t.jpg", captions=draw)
    (cap_start, cap_end), (mix_start, mix_end) = spans["captions"], spans["soundtrack"]
    assert mix_start < cap_end and cap_start < mix_end, f"the two overlap in time: {spans}"
    assert result.captions is not None and len(result.captions.streams) == 1
    assert set(result.stage_seconds) == {"captions", "soundtrack", "video"}
    assert result.loudness is not None, "the soundtrack was measured and normalised"
    graph = _graph(result.ffmpeg_args)
    assert graph.count("overlay=") == 1, "the drawn track is overlaid by the video pass"
    assert integrated_loudness_lufs(result.video) == pytest.approx(-14.0, abs=1.0)


def test_a_failing_caption_track_leaves_no_video(media: dict, tmp_path: Path) -> None:
    def draw() -> CaptionTrack:
        raise FontNotFoundError("caption font /nope.ttf does not exist")

    with pytest.raises(FontNotFoundError, match="nope"):
        render_video(_spec(media), tmp_path / "v.mp4", tmp_path / "t.jpg", captions=draw)
    assert list(tmp_path.iterdir()) == []


SOLID_ENCODE = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")


@pytest.fixture(scope="module")
def solid_clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Red, green and blue clips, 1.5 s each."""
    folder = tmp_path_factory.mktemp("solid")
    return [
        _audio(folder / f"{color}.mp4", f"color=c={color}:s={W}x{H}:r=30:d=1.5", *SOLID_ENCODE)
        for color in ("red", "lime", "blue")
    ]


@pytest.mark.parametrize("transition", ["cut", "fade", "dissolve"])
def test_transitions_between_real_clips(
    media: dict, solid_clips: list[Path], tmp_path: Path, transition: str
) -> None:
    spec = _spec(media, clips=solid_clips, transitions=[transition, transition], loudness_lufs=None)
    result = render_video(spec, tmp_path / "v.mp4", tmp_path / "t.jpg")
    assert probe_media(result.video).duration_s == pytest.approx(3.0, abs=0.1)
    stats = run_ffmpeg(
        [ffmpeg_exe(), "-nostdin", "-stats", "-i", str(result.video), "-map", "0:v", "-f", "null", "-"]
    )
    assert stats.stderr.replace("\r", "\n").split("frame=")[-1].split()[0] == "90", "no frame lost or doubled"
    r, g, b = extract_frame(result.video, 0.5).getpixel((W // 2, H // 2))
    assert r > 200 and g < 50, "the first clip shows first"
    r, g, b = extract_frame(result.video, 2.8).getpixel((W // 2, H // 2))
    assert b > 200 and r < 50 and g < 50, "the last clip shows last"
    r, g, b = extract_frame(result.video, 1.2).getpixel(
        (W // 2, H // 2)
    )  # mid-way through a 0.4 s transition
    if transition == "cut":
        assert g > 200 and r < 50, "a cut switches at once"
    elif transition == "fade":
        assert max(r, g, b) < 100, f"a fade dips through black, got {(r, g, b)}"
    else:
        assert r > 60 and g > 60, f"a dissolve blends both clips, got {(r, g, b)}"
    assert black_runs(result.video, min_s=1.0) == []


@pytest.mark.parametrize(("width", "height"), [(720, 1280), (384, 216), (256, 256)])
def test_other_output_sizes(media: dict, tmp_path: Path, width: int, height: int) -> None:
    cap = render_caption_png(
        CaptionCue("Any size works", 0.2, 1.0, "bottom"), tmp_path / "c.png", width=width, height=height
    )
    assert caption_boxes_in_safe_zone([cap], width, height) == []
    spec = _spec(
        media, clip_durations=[0.4, 0.4, 0.4], captions=[cap], width=width, height=height, loudness_lufs=None
    )
    result = render_video(spec, tmp_path / "v.mp4", tmp_path / "t.jpg")
    info = probe_media(result.video)
    assert (info.width, info.height) == (width, height)
    assert info.duration_s == pytest.approx(1.2, abs=0.1)
    assert Image.open(result.thumbnail).size == (width, height)


# --- word-highlighted captions, in-graph scenes, formats ------------------------------------------------


def _yellow_columns(frame: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, int] | None:
    """Leftmost and rightmost x of highlight-yellow pixels inside `box` of a frame."""
    region = frame.crop(box)
    xs = [i % region.width for i, (r, g, b) in enumerate(region.getdata()) if r > 190 and g > 150 and b < 90]
    return (min(xs), max(xs)) if len(xs) > 5 else None


def test_word_caption_stream_highlights_the_spoken_word_in_the_video(media: dict, tmp_path: Path) -> None:
    words = [
        WordTiming(word=w, start_s=s, end_s=s + 0.6) for w, s in (("Red", 0.2), ("green", 1.0), ("blue", 1.8))
    ]
    track = render_caption_track(words, [], tmp_path / "caps", width=W, height=H)
    (stream,) = track.streams
    spec = _spec(media, captions=track.overlays, caption_streams=track.streams, loudness_lufs=None)
    result = render_video(spec, tmp_path / "v.mp4", tmp_path / "t.jpg")
    band = (stream.x, stream.y, stream.x + stream.w, stream.y + stream.h)
    lit = [_yellow_columns(extract_frame(result.video, t), band) for t in (0.1, 0.6, 1.4, 2.2)]
    assert lit[0] is None, "nothing is shown before the first word"
    assert all(lit[1:]), f"a word is highlighted while speaking: {lit}"
    assert lit[1][1] < lit[2][0] and lit[2][1] < lit[3][0], f"the highlight moves word by word: {lit}"
    graph = _graph(_video_command(spec))
    assert graph.count("overlay=") == 1, "one overlay for the whole spoken track"


def test_generated_scenes_render_without_input_files_and_unsafe_sources_are_refused(
    media: dict, tmp_path: Path
) -> None:
    clips = [
        GeneratedClip(gradient_source(duration_s=1.0, width=W, height=H, fps=30, seed=f"g{i}"))
        for i in range(3)
    ]
    spec = _spec(media, clips=clips, loudness_lufs=None)
    args = _video_command(spec)
    assert not any(a.endswith(".mp4") for a in args[: args.index("-filter_complex")]), "no clip file is read"
    assert [args[i + 2].split("=")[0] for i, a in enumerate(args) if a == "lavfi"] == ["gradients"] * 3
    assert args[args.index("lavfi") + 1 : args.index("lavfi") + 3] == ["-i", clips[0].source]
    result = render_video(spec, tmp_path / "v.mp4", tmp_path / "t.jpg")
    assert probe_media(result.video).duration_s == pytest.approx(3.0, abs=0.1)
    first, last = extract_frame(result.video, 0.3), extract_frame(result.video, 2.7)
    assert _region_diff(first, last, (0, 0, W, H)) > 10, "three different gradients"
    evil = GeneratedClip("gradients=s=16x16[x];movie=/etc/passwd[y]")
    with pytest.raises(RenderError, match="not a single lavfi source"):
        _video_command(_spec(media, clips=[evil, *clips[1:]]))


@pytest.mark.parametrize("preset", ["ultrafast", "medium"])
def test_preset_crf_and_fps_reach_the_encoder(preset: str) -> None:
    args = _video_command(_paper_spec(preset=preset, crf=25, fps=24))
    assert args[args.index("-preset") + 1] == preset and args[args.index("-crf") + 1] == "25"
    assert args[args.index("-r") + 1] == "24" and "fps=24" in _graph(args)


def test_fit_clip_cuts_scales_and_pads_a_clip_to_the_scene(media: dict, tmp_path: Path) -> None:
    out = fit_clip(media["clip0"], tmp_path / "scene.mp4", duration_s=2.0, width=128, height=128, fps=24)
    info = probe_media(out)
    assert (info.width, info.height, info.fps, info.has_audio) == (128, 128, 24.0, False)
    assert info.duration_s == pytest.approx(2.0, abs=0.1), "a 1.2 s source holds its last frame"
    with pytest.raises(RenderError, match="cannot use"):
        fit_clip(media["voice"], tmp_path / "bad.mp4", duration_s=1.0, width=128, height=128)
    assert not (tmp_path / "bad.mp4").exists()
