"""Protects the generation log (REVIEW-2) and cost ledger (REVIEW-5) in Postgres: an idempotent schema,
rows as written, the cost of a video with and without failed attempts, and `shortvid log`."""

from __future__ import annotations

import json

import psycopg2
import pytest
from click.testing import CliRunner

from shortvid_assets.cli.log import log
from shortvid_assets.storage import generation_log

DAY = "2026-11-24"


@pytest.fixture
def conn(review_db_url):
    connection = generation_log_connection(review_db_url)
    yield connection
    connection.close()


def generation_log_connection(url):
    from shortvid_assets.storage import postgres

    connection = postgres.connect(url)
    generation_log.ensure_schema(connection)
    return connection


def record(conn, **overrides):
    fields = {
        "date": DAY,
        "theme": "glowcup",
        "asset": "video_script",
        "implementation": "openai",
        "status": "succeeded",
        "trend_pattern": "montage · question hook · ~20 s",
        "prompts": [{"step": "analysis", "messages": [{"role": "user", "content": "hi"}]}],
        "model": "gpt-4o-mini",
        "calls": [
            {"provider": "openai", "model": "gpt-4o-mini", "kind": "chat", "units": {}, "cost_usd": 0.0012}
        ],
        "cost_usd": 0.0012,
        "output_path": "/data/video_script/2026-11-24/glowcup.json",
    }
    fields.update(overrides)
    return generation_log.record_generation(conn, **fields)


def test_schema_is_idempotent_and_has_the_documented_columns(conn):
    generation_log.ensure_schema(conn)
    generation_log.ensure_schema(conn)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'generation_log' ORDER BY ordinal_position"
        )
        columns = dict(cur.fetchall())
    conn.rollback()
    assert list(columns) == [
        "id", "created_at", "date", "theme", "asset", "implementation", "trend_pattern", "prompts",
        "model", "calls", "cost_usd", "output_path", "status", "error", "run_id",
    ]  # fmt: skip
    assert (columns["prompts"], columns["calls"], columns["cost_usd"]) == ("jsonb", "jsonb", "numeric")


def test_a_row_reads_back_as_written(conn):
    saved = record(conn, run_id="run-1")

    again = generation_log.get_generation(conn, saved.id)
    assert again == saved
    assert again.prompts[0]["messages"][0]["content"] == "hi"
    assert again.cost_usd == pytest.approx(0.0012)
    assert again.calls[0]["kind"] == "chat"
    assert generation_log.get_generation(conn, saved.id + 100) is None


def test_list_filters_by_date_and_theme_newest_first(conn):
    first = record(conn)
    second = record(conn, theme="trailpack")
    third = record(conn, date="2026-11-25")

    assert [r.id for r in generation_log.list_generations(conn)] == [third.id, second.id, first.id]
    assert [r.id for r in generation_log.list_generations(conn, date=DAY)] == [second.id, first.id]
    assert [r.id for r in generation_log.list_generations(conn, date=DAY, theme="glowcup")] == [first.id]
    assert [r.id for r in generation_log.list_generations(conn, limit=1)] == [third.id]


def test_video_cost_sums_every_attempt_or_only_its_lineage(conn):
    record(conn, status="failed", cost_usd=0.001, error="HTTP 500")  # paid analysis, then a failure
    record(conn, cost_usd=0.002)  # superseded script
    record(conn, cost_usd=0.003)  # the script the video was made from
    record(conn, asset="voiceover", cost_usd=0.0005, model="gpt-4o-mini-tts")
    record(conn, theme="other", cost_usd=9.0)

    assert generation_log.generation_cost(conn, DAY, "glowcup") == pytest.approx(0.0065)
    assert generation_log.generation_cost(conn, DAY, "glowcup", lineage_only=True) == pytest.approx(0.0035)
    assert generation_log.generation_cost(conn, "2026-01-01", "glowcup") == 0.0


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"status": "done"}, "status 'done'"),
        ({"theme": " "}, "must not be empty"),
        ({"cost_usd": -1.0}, "cost_usd must be >= 0"),
        ({"date": "24/11/2026"}, "YYYY-MM-DD"),
    ],
)
def test_invalid_rows_are_refused_with_the_reason(conn, overrides, problem):
    with pytest.raises(generation_log.InvalidGeneration, match=problem):
        record(conn, **overrides)
    assert generation_log.list_generations(conn) == []


def test_the_table_refuses_bad_rows_from_any_sql_client(conn):
    with pytest.raises(psycopg2.errors.CheckViolation), conn.cursor() as cur:
        cur.execute(
            "INSERT INTO generation_log (date, theme, asset, implementation, status) "
            "VALUES ('2026-11-24', 't', 'a', 'i', 'maybe')"
        )
    conn.rollback()


def test_cli_lists_and_shows_rows(review_db_url, conn, monkeypatch):
    monkeypatch.setenv("SHORTVID_DATABASE_URL", review_db_url)
    script = record(conn)
    record(
        conn, asset="voiceover", status="failed", cost_usd=0.0003, error="HTTP 429", model="gpt-4o-mini-tts"
    )
    runner = CliRunner()

    listed = runner.invoke(log, ["list", "--date", DAY, "--theme", "glowcup"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert len(lines) == 3
    assert "voiceover" in lines[0] and "failed" in lines[0] and "$0.00030" in lines[0]
    assert f"#{script.id}" in lines[1] and "succeeded" in lines[1] and "gpt-4o-mini" in lines[1]
    assert lines[2] == "2 rows, $0.00150 in all"

    shown = runner.invoke(log, ["show", str(script.id)])
    assert shown.exit_code == 0, shown.output
    body, total = shown.output.rsplit("\n", 2)[0], shown.output.splitlines()[-1]
    assert json.loads(body)["prompts"][0]["step"] == "analysis"
    assert total == f"spent on the video of {DAY} glowcup so far: $0.00150"

    missing = runner.invoke(log, ["show", "999999"])
    assert missing.exit_code == 2 and "no generation #999999" in missing.output
    empty = runner.invoke(log, ["list", "--theme", "nothing-here"])
    assert empty.exit_code == 0 and "no generations logged yet for this filter" in empty.output
    bad = runner.invoke(log, ["list", "--date", "yesterday"])
    assert bad.exit_code == 2 and "invalid date" in bad.output
