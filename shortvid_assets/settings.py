"""Every environment variable shortvid reads, and the one set of helpers that reads them.

`VARIABLES` is the registry: a helper asked for a name that is not in it raises, so the README's
configuration table (checked against this registry by a test) lists every variable there is.
A bad value raises `SettingError`, one line that names the variable and says what to write.
Every location has an offline default under the project folder so a fresh clone runs as is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_START_DATE = "2026-01-01"
POOL_PREFIX = "SHORTVID_POOL_"

# name -> what it means (the README's configuration table says the same, with defaults).
VARIABLES: dict[str, str] = {
    # where things live
    "SHORTVID_HOME": "local state folder",
    "SHORTVID_DATA_DIR": "stage artifacts",
    "SHORTVID_OUTPUT_DIR": "finished videos by review state",
    "SHORTVID_THEMES_FILE": "the themes config",
    "SHORTVID_DATABASE_URL": "Postgres for review decisions and the generation log",
    "SHORTVID_DAGSTER_STORAGE_URL": "Dagster's instance storage",
    "SHORTVID_EMBEDDED_PG_DIR": "the embedded server's folder",
    "DAGSTER_HOME": "the Dagster instance folder",
    # orchestration
    "SHORTVID_START_DATE": "first daily partition",
    "SHORTVID_SCHEDULES": "schedules started by default",
    "SHORTVID_SCHEDULE_TIMEZONE": "zone the crons tick in",
    "SHORTVID_TRENDS_CRON": "when the trends schedule ticks",
    "SHORTVID_VIDEO_CRON": "when the video schedule ticks",
    "SHORTVID_POOL_RENDER": "render pool limit",
    "SHORTVID_POOL_OPENAI": "OpenAI pool limit",
    "SHORTVID_POOL_YOUTUBE_API": "YouTube API pool limit",
    "SHORTVID_POOL_APIFY": "Apify pool limit",
    "SHORTVID_EXECUTOR": "where steps run",
    "SHORTVID_BACKFILL_LOOP_S": "seconds between the backfill daemon's looks",
    "SHORTVID_RUN_LAUNCH": "how the daemon starts a run's process",
    "SHORTVID_CELERY_BROKER": "Celery broker",
    "SHORTVID_CELERY_BACKEND": "Celery result backend",
    "SHORTVID_CELERY_VISIBILITY_TIMEOUT_S": "seconds before a dead worker's step goes to another",
    # trends
    "SHORTVID_YOUTUBE_SOURCE": "YouTube trends source",
    "YOUTUBE_API_KEY": "YouTube Data API key",
    "SHORTVID_YOUTUBE_BASE_URL": "YouTube API base URL",
    "SHORTVID_YOUTUBE_REGION": "regionCode",
    "SHORTVID_YOUTUBE_LANGUAGE": "relevanceLanguage",
    "SHORTVID_YOUTUBE_MAX_RESULTS": "Shorts kept per run",
    "SHORTVID_YOUTUBE_MAX_DURATION_S": "longest Short kept",
    "SHORTVID_YOUTUBE_QUOTA_BUDGET": "quota units per collection",
    "SHORTVID_YOUTUBE_LOOKBACK_HOURS": "search window",
    "SHORTVID_YOUTUBE_TIMEOUT_S": "per-request timeout",
    "SHORTVID_TIKTOK_SOURCE": "TikTok trends source",
    "APIFY_TOKEN": "Apify API token",
    "SHORTVID_APIFY_BASE_URL": "Apify API base URL",
    "SHORTVID_APIFY_ACTOR": "Apify actor",
    "SHORTVID_APIFY_HASHTAGS": "actor input hashtags",
    "SHORTVID_APIFY_INPUT": "whole actor input as JSON",
    "SHORTVID_APIFY_MAX_ITEMS": "trends kept per run",
    "SHORTVID_APIFY_POLL_S": "polling interval",
    "SHORTVID_APIFY_MAX_WAIT_S": "longest wait for a run",
    "SHORTVID_APIFY_TIMEOUT_S": "per-request timeout",
    "SHORTVID_ANALYSIS_WINDOW_HOURS": "trend-report window",
    "SHORTVID_STYLE_CLASSIFIER": "style classifier",
    "SHORTVID_STYLE_MODEL": "style classification model",
    "SHORTVID_STYLE_BATCH_SIZE": "videos per classification call",
    # content
    "SHORTVID_SCRIPT_WRITER": "script writer",
    "SHORTVID_VOICE": "voice",
    "OPENAI_API_KEY": "OpenAI key",
    "OPENAI_BASE_URL": "OpenAI-compatible server",
    "SHORTVID_OPENAI_MODEL": "plan model",
    "SHORTVID_OPENAI_TEMPERATURE": "plan temperature",
    "SHORTVID_OPENAI_SEED": "plan seed",
    "SHORTVID_OPENAI_TIMEOUT_S": "OpenAI per-request timeout",
    "SHORTVID_OPENAI_MAX_RETRIES": "OpenAI SDK retries",
    "SHORTVID_TTS_MODEL": "speech model",
    "SHORTVID_TTS_VOICE": "speech voice",
    "SHORTVID_TTS_INSTRUCTIONS": "speech instructions",
    "SHORTVID_TRANSCRIPTION_MODEL": "word-timestamp model",
    "SHORTVID_PRICE_TABLE": "model prices",
    # media
    "SHORTVID_VISUALS": "scene visuals provider",
    "PEXELS_API_KEY": "Pexels key",
    "SHORTVID_PEXELS_BASE_URL": "Pexels API base URL",
    "SHORTVID_VIDEO_MODEL": "OpenAI video model",
    "SHORTVID_PROCEDURAL_IN_GRAPH": "procedural scenes drawn in the render",
    "SHORTVID_VIDEO_SIZE": "output size",
    "SHORTVID_VIDEO_ASPECT": "output aspect",
    "SHORTVID_VIDEO_WIDTH": "output width",
    "SHORTVID_VIDEO_HEIGHT": "output height",
    "SHORTVID_VIDEO_FPS": "frame rate",
    "SHORTVID_VIDEO_CRF": "x264 quality",
    "SHORTVID_VIDEO_PRESET": "x264 preset",
    "SHORTVID_VIDEO_THREADS": "encoder threads per render",
    "SHORTVID_FONT": "caption font",
    "SHORTVID_CAPTION_COLOR": "caption colour",
    "SHORTVID_CAPTION_HIGHLIGHT": "spoken-word colour",
    "SHORTVID_MUSIC": "background music",
    "SHORTVID_MUSIC_VOLUME": "music level",
    "SHORTVID_LOUDNESS_LUFS": "loudness target",
    "SHORTVID_THUMBNAIL_AT_S": "thumbnail time",
    "SHORTVID_RENDER_TIMEOUT_S": "render timeout",
    "SHORTVID_FFMPEG": "ffmpeg binary",
    # review
    "SHORTVID_REVIEW_TOKENS": "reviewer tokens",
    "SHORTVID_REVIEW_SECRET": "review-page session key",
    # publishing
    "SHORTVID_PUBLISH": "publishing target",
    "SHORTVID_PUBLISH_PRIVACY": "privacy of uploads",
    "SHORTVID_PUBLISH_AT": "scheduled publish time",
    "SHORTVID_PUBLISH_MADE_FOR_KIDS": "made-for-kids declaration",
    "SHORTVID_PUBLISH_DAILY_CAP": "uploads per UTC day",
    "SHORTVID_PUBLISH_DIR": "local publishing folder",
    "SHORTVID_POOL_UPLOAD": "upload pool limit",
    "SHORTVID_PERFORMANCE_CRON": "when the performance schedule ticks",
    "YOUTUBE_OAUTH_CLIENT_ID": "Google OAuth client id",
    "YOUTUBE_OAUTH_CLIENT_SECRET": "Google OAuth client secret",
    "YOUTUBE_OAUTH_REFRESH_TOKEN": "Google OAuth refresh token",
    "SHORTVID_GOOGLE_TOKEN_URL": "Google token endpoint",
    "SHORTVID_YOUTUBE_UPLOAD_URL": "YouTube upload base URL",
    "SHORTVID_YOUTUBE_ANALYTICS_URL": "YouTube Analytics base URL",
    # tests and scripts only
    "SHORTVID_TEST_DATABASE_URL": "tests: a Postgres server to also run against",
    "SHORTVID_TEST_CLOCK_SHIFT_DAYS": "tests: run the suite with the clock moved this many days",
    "SHORTVID_TEST_PROCESSES": "tests: pytest processes (scripts/test.sh)",
    "SHORTVID_CHROMIUM": "tests: Chromium path",
    "SHORTVID_SKIP_CHROMIUM": "tests: do not install Chromium",
}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingError(ValueError):
    """An environment variable with a value shortvid cannot use."""


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _registered(name: str) -> str:
    if name not in VARIABLES and not name.startswith(POOL_PREFIX):
        raise KeyError(
            f"{name} is not in shortvid.settings.VARIABLES: register it (and document it in the README)"
        )
    return name


def _shown(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:60] + "…")


def text(name: str, default: str | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """The variable's value with surrounding blanks removed; `default` when unset or blank."""
    value = _environ(environ).get(_registered(name), "").strip()
    return value or default


