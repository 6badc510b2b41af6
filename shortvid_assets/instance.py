"""The Dagster instance and database wiring shared by the CLI, the demo and `dagster dev`."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import dagster as dg

from shortvid_assets import postgres, settings

log = logging.getLogger(__name__)

# Pool limits written into the instance (DESIGN: the render is encode-bound, one at a time on 2 cores).
POOL_LIMITS = {"render": 1, "openai": 4, "youtube_api": 1, "apify": 1}


def prepare_environment() -> dict[str, str]:
    """Resolve the database and Dagster home and export them for this process and its children."""
    database = postgres.resolve_database_url()
    os.environ["SHORTVID_DATABASE_URL"] = database
    home = Path(os.environ.get("DAGSTER_HOME") or settings.state_dir() / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    config = home / "dagster.yaml"
    template = settings.PROJECT_DIR / "dagster.yaml"
    if template.exists() and (not config.exists() or config.read_bytes() != template.read_bytes()):
        shutil.copyfile(template, config)
    return {"DAGSTER_HOME": str(home), "SHORTVID_DATABASE_URL": database}


def get_instance() -> dg.DagsterInstance:
    prepare_environment()
    instance = dg.DagsterInstance.get()
    for pool, limit in POOL_LIMITS.items():
        if instance.event_log_storage.get_concurrency_info(pool).slot_count == 0:
            instance.event_log_storage.set_concurrency_slots(pool, limit)
    return instance
