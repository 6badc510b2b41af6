"""Running the ffmpeg binary: lookup, argument lists (never a shell), timeouts, progress, clear errors."""

from __future__ import annotations

import collections
import logging
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shortvid_assets import settings

logger = logging.getLogger(__name__)

FFMPEG_ENV = "SHORTVID_FFMPEG"
STDERR_TAIL_LINES = 15


class FFmpegError(RuntimeError):
    """ffmpeg could not be run or exited with an error; `stderr_tail` holds its last lines."""

    def __init__(
        self, message: str, *, returncode: int | None = None, stderr_tail: str = "", stderr: str = ""
    ) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        self.stderr = stderr


class FFmpegNotFoundError(FFmpegError):
    """No usable ffmpeg binary was found."""


class FFmpegTimeoutError(FFmpegError):
    """ffmpeg ran longer than its timeout and was killed."""


@dataclass(frozen=True)
class FFmpegRun:
    """What a finished ffmpeg process left: its stdout (when captured), stderr text and wall time."""

    args: list[str]
    stdout: bytes
    stderr: str
    seconds: float


def ffmpeg_exe() -> str:
    """The ffmpeg binary: `$SHORTVID_FFMPEG` when set, else the one shipped in imageio-ffmpeg."""
    override = settings.text(FFMPEG_ENV, "")
    if override:
        found = shutil.which(override) if os.sep not in override else override
        if found and Path(found).is_file() and os.access(found, os.X_OK):
            return str(found)
        raise FFmpegNotFoundError(
            f"{FFMPEG_ENV}={override!r} is not an executable ffmpeg binary; "
            f"point it at an ffmpeg executable or unset it to use the one from imageio-ffmpeg"
        )
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # imageio-ffmpeg raises RuntimeError and others when its binary is gone
        raise FFmpegNotFoundError(
            f"no ffmpeg binary found ({exc}); reinstall the imageio-ffmpeg package "
            f"or set {FFMPEG_ENV} to an ffmpeg executable"
        ) from exc
    return str(exe)


def _tail(lines: Sequence[str], n: int = STDERR_TAIL_LINES) -> str:
    return "\n".join(line.rstrip() for line in list(lines)[-n:] if line.strip())


def run_ffmpeg(
    args: Sequence[str],
    *,
    timeout_s: float = 600.0,
    capture_stdout: bool = False,
    progress_duration_s: float | None = None,
    on_progress: Callable[[float], None] | None = None,
    what: str = "ffmpeg",
) -> FFmpegRun:
    """Run an ffmpeg argument list (args[0] is the binary); raise FFmpegError on failure or timeout.

    With `on_progress` and `progress_duration_s`, add `-progress pipe:1` and report percents
    (0–100, increasing) to the callback from the calling thread.
    """
    argv = [str(a) for a in args]
    if not argv:
        raise ValueError("run_ffmpeg needs at least the binary in args")
    want_progress = on_progress is not None and progress_duration_s is not None and progress_duration_s > 0
    if want_progress and capture_stdout:
        raise ValueError("progress reporting uses stdout; it cannot be combined with capture_stdout")
    if want_progress:
        argv = [argv[0], "-progress", "pipe:1", "-stats_period", "0.25", "-nostats", *argv[1:]]

    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if (capture_stdout or want_progress) else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        raise FFmpegNotFoundError(
            f"ffmpeg binary {argv[0]!r} does not exist; set {FFMPEG_ENV} or reinstall imageio-ffmpeg"
        ) from exc
    except PermissionError as exc:
        raise FFmpegNotFoundError(f"ffmpeg binary {argv[0]!r} is not executable: {exc}") from exc

    stderr_lines: collections.deque[str] = collections.deque(maxlen=2000)
    stdout_chunks: list[bytes] = []
    # Percents from the stdout reader; None when stdout ends (ffmpeg is exiting).
    progress_q: queue.Queue[float | None] = queue.Queue()

    def drain_stderr() -> None:
        assert proc.stderr is not None
        for raw in iter(proc.stderr.readline, b""):
            stderr_lines.append(raw.decode("utf-8", "replace"))

    def drain_stdout() -> None:
        assert proc.stdout is not None
        if not want_progress:
            for chunk in iter(lambda: proc.stdout.read(1 << 16), b""):  # type: ignore[union-attr]
                stdout_chunks.append(chunk)
            return
        total_us = float(progress_duration_s) * 1_000_000  # type: ignore[arg-type]
        try:
            for raw in iter(proc.stdout.readline, b""):
                key, _, value = raw.decode("ascii", "replace").strip().partition("=")
                if key == "out_time_us" and value.strip().lstrip("-").isdigit():
                    progress_q.put(max(0.0, min(100.0, 100.0 * int(value) / total_us)))
                elif key == "progress" and value == "end":
                    progress_q.put(100.0)
        finally:
            progress_q.put(None)

    readers = [threading.Thread(target=drain_stderr, daemon=True, name="ffmpeg-stderr")]
    if proc.stdout is not None:
        readers.append(threading.Thread(target=drain_stdout, daemon=True, name="ffmpeg-stdout"))
    for reader in readers:
        reader.start()

    deadline = started + timeout_s
    last_percent = -1.0
    timed_out = False
    try:
        if want_progress:
            # Report percents from this thread as they arrive; the reader's None means stdout closed.
            while True:
                try:
                    percent = progress_q.get(timeout=max(0.0, min(0.25, deadline - time.monotonic())))
                except queue.Empty:
                    if time.monotonic() >= deadline:
                        timed_out = True
                        break
                    continue
                if percent is None:
                    break
                if percent > last_percent:
                    last_percent = percent
                    on_progress(percent)  # type: ignore[misc]
        # Returns the moment ffmpeg exits (no polling interval added to every run).
        proc.wait(timeout=max(0.0, deadline - time.monotonic()) if not timed_out else 0)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for reader in readers:
            reader.join(timeout=5)

    seconds = time.monotonic() - started
    stderr_text = "".join(stderr_lines)
    if timed_out:
        tail = _tail(stderr_lines)
        raise FFmpegTimeoutError(
            f"{what} took longer than {timeout_s:g}s and was killed; raise the timeout or shorten the input."
            + (f"\nffmpeg's last lines:\n{tail}" if tail else ""),
            returncode=proc.returncode,
            stderr_tail=tail,
            stderr=stderr_text,
        )
    if proc.returncode != 0:
        tail = _tail(stderr_lines)
        raise FFmpegError(
            f"{what} failed (ffmpeg exit code {proc.returncode}). ffmpeg's last lines:\n{tail}",
            returncode=proc.returncode,
            stderr_tail=tail,
            stderr=stderr_text,
        )
    logger.debug("%s finished in %.2fs", what, seconds)
    return FFmpegRun(args=argv, stdout=b"".join(stdout_chunks), stderr=stderr_text, seconds=seconds)