def is_set(name: str, environ: Mapping[str, str] | None = None) -> bool:
    return text(name, environ=environ) is not None


def choice(name: str, options: Sequence[str], environ: Mapping[str, str] | None = None) -> str:
    """One of `options` (case-insensitive); the first option when unset."""
    value = (text(name, environ=environ) or options[0]).lower()
    if value not in options:
        raise SettingError(
            f"{name}={_shown(value)} is not one of {', '.join(options)}: set one of those or unset it"
        )
    return value


def number(
    name: str,
    default: float | None,
    *,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    allow_none: bool = False,
    environ: Mapping[str, str] | None = None,
) -> float | int | None:
    """A number within [minimum, maximum]; `default` when unset; with `allow_none`, "none" gives None."""
    raw = text(name, environ=environ)
    if raw is None:
        return default
    if allow_none and raw.lower() in ("none", "null"):
        return None
    kind = "a whole number" if integer else "a number"
    try:
        value: float | int = int(raw) if integer else float(raw)
    except ValueError:
        raise SettingError(f"{name}={_shown(raw)} is not {kind}: fix or unset it") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f"at least {minimum:g}" if maximum is None else f"between {minimum or 0:g} and {maximum:g}"
        raise SettingError(f"{name}={_shown(raw)} must be {kind} {bounds}: fix or unset it")
    return value


