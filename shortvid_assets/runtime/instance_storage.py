"""Dagster instance storage on Postgres that finds its server the way shortvid does (RUN-3).

dagster-postgres needs its URL in dagster.yaml, so a plain `postgres:` block only works once
someone has exported it. This storage takes `postgres_url` when given, else
SHORTVID_DAGSTER_STORAGE_URL, else SHORTVID_DATABASE_URL, else the embedded PostgreSQL under
the state folder, so `dagster dev`, `dagster-daemon run` and `dagster definitions validate`
work on the project's dagster.yaml with no environment at all. Whichever URL wins is given the
scheme `postgresql+psycopg2`, which dagster-postgres needs with SQLAlchemy 2.1.
"""

from __future__ import annotations

from dagster import Field, StringSource
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage

from shortvid_assets import settings
from shortvid_assets.storage import postgres

STORAGE_URL_ENV = "SHORTVID_DAGSTER_STORAGE_URL"


def storage_url(configured: str | None = None) -> str:
    """The instance storage URL (scheme `postgresql+psycopg2`) by the order in the module docstring."""
    url = (configured or "").strip() or settings.text(STORAGE_URL_ENV)
    return postgres.dagster_storage_url(url or postgres.resolve_database_url())


class ShortvidPostgresStorage(DagsterPostgresStorage):
    """dagster-postgres storage whose URL defaults to shortvid's database."""

    @classmethod
    def config_type(cls):
        return {"postgres_url": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value):
        return cls(inst_data=inst_data, postgres_url=storage_url(config_value.get("postgres_url")))
