"""Protects media probing without ffprobe: stream parsing, loudness, frame decoding, faststart, black runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from shortvid_assets.domain.ffmpeg import ffmpeg_exe, run_ffmpeg
from shortvid_assets.domain.probe import (
    ProbeError,
    audio_mean_volume_db,
    black_runs,
    extract_frame,
    faststart,
    integrated_loudness_lufs,
    parse_ffmpeg_info,
    probe_media,
)

FFMPEG_MP4_STDERR = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'out.mp4':
  Metadata:
    major_brand     : isom
  Duration: 00:01:02.48, start: 0.000000, bitrate: 1204 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, progressive), 1080x1920 [SAR 1:1 DAR 9:16], 1000 kb/s, 29.97 fps, 29.97 tbr, 15360 tbn (default)
    Metadata:
      handler_name    : VideoHandler
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, 160 kb/s (default)
At least one output file must be specified
"""


def _make(tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / name
    run_ffmpeg([ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-v", "error", *args, str(out)], timeout_s=60)
    return out


def test_parse_ffmpeg_info_reads_video_and_audio_streams() -> None:
    info = parse_ffmpeg_info(FFMPEG_MP4_STDERR)
    assert info.duration_s == pytest.approx(62.48)
    assert (info.width, info.height) == (1080, 1920)
    assert info.video_codec == "h264"
    assert info.pix_fmt == "yuv420p"
    assert info.fps == pytest.approx(29.97)
    assert info.audio_codec == "aac"
    assert info.audio_sample_rate == 48000
    assert info.audio_channels == 2


def test_parse_ffmpeg_info_handles_audio_only_and_unknown_duration() -> None:
    stderr = (
        "Input #0, wav, from 'v.wav':\n  Duration: N/A, bitrate: 352 kb/s\n"
        "  Stream #0:0: Audio: pcm_s16le ([1][0][0][0] / 0x0001), 22050 Hz, mono, s16, 352 kb/s\n"
        "  Stream #0:1: Audio: aac, 44100 Hz, 5.1(side), fltp\n"
    )
    info = parse_ffmpeg_info(stderr)
    assert info.duration_s == 0.0
    assert info.video_codec is None and info.width is None and not info.has_video
    assert (info.audio_codec, info.audio_sample_rate, info.audio_channels) == ("pcm_s16le", 22050, 1)


def test_probe_media_on_a_real_file(tmp_path: Path) -> None:
    path = _make(
        tmp_path, "av.mp4",
        "-f", "lavfi", "-i", "testsrc2=s=216x384:r=30:d=1.5", "-f", "lavfi", "-i", "sine=f=440:d=1.5:sample_rate=44100",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "1",
    )  # fmt: skip
    info = probe_media(path)
    assert (info.width, info.height, info.video_codec, info.pix_fmt) == (216, 384, "h264", "yuv420p")
    assert info.fps == pytest.approx(30)
    assert (info.audio_codec, info.audio_sample_rate, info.audio_channels) == ("aac", 44100, 1)
    assert info.duration_s == pytest.approx(1.5, abs=0.1)


def test_probe_media_rejects_missing_and_garbage_files(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="no such file"):
        probe_media(tmp_path / "nope.mp4")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"this is not a video" * 100)
    with pytest.raises(ProbeError, match=r"garbage\.mp4"):
        probe_media(garbage)


def test_volume_and_loudness_tell_loud_from_quiet_from_silent(tmp_path: Path) -> None:
    loud = _make(tmp_path, "loud.wav", "-f", "lavfi", "-i", "sine=f=440:d=2", "-af", "volume=0.5")
    quiet = _make(tmp_path, "quiet.wav", "-f", "lavfi", "-i", "sine=f=440:d=2", "-af", "volume=0.125")
    silent = _make(tmp_path, "silent.wav", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "2")
    assert audio_mean_volume_db(loud) - audio_mean_volume_db(quiet) == pytest.approx(12.0, abs=0.5)
    assert audio_mean_volume_db(silent) < -80
    assert integrated_loudness_lufs(loud) - integrated_loudness_lufs(quiet) == pytest.approx(12.0, abs=0.5)
    assert -30 < integrated_loudness_lufs(loud) < -5


def test_extract_frame_decodes_the_frame_at_the_requested_time(tmp_path: Path) -> None:
    path = _make(
        tmp_path, "redblue.mp4",
        "-f", "lavfi", "-i", "color=c=red:s=64x48:r=30:d=1", "-f", "lavfi", "-i", "color=c=blue:s=64x48:r=30:d=1",
        "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
    )  # fmt: skip
    first, second = extract_frame(path, 0.5), extract_frame(path, 1.5)
    assert first.size == (64, 48) and first.mode == "RGB"
    r, g, b = first.getpixel((32, 24))
    assert r > 200 and g < 40 and b < 40
    r, g, b = second.getpixel((32, 24))
    assert b > 200 and r < 40 and g < 40
    with pytest.raises(ProbeError, match="no frame"):
        extract_frame(path, 30.0)


def test_faststart_tells_moov_first_from_moov_last(tmp_path: Path) -> None:
    common = [
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=32x32:r=10:d=0.5",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
    ]
    fast = _make(tmp_path, "fast.mp4", *common, "-movflags", "+faststart")
    slow = _make(tmp_path, "slow.mp4", *common)
    assert faststart(fast) is True
    assert faststart(slow) is False
    text = tmp_path / "notmp4.mp4"
    text.write_bytes(b"\x00\x00\x00\x10abcdxxxxxxxx")
    with pytest.raises(ProbeError, match="not a complete MP4"):
        faststart(text)


def test_black_runs_finds_long_black_stretches_only(tmp_path: Path) -> None:
    path = _make(
        tmp_path, "black.mp4",
        "-f", "lavfi", "-i", "color=c=black:s=64x64:r=25:d=1.5", "-f", "lavfi", "-i", "color=c=white:s=64x64:r=25:d=1",
        "-f", "lavfi", "-i", "color=c=black:s=64x64:r=25:d=0.4",
        "-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1:a=0", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
    )  # fmt: skip
    runs = black_runs(path, min_s=1.0)
    assert len(runs) == 1
    assert runs[0].start_s == pytest.approx(0.0, abs=0.05)
    assert runs[0].end_s == pytest.approx(1.5, abs=0.1)
    assert len(black_runs(path, min_s=0.3)) == 2
