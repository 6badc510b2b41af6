"""Protects the CLI's promise for bad input: exit code 2 and one line on stderr that says what was wrong
and what to do, never a traceback, a usage screen, the embedded database's start-up lines or a Dagster
warning. Runs the real `shortvid` console script with a throwaway state folder and themes file; nothing
here renders (refusals come before any run starts)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from shortvid_assets.storage import generation_log, postgres

SHORTVID = str(Path(sys.executable).with_name("shortvid"))
THEMES = """
themes:
  - slug: glowcup
    product_name: GlowCup
    tagline: The self-heating travel mug
    audience: commuters
    tone: upbeat
    style: montage
    talking_points: [keeps drinks hot for 6 hours]
    target_duration_s: 18
"""
ESC = "\x1b"


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    """A short state folder (the embedded server's unix socket lives in it), stopped and removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="svcli-", dir="/tmp"))
    (folder / "themes.yaml").write_text(THEMES)
    try:
        yield folder
    finally:
        postgres.stop_embedded_server(folder / "pg")
        shutil.rmtree(folder, ignore_errors=True)


def shortvid(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SHORTVID_", "DAGSTER_"))}
    for key in ("OPENAI_API_KEY", "YOUTUBE_API_KEY", "APIFY_TOKEN", "PEXELS_API_KEY"):
        environ.pop(key, None)
    environ.update(
        SHORTVID_HOME=str(home),
        SHORTVID_OUTPUT_DIR=str(home / "output"),
        SHORTVID_THEMES_FILE=str(home / "themes.yaml"),
    )
    environ.update(env)
    return subprocess.run([SHORTVID, *args], env=environ, capture_output=True, text=True, timeout=120)


def refused(done: subprocess.CompletedProcess, *expected: str) -> str:
    """The one line of a refusal: exit code 2, nothing on stdout, one short line on stderr naming the problem."""
    assert done.returncode == 2, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert done.stdout == "", done.stdout[-2000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    line = lines[0]
    assert line.startswith("Error: ") and "Traceback" not in line and ESC not in line
    assert len(line) < 500, len(line)
    for text in expected:
        assert text in line, line
    return line


def real_today() -> str:
    """The machine's UTC date, as the subprocess sees it (the suite's own clock may be moved ahead)."""
    return subprocess.run(["date", "-u", "+%F"], capture_output=True, text=True, check=True).stdout.strip()


# --- known failures ------------------------------------------------------------------------------------------


def test_known_failure_run_for_today_is_refused_not_a_partition_traceback(home):
    today = real_today()
    refused(
        shortvid(home, "run", "--date", today), f"date {today} is outside the daily partitions", "not ended"
    )


def test_known_failure_an_empty_date_is_refused_not_taken_for_yesterday(home):
    refused(shortvid(home, "run", "--date", ""), "invalid date ''", "YYYY-MM-DD")


def test_known_failure_a_live_source_without_its_key_is_one_line_not_a_config_traceback(home):
    line = refused(
        shortvid(home, "run", "--date", "2026-11-20", SHORTVID_YOUTUBE_SOURCE="api"),
        "SHORTVID_YOUTUBE_SOURCE=api needs YOUTUBE_API_KEY",
        "unset SHORTVID_YOUTUBE_SOURCE",
    )
    assert "EnvVar" not in line and "config" not in line.lower()
    assert not (home / "dagster_home").exists() and not (home / "data").exists()


@pytest.mark.parametrize("limit", ["-1", "99999999999999999999999"])
@pytest.mark.parametrize("command", [("log", "list"), ("review", "list")])
def test_known_failure_a_bad_listing_limit_is_one_line_not_a_psycopg2_traceback(home, command, limit):
    refused(shortvid(home, *command, "--limit", limit), f"--limit {limit}", "from 1 to 10000")


# --- dates: one strict parser for every command ------------------------------------------------------------


@pytest.mark.parametrize("day", [" 2026-11-20", "20261120", "2026-W47-5"])
@pytest.mark.parametrize(
    "command",
    [
        ("run", "--date", "{day}"),
        ("demo", "--date", "{day}"),
        ("backfill", "--from", "{day}", "--to", "2026-11-21"),
        ("backfill", "--from", "2026-11-20", "--to", "{day}"),
        ("log", "list", "--date", "{day}"),
        ("review", "list", "--date", "{day}"),
    ],
    ids=["run", "demo", "backfill-from", "backfill-to", "log-list", "review-list"],
)
def test_dates_every_command_refuses_anything_but_a_strict_iso_day(home, command, day):
    args = [part.format(day=day) for part in command]
    refused(shortvid(home, *args), "YYYY-MM-DD")


# --- themes file -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (THEMES.replace("GlowCup", "Glöw").encode("latin-1"), "not UTF-8"),
        (("themes: " + "[" * 20_000 + "]" * 20_000).encode(), "nested more than 20 levels deep"),
        (
            b"a: &a [x, x, x, x, x, x, x, x, x]\n"
            + b"".join(
                f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n".encode()
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            )
            + b"themes: *i\n",
            "YAML anchors and aliases",
        ),
        ((THEMES + "    tone: calm\n").encode(), "key 'tone' appears twice"),
        (THEMES.replace("tagline: The self-heating travel mug", "tagline: '.'").encode(), "field 'tagline'"),
        (THEMES.replace("[keeps drinks hot for 6 hours]", "['']").encode(), "talking point 1 is blank"),
        (THEMES.replace("product_name: GlowCup", 'product_name: "Glow\\e[2JCup"').encode(), "\\x1b"),
        (("themes: [" + "x" * 400_000 + "\n").encode(), "not valid YAML"),
    ],
    ids=[
        "latin-1",
        "deep",
        "alias-bomb",
        "repeated-key",
        "dot-tagline",
        "blank-point",
        "escape",
        "long-line",
    ],
)
def test_themes_file_problems_are_one_short_line_for_every_command(home, tmp_path, data, expected):
    themes_file = tmp_path / "themes.yaml"
    themes_file.write_bytes(data)
    for args in (("themes", "list"), ("run", "--date", "2026-11-20"))[: 2 if expected == "not UTF-8" else 1]:
        line = refused(
            shortvid(home, *args, SHORTVID_THEMES_FILE=str(themes_file)), str(themes_file), expected
        )
        assert len(line) < 400 + len(str(themes_file))


# --- settings: checked once, at start, the variable named ---------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (
            ("themes", "list"),
            {"SHORTVID_POOL_RENDER": "0"},
            "SHORTVID_POOL_RENDER='0' must be a whole number",
        ),
        (
            ("log", "list"),
            {"SHORTVID_START_DATE": "2026-1-1"},
            "SHORTVID_START_DATE='2026-1-1' is not a date",
        ),
        (
            ("run", "--date", "2026-11-20"),
            {"SHORTVID_TIKTOK_SOURCE": "tiktok"},
            "SHORTVID_TIKTOK_SOURCE='tiktok'",
        ),
        (
            ("run", "--date", "2026-11-20"),
            {"SHORTVID_VOICE": "openai"},
            "SHORTVID_VOICE=openai needs OPENAI_API_KEY",
        ),
        (
            ("dev",),
            {"SHORTVID_SCRIPT_WRITER": "openai"},
            "SHORTVID_SCRIPT_WRITER=openai needs OPENAI_API_KEY",
        ),
        (
            ("backfill", "--from", "2026-11-20", "--to", "2026-11-21"),
            {"SHORTVID_VIDEO_FPS": "fast"},
            "SHORTVID_VIDEO_FPS='fast' is not a whole number",
        ),
        (("themes", "list"), {"SHORTVID_HOME": "/tmp/a\x1b[2Jb"}, "SHORTVID_HOME='/tmp/a\\x1b[2Jb'"),
        (("log", "list"), {"SHORTVID_DATABASE_URL": "mysql://shortvid@db/x"}, "postgresql://"),
    ],
)
def test_settings_a_bad_value_or_missing_key_is_refused_at_start_naming_the_variable(
    home, args, env, expected
):
    refused(shortvid(home, *args, **env), expected)
    assert not (home / "dagster_home").exists()