def flag(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    raw = text(name, environ=environ)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise SettingError(f"{name}={_shown(raw)} is not a yes/no value: use 1 or 0")


def path(name: str, default: Path, environ: Mapping[str, str] | None = None) -> Path:
    value = text(name, environ=environ)
    if value and any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise SettingError(f"{name}={_shown(value)} has a control character: write a plain path")
    return Path(value).expanduser().resolve() if value else default


def existing_file(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The path of the file `name` points at (None when unset); refused at start when there is no such file."""
    if text(name, environ=environ) is None:
        return None
    found = path(name, PROJECT_DIR, environ)
    if not found.is_file():
        raise SettingError(f"{name}={_shown(str(found))} is not a file: point it at one or unset it")
    return str(found)


def require(name: str, *, needed_by: str, instead: str, environ: Mapping[str, str] | None = None) -> None:
    """Refuse at start when the key `name` that `needed_by` (e.g. "SHORTVID_VOICE=openai") uses is unset.

    Only whether it is set is checked here; the value itself reaches the resource as `dg.EnvVar(name)`.
    """
    if not is_set(name, environ):
        raise SettingError(f"{needed_by} needs {name}, which is not set: set it, or {instead}")


def values(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every registered variable that is set (and every SHORTVID_POOL_<NAME>), as the environment has it now."""
    return {k: v for k, v in _environ(environ).items() if k in VARIABLES or k.startswith(POOL_PREFIX)}


def pool_limits(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """Pool limits set by SHORTVID_POOL_<NAME> variables (e.g. SHORTVID_POOL_RENDER=2 -> {"render": 2})."""
    limits = {}
    for name in sorted(_environ(environ)):
        if name.startswith(POOL_PREFIX) and text(name, environ=environ) is not None:
            limits[name[len(POOL_PREFIX) :].lower()] = int(
                number(name, None, integer=True, minimum=1, environ=environ)
            )
    return limits


# --- where things live ---------------------------------------------------------------------------------


def state_dir() -> Path:
    """The local state folder: embedded Postgres, Dagster home, intermediate artifacts."""
    return path("SHORTVID_HOME", PROJECT_DIR / ".shortvid")


def data_dir() -> Path:
    """Artifacts laid out `<asset>/<date>/<theme>.<ext>`."""
    return path("SHORTVID_DATA_DIR", state_dir() / "data")


def output_dir() -> Path:
    """Finished videos: `review/`, `approved/`, `rejected/`."""
    return path("SHORTVID_OUTPUT_DIR", PROJECT_DIR / "output")


def themes_file() -> Path:
    return path("SHORTVID_THEMES_FILE", PROJECT_DIR / "themes.yaml")


def database_url() -> str | None:
    """The review database; None means the embedded PostgreSQL under the state folder."""
    return text("SHORTVID_DATABASE_URL")


def embedded_postgres_dir() -> Path:
    # Unix socket paths are limited to ~100 characters, so keep this one short.
    return path("SHORTVID_EMBEDDED_PG_DIR", state_dir() / "pg")


def start_date(environ: Mapping[str, str] | None = None) -> date:
    """The first daily partition (SHORTVID_START_DATE, strict YYYY-MM-DD)."""
    raw = text("SHORTVID_START_DATE", DEFAULT_START_DATE, environ=environ)
    try:
        if len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise SettingError(
            f"SHORTVID_START_DATE={_shown(raw)} is not a date: write it as YYYY-MM-DD"
        ) from None


# --- checked once, at start ------------------------------------------------------------------------------

_LOCATIONS = ("SHORTVID_HOME", "SHORTVID_DATA_DIR", "SHORTVID_OUTPUT_DIR", "SHORTVID_THEMES_FILE")


def validate(environ: Mapping[str, str] | None = None) -> None:
    """Check every variable whose rule lives here (locations, start date, pool limits); SettingError on the first bad one.

    The CLI calls this before any command runs, and the code location before it builds its resources
    (whose `*_from_env` functions check the variables of each external system).
    """
    for name in _LOCATIONS:
        path(name, PROJECT_DIR, environ)
    start_date(environ)
    pool_limits(environ)
