"""Protects the review loop: CLI decision -> sensor tick -> review_status run -> files moved; the
sensor's exactly-once behaviour across ticks, a Postgres outage and a long backlog; and a decision
about an older render never being applied to a new one."""

import contextlib
import shutil
import tempfile
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from shortvid_assets.cli import main
from shortvid_assets.definitions import build_definitions
from shortvid_assets.domain.files import file_sha256
from shortvid_assets.orchestration.jobs import REVIEW_JOB, review_status_job
from shortvid_assets.orchestration.sensors import build_review_decisions_sensor, themes_sensor
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.review import queue
from shortvid_assets.runtime.runner import run_day
from shortvid_assets.storage import postgres, review_decisions

from .conftest import DAY, THEME

review_decisions_sensor = build_review_decisions_sensor(review_status_job)


@pytest.fixture
def cli_env(workspace, review_db_url):
    return {
        "SHORTVID_DATABASE_URL": review_db_url,
        "SHORTVID_OUTPUT_DIR": workspace.output_dir,
        "SHORTVID_DATA_DIR": workspace.data_dir,
        "SHORTVID_THEMES_FILE": workspace.themes_file,
    }


@pytest.fixture
def rendered(instance, graph_resources):
    defs = build_definitions(graph_resources)
    assert all(r.success for r in run_day(instance, DAY, [THEME], defs=defs))
    return defs


def tick(instance, review_db_url, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"review_db": ReviewDatabase(url=review_db_url)}
    )
    return review_decisions_sensor(context), context


def apply(instance, defs, run_request):
    result = defs.resolve_job_def(REVIEW_JOB).execute_in_process(
        instance=instance, partition_key=run_request.partition_key, run_config={}
    )
    event = result.asset_materializations_for_node("review_status")[0]
    return {k: v.value for k, v in event.metadata.items()}


def decisions(url):
    conn = postgres.connect(url)
    try:
        review_decisions.ensure_schema(conn)
        return review_decisions.list_decisions(conn)
    finally:
        conn.close()


def test_cli_approval_is_applied_by_one_sensor_tick_and_its_run(
    instance, rendered, workspace, cli_env, review_db_url
):
    out = CliRunner().invoke(
        main, ["review", "approve", DAY, THEME, "--by", "maya", "--note", "great hook"], env=cli_env
    )
    assert out.exit_code == 0, out.output

    result, _context = tick(instance, review_db_url)
    assert len(result.run_requests) == 1
    request = result.run_requests[0]
    saved = decisions(review_db_url)[0]
    assert request.run_key.startswith(f"review-decision-{saved.id}-")
    assert request.partition_key == f"{DAY}|{THEME}"

    metadata = apply(instance, rendered, request)
    assert metadata["status"] == "approved"
    assert metadata["reviewer"] == "maya" and metadata["note"] == "great hook"
    assert metadata["decision_id"] == saved.id
    assert workspace.artifacts.review_file("approved", DAY, THEME, "mp4").exists()
    assert workspace.artifacts.review_file("approved", DAY, THEME, "jpg").exists()
    assert not workspace.artifacts.review_file("review", DAY, THEME, "mp4").exists()

    again, _ = tick(instance, review_db_url, cursor=result.cursor)
    assert isinstance(again, dg.SkipReason)


