"""The generation log (REVIEW-2) and cost ledger (REVIEW-5) in PostgreSQL: one row per generation attempt.

`video_script` and `voiceover` write a row each time they run, successful or not: the theme,
the trend pattern the plan follows, the prompts sent, the model, the paid calls with their
tokens, characters or seconds, the USD cost, the output path and the status. The table lives in
the same database as `review_decisions`; any SQL client may read it, and `shortvid log` shows it.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, Literal

import psycopg2
import psycopg2.extensions
from psycopg2.extras import Json
from pydantic import BaseModel, ConfigDict, Field, field_validator

from shortvid_assets.storage import postgres

Status = Literal["succeeded", "failed"]
STATUSES = ("succeeded", "failed")

# Any constant, distinct from review_decisions': serialises concurrent schema creation across processes.
_SCHEMA_LOCK_KEY = 0x5F5D_0002

_TABLE_DDL = """
CREATE TABLE IF NOT EXISTS generation_log (
    id bigserial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    date date NOT NULL,
    theme text NOT NULL,
    asset text NOT NULL,
    implementation text NOT NULL,
    trend_pattern text,
    prompts jsonb NOT NULL DEFAULT '[]'::jsonb,
    model text,
    calls jsonb NOT NULL DEFAULT '[]'::jsonb,
    cost_usd numeric(14, 8) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
    output_path text,
    status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    error text,
    run_id text
)
"""
_INDEX_DDL = (
    "CREATE INDEX IF NOT EXISTS generation_log_partition_idx ON generation_log (date, theme, asset, id DESC)"
)

_COLUMNS = (
    "id, created_at, date, theme, asset, implementation, trend_pattern, prompts, model, calls, "
    "cost_usd, output_path, status, error, run_id"
)


class InvalidGeneration(ValueError):
    """A generation log entry with a value the table would not accept."""


class GenerationRecord(BaseModel):
    """One row of `generation_log`."""

    model_config = ConfigDict(frozen=True)

    id: int
    created_at: dt.datetime
    date: dt.date
    theme: str
    asset: str
    implementation: str = Field(
        description="Which implementation ran: template, openai, espeak-ng:en-us, ..."
    )
    trend_pattern: str | None
    prompts: list[dict[str, Any]]
    model: str | None
    calls: list[dict[str, Any]] = Field(description="Paid calls: provider, model, kind, units, cost_usd")
    cost_usd: float
    output_path: str | None
    status: Status
    error: str | None
    run_id: str | None

    @field_validator("cost_usd", mode="before")
    @classmethod
    def _float(cls, value: Decimal | float) -> float:
        return float(value)


def ensure_schema(conn: psycopg2.extensions.connection) -> None:
    """Create `generation_log` and its index when missing; takes no table lock when they exist."""
    postgres.ensure_relations(
        conn, _SCHEMA_LOCK_KEY, ("generation_log", "generation_log_partition_idx"), (_TABLE_DDL, _INDEX_DDL)
    )


def _row(row: tuple) -> GenerationRecord:
    return GenerationRecord.model_validate(dict(zip(GenerationRecord.model_fields, row, strict=True)))


def _date(value: dt.date | str) -> dt.date:
    try:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidGeneration(f"date {value!r} is not a date; write it as YYYY-MM-DD") from None


def record_generation(
    conn: psycopg2.extensions.connection,
    *,
    date: dt.date | str,
    theme: str,
    asset: str,
    implementation: str,
    status: Status,
    trend_pattern: str | None = None,
    prompts: list[dict[str, Any]] | None = None,
    model: str | None = None,
    calls: list[dict[str, Any]] | None = None,
    cost_usd: float = 0.0,
    output_path: str | None = None,
    error: str | None = None,
    run_id: str | None = None,
) -> GenerationRecord:
    """Insert one generation attempt and return the stored row."""
    if status not in STATUSES:
        raise InvalidGeneration(f"status {status!r} is not one of {', '.join(STATUSES)}")
    if not theme.strip() or not asset.strip() or not implementation.strip():
        raise InvalidGeneration("theme, asset and implementation must not be empty")
    if cost_usd < 0:
        raise InvalidGeneration(f"cost_usd must be >= 0, got {cost_usd}")
    with postgres.transaction(conn) as cur:
        cur.execute(
            "INSERT INTO generation_log (date, theme, asset, implementation, trend_pattern, prompts, model, "
            "calls, cost_usd, output_path, status, error, run_id) "
            f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
            (
                _date(date),
                theme,
                asset,
                implementation,
                trend_pattern,
                Json(prompts or []),
                model,
                Json(calls or []),
                Decimal(str(round(cost_usd, 8))),
                output_path,
                status,
                error,
                run_id,
            ),
        )
        return _row(cur.fetchone())


def list_generations(
    conn: psycopg2.extensions.connection,
    *,
    date: dt.date | str | None = None,
    theme: str | None = None,
    limit: int = 100,
) -> list[GenerationRecord]:
    """Generation attempts, newest first, optionally for one date and/or theme."""
    with postgres.transaction(conn) as cur:
        cur.execute(
            f"SELECT {_COLUMNS} FROM generation_log "
            "WHERE (%(date)s::date IS NULL OR date = %(date)s::date) "
            "AND (%(theme)s::text IS NULL OR theme = %(theme)s::text) "
            "ORDER BY id DESC LIMIT %(limit)s",
            {"date": _date(date) if date is not None else None, "theme": theme, "limit": limit},
        )
        return [_row(row) for row in cur.fetchall()]


def get_generation(conn: psycopg2.extensions.connection, generation_id: int) -> GenerationRecord | None:
    """One generation attempt by id, or None."""
    with postgres.transaction(conn) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM generation_log WHERE id = %s", (generation_id,))
        row = cur.fetchone()
    return _row(row) if row else None


def generation_cost(
    conn: psycopg2.extensions.connection, date: dt.date | str, theme: str, *, lineage_only: bool = False
) -> float:
    """USD spent on the video of `date` and `theme`: every attempt's paid calls, failed ones included.

    With `lineage_only`, only the latest successful attempt of each asset counts: the cost of the
    script and voiceover the current video was made from.
    """
    latest = (
        "AND id IN (SELECT max(id) FROM generation_log WHERE date = %(date)s AND theme = %(theme)s "
        "AND status = 'succeeded' GROUP BY asset)"
        if lineage_only
        else ""
    )
    with postgres.transaction(conn) as cur:
        cur.execute(
            "SELECT coalesce(sum(cost_usd), 0) FROM generation_log "
            f"WHERE date = %(date)s AND theme = %(theme)s {latest}",
            {"date": _date(date), "theme": theme},
        )
        return float(cur.fetchone()[0])


def logged_cost(conn: psycopg2.extensions.connection, date: dt.date | str, theme: str) -> float | None:
    """USD spent on the video (every attempt) for the review page; None when nothing was logged for it."""
    with postgres.transaction(conn) as cur:
        cur.execute("SELECT to_regclass('generation_log') IS NOT NULL")
        if not cur.fetchone()[0]:
            return None
        cur.execute(
            "SELECT count(*), coalesce(sum(cost_usd), 0) FROM generation_log WHERE date = %s AND theme = %s",
            (_date(date), theme),
        )
        count, total = cur.fetchone()
    return float(total) if count else None


def to_json(record: GenerationRecord) -> str:
    """The record as indented JSON, for `shortvid log show`."""
    return json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False)
