"""Protects the one set of helpers every environment variable is read through: defaults, bounds,
choices and yes/no values, with errors that name the variable."""

from __future__ import annotations

from datetime import date

import pytest

from shortvid_assets import settings
from shortvid_assets.settings import SettingError


def test_unset_or_blank_gives_the_default():
    assert settings.text("SHORTVID_VOICE", "offline", environ={"SHORTVID_VOICE": "  "}) == "offline"
    assert settings.number("SHORTVID_VIDEO_FPS", 30, integer=True, environ={}) == 30


@pytest.mark.parametrize(
    ("value", "problem"),
    [("0", "between 1 and 120"), ("thirty", "is not a whole number"), ("1000", "between 1 and 120")],
)
def test_numbers_are_checked_with_the_variable_named(value, problem):
    with pytest.raises(SettingError, match=f"SHORTVID_VIDEO_FPS='{value}'.*{problem}"):
        settings.number(
            "SHORTVID_VIDEO_FPS",
            30,
            integer=True,
            minimum=1,
            maximum=120,
            environ={"SHORTVID_VIDEO_FPS": value},
        )


def test_choices_are_case_insensitive_and_refuse_the_rest():
    assert settings.choice("SHORTVID_VOICE", ("offline", "openai"), {"SHORTVID_VOICE": "OpenAI"}) == "openai"
    with pytest.raises(SettingError, match="SHORTVID_VOICE='espeak' is not one of offline, openai"):
        settings.choice("SHORTVID_VOICE", ("offline", "openai"), {"SHORTVID_VOICE": "espeak"})


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("no", False), ("ON", True)])
def test_flags(value, expected):
    assert (
        settings.flag("SHORTVID_PROCEDURAL_IN_GRAPH", True, {"SHORTVID_PROCEDURAL_IN_GRAPH": value})
        is expected
    )


def test_a_bad_flag_is_refused():
    with pytest.raises(SettingError, match="yes/no"):
        settings.flag("SHORTVID_PROCEDURAL_IN_GRAPH", True, {"SHORTVID_PROCEDURAL_IN_GRAPH": "maybe"})


def test_pool_limits_come_from_any_pool_variable():
    assert settings.pool_limits({"SHORTVID_POOL_UPLOAD": "2", "SHORTVID_POOL_RENDER": " "}) == {"upload": 2}


@pytest.mark.parametrize("value", ["2026-1-1", "tomorrow", " 2026-01-01x"])
def test_a_malformed_start_date_is_refused(monkeypatch, value):
    monkeypatch.setenv("SHORTVID_START_DATE", value)
    with pytest.raises(SettingError, match="SHORTVID_START_DATE"):
        settings.start_date()


def test_the_start_date_defaults_to_the_first_of_2026(monkeypatch):
    monkeypatch.delenv("SHORTVID_START_DATE", raising=False)
    assert settings.start_date() == date(2026, 1, 1)


def test_a_long_value_is_not_echoed_in_full():
    with pytest.raises(SettingError) as refused:
        settings.choice("SHORTVID_VOICE", ("offline",), {"SHORTVID_VOICE": "x" * 10_000})
    assert len(str(refused.value)) < 200


# --- checked once, at start -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"SHORTVID_POOL_RENDER": "0"}, "SHORTVID_POOL_RENDER='0' must be a whole number at least 1"),
        ({"SHORTVID_POOL_OPENAI": "many"}, "SHORTVID_POOL_OPENAI='many' is not a whole number"),
        ({"SHORTVID_START_DATE": "20260101"}, "SHORTVID_START_DATE='20260101' is not a date"),
        ({"SHORTVID_HOME": "/tmp/a\x1b[2Jb"}, "SHORTVID_HOME='/tmp/a\\x1b[2Jb' has a control character"),
    ],
)
def test_settings_validate_refuses_each_bad_value_naming_the_variable(environ, problem):
    with pytest.raises(SettingError) as refused:
        settings.validate(environ)
    assert str(refused.value).startswith(problem) and "\n" not in str(refused.value)


def test_settings_validate_accepts_the_defaults_and_good_values():
    settings.validate({})
    settings.validate(
        {"SHORTVID_POOL_RENDER": "2", "SHORTVID_START_DATE": "2026-06-01", "SHORTVID_HOME": "/tmp/x"}
    )


def test_settings_a_missing_key_names_the_key_the_choice_and_the_way_out():
    with pytest.raises(SettingError) as refused:
        settings.require(
            "OPENAI_API_KEY", needed_by="SHORTVID_VOICE=openai", instead="unset SHORTVID_VOICE", environ={}
        )
    assert str(refused.value) == (
        "SHORTVID_VOICE=openai needs OPENAI_API_KEY, which is not set: set it, or unset SHORTVID_VOICE"
    )
    settings.require("OPENAI_API_KEY", needed_by="x", instead="y", environ={"OPENAI_API_KEY": "sk-1"})


def test_settings_build_resources_refuses_before_dagster_sees_a_bad_or_keyless_setting(monkeypatch):
    """The code location's one check: a live source without its key never becomes a Dagster config error."""
    from shortvid_assets.definitions import build_resources

    for name, value, problem in [
        ("SHORTVID_TIKTOK_SOURCE", "apify", "SHORTVID_TIKTOK_SOURCE=apify needs APIFY_TOKEN"),
        ("SHORTVID_VISUALS", "pexels", "SHORTVID_VISUALS=pexels needs PEXELS_API_KEY"),
        ("SHORTVID_POOL_RENDER", "0", "SHORTVID_POOL_RENDER='0'"),
        ("SHORTVID_ANALYSIS_WINDOW_HOURS", "0", "SHORTVID_ANALYSIS_WINDOW_HOURS='0'"),
        ("SHORTVID_DATABASE_URL", "mysql://x", "SHORTVID_DATABASE_URL"),
        ("SHORTVID_PRICE_TABLE", "/nonexistent/prices.json", "SHORTVID_PRICE_TABLE: .*not found"),
        ("SHORTVID_CAPTION_COLOR", "glowing", "SHORTVID_CAPTION_COLOR='glowing' is not a colour"),
        ("SHORTVID_MUSIC", "/nonexistent/bed.mp3", "SHORTVID_MUSIC='/nonexistent/bed.mp3' is not a file"),
    ]:
        with monkeypatch.context() as env:
            for key in ("APIFY_TOKEN", "PEXELS_API_KEY"):
                env.delenv(key, raising=False)
            env.setenv(name, value)
            with pytest.raises(SettingError, match=problem):
                build_resources()


def test_settings_a_music_file_that_is_not_there_is_refused_at_start(tmp_path):
    music = tmp_path / "bed.mp3"
    music.write_bytes(b"ID3")
    assert settings.existing_file("SHORTVID_MUSIC", {"SHORTVID_MUSIC": str(music)}) == str(music)
    assert settings.existing_file("SHORTVID_MUSIC", {}) is None
    with pytest.raises(SettingError) as refused:
        settings.existing_file("SHORTVID_MUSIC", {"SHORTVID_MUSIC": str(tmp_path / "nope.mp3")})
    assert str(refused.value).startswith("SHORTVID_MUSIC=") and "is not a file: point it at one" in str(
        refused.value
    )