def test_changed_decision_moves_the_video_again_and_latest_wins(
    instance, rendered, workspace, cli_env, review_db_url
):
    runner = CliRunner()
    assert runner.invoke(main, ["review", "approve", DAY, THEME, "--by", "maya"], env=cli_env).exit_code == 0
    assert (
        runner.invoke(
            main, ["review", "reject", DAY, THEME, "--by", "omar", "--note", "off-brand"], env=cli_env
        ).exit_code
        == 0
    )

    result, _ = tick(instance, review_db_url)
    assert len(result.run_requests) == 1  # two decisions for one video in one tick: one run
    assert result.run_requests[0].tags["shortvid/decision_count"] == "2"
    assert result.run_requests[0].tags["shortvid/decision_ids"].count(",") == 1
    metadata = apply(instance, rendered, result.run_requests[0])
    assert (metadata["status"], metadata["reviewer"]) == ("rejected", "omar")
    assert workspace.artifacts.review_file("rejected", DAY, THEME, "mp4").exists()
    assert not workspace.artifacts.review_file("approved", DAY, THEME, "mp4").exists()
    assert len(decisions(review_db_url)) == 2  # both stay in history

    listing = runner.invoke(main, ["review", "list"], env=cli_env)
    assert "omar" in listing.output and "maya" in listing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["review", "approve", DAY, "nosuch", "--by", "maya"], "unknown theme 'nosuch'"),
        (["review", "approve", "2026-13-01", THEME, "--by", "maya"], "invalid date '2026-13-01'"),
        (["review", "approve", "yesterday", THEME, "--by", "maya"], "invalid date 'yesterday'"),
        (["review", "approve", "2099-01-01", THEME, "--by", "maya"], "outside the daily partitions"),
        (["review", "approve", "2026-11-20", THEME, "--by", "maya"], "no composed video for 2026-11-20"),
        (["review", "reject", DAY, THEME, "--by", "  "], "reviewer is empty"),
    ],
)
def test_bad_decisions_are_refused_and_nothing_is_written(rendered, cli_env, review_db_url, args, message):
    out = CliRunner().invoke(main, args, env=cli_env)
    assert out.exit_code == 2
    assert message in out.output
    assert decisions(review_db_url) == []


def test_malformed_themes_file_is_refused_with_file_and_field(workspace, cli_env, review_db_url, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("themes:\n  - slug: Bad Slug\n")
    out = CliRunner().invoke(
        main,
        ["review", "approve", DAY, "x", "--by", "maya"],
        env={**cli_env, "SHORTVID_THEMES_FILE": str(bad)},
    )
    assert out.exit_code == 2
    assert str(bad) in out.output and "field 'slug'" in out.output
    assert decisions(review_db_url) == []


def test_themes_sensor_adds_new_theme_partitions(workspace):
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"paths": workspace})
        result = themes_sensor(context)
        assert result.dynamic_partitions_requests[0].partition_keys == [THEME]
        instance.add_dynamic_partitions("theme", [THEME])
        assert isinstance(
            themes_sensor(dg.build_sensor_context(instance=instance, resources={"paths": workspace})),
            dg.SkipReason,
        )


def test_review_tick_fails_and_keeps_its_cursor_while_postgres_is_down(instance):
    down = "postgresql://postgres@127.0.0.1:1/none"
    context = dg.build_sensor_context(
        instance=instance, cursor="{}", resources={"review_db": ReviewDatabase(url=down)}
    )
    with pytest.raises(postgres.DatabaseUnavailable, match="Cannot connect"):
        review_decisions_sensor(context)
    assert context.cursor == "{}"


# --- a decision judges one render ------------------------------------------------------------------


def test_a_decision_about_an_older_render_is_not_applied_to_a_new_one(
    instance, rendered, workspace, cli_env, review_db_url
):
    runner = CliRunner()
    assert runner.invoke(main, ["review", "approve", DAY, THEME, "--by", "maya"], env=cli_env).exit_code == 0
    (approval,) = decisions(review_db_url)
    assert approval.video_sha256 == file_sha256(
        workspace.artifacts.review_file("review", DAY, THEME, "mp4")
    )
    # A new render lands in output/review before the sensor applies the approval.
    video = workspace.artifacts.review_file("review", DAY, THEME, "mp4")
    video.write_bytes(video.read_bytes() + b"\0new render")

    result, _ = tick(instance, review_db_url)
    metadata = apply(instance, rendered, result.run_requests[0])
    assert metadata["status"] == "pending"
    assert metadata["stale_decision_id"] == approval.id
    assert video.exists() and not workspace.artifacts.review_file("approved", DAY, THEME, "mp4").exists()

    # A decision about the new render is applied.
    assert runner.invoke(main, ["review", "reject", DAY, THEME, "--by", "omar"], env=cli_env).exit_code == 0
    result, _ = tick(instance, review_db_url, cursor=result.cursor)
    metadata = apply(instance, rendered, result.run_requests[0])
    assert (metadata["status"], metadata["reviewer"]) == ("rejected", "omar")
    assert "stale_decision_id" not in metadata
    assert workspace.artifacts.review_file("rejected", DAY, THEME, "mp4").exists()


