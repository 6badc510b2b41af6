"""Protects `shortvid review`'s promise for bad input even when the database is down or hangs: every
subcommand checks its options (dates, themes, limits, reviewer, note, video on disk, port) before it
opens the database, and refuses with exit code 2 and one line. The database here is a closed port or a
socket that never answers; the CLI runs in-process through click's CliRunner."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from shortvid_assets import clock
from shortvid_assets.cli import main
from shortvid_assets.storage.artifacts import Artifacts
from shortvid_assets_tests.tiny import MINICUP, themes_yaml

ESC = "\x1b"


def closed_port_url() -> str:
    """A database URL on a local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


@pytest.fixture
def down_env(tmp_path: Path) -> dict[str, str | None]:
    """shortvid's settings for one test: its own folders and themes, a start date a week back, a database that is down."""
    themes = tmp_path / "themes.yaml"
    themes.write_text(themes_yaml(MINICUP))
    unset = {name: None for name in os.environ if name.startswith(("SHORTVID_", "DAGSTER_"))}
    return unset | {
        "SHORTVID_HOME": str(tmp_path / "home"),
        "SHORTVID_DATA_DIR": str(tmp_path / "data"),
        "SHORTVID_OUTPUT_DIR": str(tmp_path / "output"),
        "SHORTVID_THEMES_FILE": str(themes),
        "SHORTVID_DATABASE_URL": closed_port_url(),
        "SHORTVID_START_DATE": (clock.yesterday() - timedelta(days=7)).isoformat(),
    }


@pytest.fixture(params=["down", "hanging"])
def env(request: pytest.FixtureRequest, down_env: dict[str, str | None]) -> Iterator[dict[str, str | None]]:
    """The same settings with a database that is down, or one that accepts connections and never answers."""
    if request.param == "down":
        yield down_env
        return
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.setblocking(False)
        yield down_env | {
            "SHORTVID_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{server.getsockname()[1]}/postgres"
        }
        # A refusal that came first never connected: nothing waits in the backlog.
        with pytest.raises(BlockingIOError):
            server.accept()[0].close()


def shortvid(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def one_line(result: Result, code: int, *expected: str) -> str:
    """The command's only output: one short line on stderr, with exit code `code`."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("Error: ") and ESC not in line and len(line) < 500, line
    for text in expected:
        assert text in line, line
    return line


def refused(result: Result, *expected: str) -> str:
    line = one_line(result, 2, *expected)
    assert "Cannot connect" not in line
    return line


def add_video(env: dict[str, str | None], day: str, theme: str = "minicup") -> None:
    video = Artifacts(env["SHORTVID_DATA_DIR"], env["SHORTVID_OUTPUT_DIR"]).review_file(
        "review", day, theme, "mp4"
    )
    video.parent.mkdir(parents=True, exist_ok=True)
    video.write_bytes(b"not a real mp4")


# --- review list ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day", [" 2026-11-20", "20261120", "2026-W47-5", "2026-11-31", "", f"2026-11-20{ESC}[1A"]
)
def test_review_list_refuses_a_bad_date_without_the_database(env, day):
    refused(shortvid(env, "review", "list", "--date", day), "YYYY-MM-DD")


@pytest.mark.parametrize("limit", ["-1", "0", "10001", "99999999999999999999999"])
def test_review_list_refuses_a_bad_limit_without_the_database(env, limit):
    refused(shortvid(env, "review", "list", "--limit", limit), f"--limit {limit}", "from 1 to 10000")


@pytest.mark.parametrize(
    ("theme", "shown"), [("Mini Cup", "'Mini Cup'"), (f"mini{ESC}[2Jcup", "'mini\\x1b[2Jcup'")]
)
def test_review_list_refuses_a_theme_that_is_no_slug_without_the_database(env, theme, shown):
    refused(shortvid(env, "review", "list", "--theme", theme), shown, "not a theme slug")


# --- review approve / reject -----------------------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["approve", "reject"])
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("20261120", "minicup", "--by", "maya"), "YYYY-MM-DD"),
        (("{today}", "minicup", "--by", "maya"), "has not ended yet"),
        (("{long_ago}", "minicup", "--by", "maya"), "outside the daily partitions"),
        (("{yesterday}", "nosuch", "--by", "maya"), "unknown theme 'nosuch'"),
        (("{yesterday}", "minicup", "--by", "  "), "reviewer is empty"),
        (("{yesterday}", "minicup", "--by", "maya\n#9 forged"), "control characters (\\n)"),
        (("{yesterday}", "minicup", "--by", "maya", "--note", f"ok{ESC}[2J"), "control characters (\\x1b)"),
        (("{last_week}", "minicup", "--by", "maya"), "no composed video"),
    ],
    ids=["date", "today", "before-start", "theme", "reviewer", "reviewer-newline", "note", "no-video"],
)
def test_review_decisions_refuse_bad_input_without_the_database(env, decision, args, expected):
    days = {
        "today": clock.today(),
        "yesterday": clock.yesterday(),
        "last_week": clock.yesterday() - timedelta(days=6),
        "long_ago": clock.yesterday() - timedelta(days=400),
    }
    add_video(env, days["yesterday"].isoformat())
    filled = [part.format(**{name: day.isoformat() for name, day in days.items()}) for part in args]
    refused(shortvid(env, "review", decision, *filled), expected)


# --- review serve ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_review_serve_refuses_a_bad_port_before_anything_starts(env, port):
    refused(shortvid(env, "review", "serve", "--port", port), "--port", "review serve --help")


# --- the database really is unusable --------------------------------------------------------------------------


def test_good_input_reaches_the_database_and_says_in_one_line_that_it_is_unavailable(down_env):
    """The contrast that makes the refusals above meaningful: with good options the command does connect."""
    add_video(down_env, clock.yesterday().isoformat())
    for args in (
        ("review", "list", "--date", "2026-11-20", "--theme", "minicup", "--limit", "5"),
        ("review", "approve", clock.yesterday().isoformat(), "minicup", "--by", "maya"),
    ):
        one_line(shortvid(down_env, *args), 1, "Cannot connect to PostgreSQL")
