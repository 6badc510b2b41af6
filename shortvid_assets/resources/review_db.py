"""shortvid's database (review decisions, generation log): a configured Postgres URL, or the embedded server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg

from shortvid_assets import generation_log, postgres, review_store


class ReviewDatabase(dg.ConfigurableResource):
    """Postgres holding review decisions and the generation log; SHORTVID_DATABASE_URL or the embedded server."""

    url: str | None = None

    def resolved_url(self) -> str:
        return self.url or postgres.resolve_database_url()

    @contextlib.contextmanager
    def connection(self) -> Iterator:
        conn = postgres.connect(self.resolved_url())
        try:
            review_store.ensure_schema(conn)
            generation_log.ensure_schema(conn)
            yield conn
        finally:
            conn.close()