# --- a refusal is the whole output ----------------------------------------------------------------------------


def test_refusal_whole_output_after_the_embedded_database_and_dagster_have_started(home):
    """`log show` starts the embedded server before it finds no such row; `run --theme` imports Dagster
    (which warns about beta APIs) before it finds no such theme: still one line each."""
    refused(shortvid(home, "log", "show", "424242"), "no generation #424242", "shortvid log list")
    assert (home / "pg").is_dir()
    refused(
        shortvid(home, "run", "--date", "2026-11-20", "--theme", "nope"), "unknown theme 'nope'", "glowcup"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("run", "--dat", "2026-11-20"), "No such option '--dat'"),
        (("nope",), "No such command 'nope'"),
        (("log", "show", "abc"), "'abc' is not a valid integer"),
        (("worker", "--concurrency", "0"), "--concurrency"),
        (
            ("backfill", "--from", "2026-11-20", "--to", "2026-11-20", "--wait", "nan"),
            "'--wait': nan is not a number of seconds",
        ),
    ],
)
def test_refusal_whole_output_usage_errors_are_one_line_too(home, args, expected):
    line = refused(shortvid(home, *args), expected, "--help")
    assert "Usage:" not in line


# --- control characters ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("run", "--date", "2026-11-20", "--theme", f"glow{ESC}[2Jcup"), "'glow\\x1b[2Jcup'"),
        (("log", "list", "--theme", f"glowcup{ESC}]0;pwned\x07"), "'glowcup\\x1b]0;pwned\\x07'"),
        (("worker", "--name", "w1\nINFO forged line"), "'w1\\nINFO forged line'"),
        (("run", "--date", f"2026-11-20{ESC}[1A"), "'2026-11-20\\x1b[1A'"),
        (("log", "list", "--date", "2026-11-20\r"), "'2026-11-20\\r'"),
    ],
)
def test_control_characters_in_options_are_refused_and_shown_escaped(home, args, expected):
    refused(shortvid(home, *args), expected)


def test_control_characters_in_stored_rows_are_escaped_by_the_listing(home):
    """A row someone wrote with SQL: `log list` and `log show` print its text with every control escaped."""
    url = postgres.embedded_server_url(home / "pg")
    conn = postgres.connect(url)
    try:
        generation_log.ensure_schema(conn)
        row = generation_log.record_generation(
            conn,
            date="2026-11-20",
            theme=f"glowcup{ESC}[2J",
            asset="video_script",
            implementation=f"template{ESC}]0;title\x07",
            status="succeeded",
            model="m\u202eodel",
        )
    finally:
        conn.close()
    listed = shortvid(home, "log", "list")
    shown = shortvid(home, "log", "show", str(row.id))
    for done in (listed, shown):
        assert done.returncode == 0, done.stderr
        assert ESC not in done.stdout and "\x07" not in done.stdout and "\u202e" not in done.stdout
    assert "glowcup\\x1b[2J" in listed.stdout and "\\u202e" in listed.stdout
