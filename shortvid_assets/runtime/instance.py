"""The Dagster instance and database wiring shared by the CLI, the demo and `dagster dev`."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import dagster as dg

from shortvid_assets import settings
from shortvid_assets.storage import postgres

log = logging.getLogger(__name__)

# Default pool limits (the render is encode-bound, one at a time on 2 cores: two at once made no more
# 1080p videos an hour, measured by benchmarks/backfill.py --encoder-check; the YouTube and
# Apify quotas are per project, so one collector each; the OpenAI API takes a few calls at once).
POOL_LIMITS = {"render": 1, "openai": 4, "youtube_api": 1, "apify": 1}


def apply_pool_limits(
    instance: dg.DagsterInstance, environ: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Write the pool limits into the instance; return each pool's limit afterwards.

    A default goes only where the pool has no limit of its own yet (so a limit someone set in the
    UI or with `dagster instance concurrency set` stays); a SHORTVID_POOL_<NAME> variable always wins.
    """
    overrides = settings.pool_limits(environ)
    storage = instance.event_log_storage
    limits = {}
    for pool in sorted({*POOL_LIMITS, *overrides}):
        info = storage.get_concurrency_info(pool)
        unset = info.slot_count == 0 or info.using_default_limit
        wanted = overrides.get(pool, POOL_LIMITS.get(pool)) if pool in overrides or unset else None
        if wanted is not None and wanted != info.slot_count:
            storage.set_concurrency_slots(pool, wanted)
            log.info("pool %s: limit %d", pool, wanted)
        limits[pool] = wanted if wanted is not None else info.slot_count
    return limits


def prepare_environment() -> dict[str, str]:
    """Resolve the database and Dagster home and export them for this process and its children."""
    database = postgres.resolve_database_url()
    os.environ["SHORTVID_DATABASE_URL"] = database
    home = Path(settings.text("DAGSTER_HOME") or settings.state_dir() / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    config = home / "dagster.yaml"
    template = settings.PROJECT_DIR / "dagster.yaml"
    if template.exists() and (not config.exists() or config.read_bytes() != template.read_bytes()):
        shutil.copyfile(template, config)
    return {"DAGSTER_HOME": str(home), "SHORTVID_DATABASE_URL": database}


def get_instance() -> dg.DagsterInstance:
    """shortvid's Dagster instance (on Postgres), with the pool limits in place."""
    prepare_environment()
    instance = dg.DagsterInstance.get()
    apply_pool_limits(instance)
    return instance
