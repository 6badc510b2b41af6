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

# Default pool limits (DESIGN: the render is encode-bound, one at a time on 2 cores; the YouTube and
# Apify quotas are per project, so one collector each; the OpenAI API takes a few calls at once).
POOL_LIMITS = {"render": 1, "openai": 4, "youtube_api": 1, "apify": 1}
POOL_ENV_PREFIX = "SHORTVID_POOL_"


class InvalidPoolLimit(ValueError):
    """A SHORTVID_POOL_<NAME> variable that is not a whole number of at least 1."""


def pool_overrides(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """Pool limits set by SHORTVID_POOL_<NAME> variables (e.g. SHORTVID_POOL_RENDER=2 -> {"render": 2})."""
    environ = os.environ if environ is None else environ
    limits = {}
    for name, value in environ.items():
        if not name.startswith(POOL_ENV_PREFIX) or not value.strip():
            continue
        pool = name[len(POOL_ENV_PREFIX) :].lower()
        try:
            limit = int(value)
        except ValueError:
            limit = 0
        if limit < 1:
            raise InvalidPoolLimit(f"{name}={value!r}: a pool limit is a whole number of at least 1")
        limits[pool] = limit
    return limits


def apply_pool_limits(
    instance: dg.DagsterInstance, environ: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Write the pool limits into the instance; return each pool's limit afterwards.

    A default goes only where the pool has no limit of its own yet (so a limit someone set in the
    UI or with `dagster instance concurrency set` stays); a SHORTVID_POOL_<NAME> variable always wins.
    """
    overrides = pool_overrides(environ)
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
    home = Path(os.environ.get("DAGSTER_HOME") or settings.state_dir() / "dagster_home").resolve()
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
