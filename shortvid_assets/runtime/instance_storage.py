"""Dagster instance storage on Postgres that finds its server the way shortvid does (RUN-3).

dagster-postgres needs its URL in dagster.yaml, so a plain `postgres:` block only works once
someone has exported it. This storage takes `postgres_url` when given, else
SHORTVID_DAGSTER_STORAGE_URL, else SHORTVID_DATABASE_URL, else the embedded PostgreSQL under
the state folder, so `dagster dev`, `dagster-daemon run` and `dagster definitions validate`
work on the project's dagster.yaml with no environment at all. Whichever URL wins is given the
scheme `postgresql+psycopg2`, which dagster-postgres needs with SQLAlchemy 2.1.

A step waiting for a pool slot asks again every `CLAIM_RETRY_S`. Dagster's storage leaves the wait to
the executor, which backs off from 1 s to 15 s: after a long wait for the render slot (every video
of a backfill waits for it), the freed slot sat idle for seconds before the next render noticed it
(Scale issue: `benchmarks/backfill.py`, "render pool idle").
"""

from __future__ import annotations

from dagster import Field, StringSource
from dagster._core.storage.base_storage import DagsterStorage
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage

from shortvid_assets import settings
from shortvid_assets.storage import postgres

STORAGE_URL_ENV = "SHORTVID_DAGSTER_STORAGE_URL"
# Seconds between a blocked step's claims of a pool slot: one small transaction each.
CLAIM_RETRY_S = 0.5


def storage_url(configured: str | None = None) -> str:
    """The instance storage URL (scheme `postgresql+psycopg2`) by the order in the module docstring."""
    url = (configured or "").strip() or settings.text(STORAGE_URL_ENV)
    return postgres.dagster_storage_url(url or postgres.resolve_database_url())


class ShortvidEventLogStorage(PostgresEventLogStorage):
    """dagster-postgres' event log, telling a step that waits for a pool slot to ask again soon."""

    def claim_concurrency_slot(self, concurrency_key, run_id, step_key, priority=None):
        status = super().claim_concurrency_slot(concurrency_key, run_id, step_key, priority)
        if status.is_claimed or status.sleep_interval is not None:
            return status
        return status.with_sleep_interval(CLAIM_RETRY_S)


class ShortvidPostgresStorage(DagsterPostgresStorage):
    """dagster-postgres storage whose URL defaults to shortvid's database, with a prompter pool wait."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
    ) -> None:
        # DagsterPostgresStorage.__init__, with ShortvidEventLogStorage for its event log (a test checks
        # that this sets everything the parent's does)
        self.postgres_url = postgres_url
        self.should_autocreate_tables = should_autocreate_tables
        self._inst_data = inst_data
        self._run_storage = PostgresRunStorage(postgres_url, should_autocreate_tables)
        self._event_log_storage = ShortvidEventLogStorage(postgres_url, should_autocreate_tables)
        self._schedule_storage = PostgresScheduleStorage(postgres_url, should_autocreate_tables)
        DagsterStorage.__init__(self)

    @classmethod
    def config_type(cls):
        return {"postgres_url": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value):
        return cls(inst_data=inst_data, postgres_url=storage_url(config_value.get("postgres_url")))
