"""Where shortvid keeps its files, read from the environment (RUN-2).

Every location has an offline default under the project folder so a fresh clone runs as is.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser().resolve() if value else default


def state_dir() -> Path:
    """The local state folder: embedded Postgres, Dagster home, intermediate artifacts."""
    return _path_from_env("SHORTVID_HOME", PROJECT_DIR / ".shortvid")


def data_dir() -> Path:
    """Artifacts laid out `<asset>/<date>/<theme>.<ext>`."""
    return _path_from_env("SHORTVID_DATA_DIR", state_dir() / "data")


def output_dir() -> Path:
    """Finished videos: `review/`, `approved/`, `rejected/`."""
    return _path_from_env("SHORTVID_OUTPUT_DIR", PROJECT_DIR / "output")


def themes_file() -> Path:
    return _path_from_env("SHORTVID_THEMES_FILE", PROJECT_DIR / "themes.yaml")


def database_url() -> str | None:
    """The review database; None means the embedded PostgreSQL under the state folder."""
    return os.environ.get("SHORTVID_DATABASE_URL", "").strip() or None


def embedded_postgres_dir() -> Path:
    # Unix socket paths are limited to ~100 characters, so keep this one short.
    return _path_from_env("SHORTVID_EMBEDDED_PG_DIR", state_dir() / "pg")