# --- the sensor across ticks: backlog, legacy cursor, outage --------------------------------------------


def _insert(url: str, day: str, theme: str, decision: str = "approved") -> int:
    conn = postgres.connect(url)
    try:
        review_decisions.ensure_schema(conn)
        return review_decisions.record_decision(
            conn, partition_date=day, theme=theme, decision=decision, reviewer="maya", video_path="x.mp4"
        ).id
    finally:
        conn.close()


def test_a_long_backlog_is_launched_over_several_ticks_each_video_once(instance, review_db_url, monkeypatch):
    monkeypatch.setattr(queue, "MAX_RUNS_PER_TICK", 2)
    ids = [_insert(review_db_url, DAY, f"t{i}") for i in range(5)]
    cursor, launched, keys = None, [], []
    for expected in (2, 2, 1):
        result, _ = tick(instance, review_db_url, cursor)
        assert len(result.run_requests) == expected
        launched += [r.partition_key for r in result.run_requests]
        keys += [r.run_key for r in result.run_requests]
        cursor = result.cursor
    assert launched == [f"{DAY}|t0", f"{DAY}|t1", f"{DAY}|t2", f"{DAY}|t3", f"{DAY}|t4"]
    assert [k.rsplit("-", 1)[0] for k in keys] == [f"review-decision-{i}" for i in ids]
    again, _ = tick(instance, review_db_url, cursor)
    assert isinstance(again, dg.SkipReason)


def test_a_new_decision_for_a_queued_video_merges_into_its_entry(instance, review_db_url, monkeypatch):
    monkeypatch.setattr(queue, "MAX_RUNS_PER_TICK", 1)
    first = _insert(review_db_url, DAY, "a")
    _insert(review_db_url, DAY, "b")
    result, _ = tick(instance, review_db_url)
    assert [r.run_key.rsplit("-", 1)[0] for r in result.run_requests] == [f"review-decision-{first}"]
    newer_b = _insert(review_db_url, DAY, "b", "rejected")
    result, _ = tick(instance, review_db_url, result.cursor)
    (request,) = result.run_requests
    assert (request.partition_key, request.run_key.rsplit("-", 1)[0]) == (f"{DAY}|b", f"review-decision-{newer_b}")
    assert request.tags["shortvid/decision_count"] == "2"
    assert isinstance(tick(instance, review_db_url, result.cursor)[0], dg.SkipReason)


def test_a_cursor_written_before_the_queue_existed_is_still_understood(instance, review_db_url):
    conn = postgres.connect(review_db_url)
    try:
        review_decisions.ensure_schema(conn)
        _, old_cursor = review_decisions.read_new_decisions(conn, None)
    finally:
        conn.close()
    new = _insert(review_db_url, DAY, "late")
    result, _ = tick(instance, review_db_url, cursor=old_cursor)
    assert [r.run_key.rsplit("-", 1)[0] for r in result.run_requests] == [f"review-decision-{new}"]
    with pytest.raises(review_decisions.InvalidCursor, match="reset the sensor's cursor"):
        tick(instance, review_db_url, cursor='{"pending": "nope"}')


class _DropsMidTick(ReviewDatabase):
    """A database whose connection is killed by the server between connecting and reading."""

    @contextlib.contextmanager
    def connection(self):
        with super().connection() as conn:
            killer = postgres.connect(self.url)
            try:
                killer.autocommit = True
                with killer.cursor() as cur:
                    cur.execute("SELECT pg_terminate_backend(%s)", (conn.get_backend_pid(),))
            finally:
                killer.close()
            yield conn


def test_a_connection_lost_mid_tick_fails_the_tick_with_a_clear_message_and_keeps_the_cursor(
    instance, review_db_url
):
    _insert(review_db_url, DAY, "a")
    context = dg.build_sensor_context(
        instance=instance, cursor=None, resources={"review_db": _DropsMidTick(url=review_db_url)}
    )
    with pytest.raises(postgres.DatabaseUnavailable, match=r"lost PostgreSQL .* cursor was not moved"):
        review_decisions_sensor(context)
    assert context.cursor is None
    result, _ = tick(instance, review_db_url)
    assert len(result.run_requests) == 1


