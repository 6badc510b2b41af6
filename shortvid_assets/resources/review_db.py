"""shortvid's database (review decisions, generation log): a configured Postgres URL, or the embedded server."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import dagster as dg

from shortvid_assets.storage import generation_log, postgres, review_decisions


class ReviewDatabase(dg.ConfigurableResource):
    """Postgres holding review decisions and the generation log; SHORTVID_DATABASE_URL or the embedded server."""

    url: str | None = None

    def resolved_url(self) -> str:
        return self.url or postgres.resolve_database_url()

    @contextlib.contextmanager
    def connection(self) -> Iterator:
        """A connection with `review_decisions` in place (the review sensor and review_status)."""
        with self._connection(review_decisions.ensure_schema) as conn:
            yield conn

    @contextlib.contextmanager
    def generation_log_connection(self) -> Iterator:
        """A connection with `generation_log` in place (the stages that record what they spend)."""
        with self._connection(generation_log.ensure_schema) as conn:
            yield conn

    def _connection(self, ensure_schema: Callable) -> contextlib.AbstractContextManager:
        return postgres.connected(self.resolved_url(), ensure_schema)