def test_postgres_stopped_and_started_again_loses_and_repeats_nothing(instance):
    """A real server stopped between ticks: the tick fails, the cursor stays, every decision comes once."""
    root = Path(tempfile.mkdtemp(prefix="svdown-", dir="/tmp"))
    pg_dir = root / "pg"
    try:
        url = postgres.embedded_server_url(pg_dir)
        first = _insert(url, DAY, "a")
        result, _ = tick(instance, url)
        assert [r.run_key.rsplit("-", 1)[0] for r in result.run_requests] == [f"review-decision-{first}"]
        cursor = result.cursor
        before_outage = [_insert(url, DAY, "b"), _insert(url, DAY, "c", "rejected")]

        assert postgres.stop_embedded_server(pg_dir)
        down = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"review_db": ReviewDatabase(url=url)}
        )
        with pytest.raises(postgres.DatabaseUnavailable, match="Cannot connect to PostgreSQL"):
            review_decisions_sensor(down)
        assert down.cursor == cursor  # a failed tick leaves the cursor where it was

        url = postgres.embedded_server_url(pg_dir)
        after_outage = _insert(url, DAY, "d")
        result, _ = tick(instance, url, cursor)
        keys = sorted(r.run_key for r in result.run_requests)
        assert sorted(k.rsplit("-", 1)[0] for k in keys) == sorted(f"review-decision-{i}" for i in [*before_outage, after_outage])
        assert isinstance(tick(instance, url, result.cursor)[0], dg.SkipReason)
    finally:
        postgres.stop_embedded_server(pg_dir)
        shutil.rmtree(root, ignore_errors=True)


# --- end to end on a Dagster instance stored in the same PostgreSQL ---------------------------------------


def test_end_to_end_on_a_postgres_backed_instance(workspace, graph_resources, cli_env, review_db_url):
    """CLI decision -> sensor tick -> run -> review_status materialized with the decision, with the
    instance's runs and event log in the same server (local service and embedded, by parametrization)."""
    overrides = {"storage": {"postgres": {"postgres_url": postgres.dagster_storage_url(review_db_url)}}}
    with dg.instance_for_test(overrides=overrides) as pg_instance:
        pg_instance.add_dynamic_partitions("theme", [THEME])
        defs = build_definitions(graph_resources)
        assert all(r.success for r in run_day(pg_instance, DAY, [THEME], defs=defs))
        out = CliRunner().invoke(
            main, ["review", "approve", DAY, THEME, "--by", "maya", "--note", "ship"], env=cli_env
        )
        assert out.exit_code == 0, out.output
        (saved,) = decisions(review_db_url)

        sensor_resources = {"review_db": graph_resources["review_db"]}
        context = dg.build_sensor_context(instance=pg_instance, resources=sensor_resources)
        result = review_decisions_sensor(context)
        (request,) = result.run_requests
        run = defs.resolve_job_def(REVIEW_JOB).execute_in_process(
            instance=pg_instance,
            partition_key=request.partition_key,
            tags={**request.tags, "dagster/run_key": request.run_key},
        )
        assert run.success

        event = pg_instance.get_latest_materialization_event(dg.AssetKey("review_status"))
        materialization = event.asset_materialization
        assert materialization.partition == f"{DAY}|{THEME}"
        metadata = {k: v.value for k, v in materialization.metadata.items()}
        assert (metadata["status"], metadata["decision"], metadata["reviewer"], metadata["note"]) == (
            "approved",
            "approved",
            "maya",
            "ship",
        )
        assert metadata["decision_id"] == saved.id
        assert metadata["decided_at"] == saved.decided_at.isoformat()
        assert workspace.artifacts.review_file("approved", DAY, THEME, "mp4").exists()
        stored = pg_instance.get_run_by_id(run.run_id)
        assert stored.tags["dagster/run_key"].startswith(f"review-decision-{saved.id}-")
        assert isinstance(
            review_decisions_sensor(
                dg.build_sensor_context(
                    instance=pg_instance, resources=sensor_resources, cursor=result.cursor
                )
            ),
            dg.SkipReason,
        )
