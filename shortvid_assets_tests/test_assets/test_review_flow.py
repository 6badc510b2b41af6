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
from dagster._core.definitions.partitions.context import partition_loading_context

from shortvid_assets.cli import main
from shortvid_assets.definitions import build_definitions
from shortvid_assets.domain.files import file_sha256
from shortvid_assets.orchestration.jobs import REVIEW_JOB, review_status_job
from shortvid_assets.orchestration.sensors import build_review_decisions_sensor, themes_sensor
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.review import queue
from shortvid_assets.runtime.runner import run_day
from shortvid_assets.storage import postgres, review_decisions
from shortvid_assets_tests.tiny import MINICUP, themes_yaml

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


# Themes the sensor tests write decisions for: all in the config the sensor reads.
SENSOR_THEMES = (THEME, "a", "b", "c", "d", "late", *(f"t{i}" for i in range(5)))
_SENSOR_PATHS: list[ShortvidPaths] = []


@pytest.fixture(autouse=True)
def sensor_paths(tmp_path_factory) -> ShortvidPaths:
    """The folders and a themes config naming every theme these tests decide about."""
    root = tmp_path_factory.mktemp("sensor-paths")
    themes = root / "themes.yaml"
    themes.write_text(
        themes_yaml(*(MINICUP.replace("slug: minicup", f"slug: {slug}") for slug in SENSOR_THEMES))
    )
    paths = ShortvidPaths(
        data_dir=str(root / "data"), output_dir=str(root / "output"), themes_file=str(themes)
    )
    _SENSOR_PATHS[:] = [paths]
    return paths


def sensor_context(instance, review_db, cursor=None, paths=None):
    resources = {"review_db": review_db, "paths": paths or _SENSOR_PATHS[0]}
    return dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)


def tick(instance, review_db_url, cursor=None, paths=None):
    context = sensor_context(instance, ReviewDatabase(url=review_db_url), cursor, paths)
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
    context = sensor_context(instance, ReviewDatabase(url=down), cursor="{}")
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
    assert approval.video_sha256 == file_sha256(workspace.artifacts.review_file("review", DAY, THEME, "mp4"))
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
    assert (request.partition_key, request.run_key.rsplit("-", 1)[0]) == (
        f"{DAY}|b",
        f"review-decision-{newer_b}",
    )
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
    context = sensor_context(instance, _DropsMidTick(url=review_db_url))
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
        down = sensor_context(instance, ReviewDatabase(url=url), cursor)
        with pytest.raises(postgres.DatabaseUnavailable, match="Cannot connect to PostgreSQL"):
            review_decisions_sensor(down)
        assert down.cursor == cursor  # a failed tick leaves the cursor where it was

        url = postgres.embedded_server_url(pg_dir)
        after_outage = _insert(url, DAY, "d")
        result, _ = tick(instance, url, cursor)
        keys = sorted(r.run_key for r in result.run_requests)
        assert sorted(k.rsplit("-", 1)[0] for k in keys) == sorted(
            f"review-decision-{i}" for i in [*before_outage, after_outage]
        )
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

        sensor_resources = {"review_db": graph_resources["review_db"], "paths": workspace}
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


# --- the review gate: one bad row must not stop every later decision -----------------------------------


def _insert_sql(
    url: str, day: str, theme: str, decision: str = "approved", reviewer: str = "sql-client"
) -> int:
    """A row as any SQL client may insert it, past shortvid's own validation."""
    conn = postgres.connect(url)
    try:
        review_decisions.ensure_schema(conn)
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO review_decisions (partition_date, theme, video_path, decision, reviewer) "
                "VALUES (%s, %s, 'x.mp4', %s, %s) RETURNING id",
                (day, theme, decision, reviewer),
            )
            (new_id,) = cur.fetchone()
        conn.commit()
        return new_id
    finally:
        conn.close()


def evaluate(defs, instance, review_db_url, cursor=None, paths=None):
    """One tick as the daemon evaluates it: run requests resolved against the job's partitions."""
    sensor = defs.resolve_sensor_def("review_decisions_sensor")
    context = dg.build_sensor_context(
        instance=instance,
        instance_ref=instance.get_ref(),  # as in the daemon: run requests see this tick's new partitions
        cursor=cursor,
        definitions=defs,
        resources={"review_db": ReviewDatabase(url=review_db_url), "paths": paths or _SENSOR_PATHS[0]},
    )
    # As the sensor daemon evaluates a tick (dagster/_daemon/sensor.py): partitions load from the instance.
    with partition_loading_context(dynamic_partitions_store=instance):
        return sensor.evaluate_tick(context)


def launch(instance, defs, run_requests) -> list[dict]:
    """Launch run requests as the daemon does: a run key already used is dropped, the others run."""
    applied = []
    for request in run_requests:
        if instance.get_runs(filters=dg.RunsFilter(tags={"dagster/run_key": request.run_key})):
            continue
        result = defs.resolve_job_def(REVIEW_JOB).execute_in_process(
            instance=instance,
            partition_key=request.partition_key,
            tags={**request.tags, "dagster/run_key": request.run_key},
        )
        event = result.asset_materializations_for_node("review_status")[0]
        applied.append({k: v.value for k, v in event.metadata.items()} | {"tags": request.tags})
    return applied


def test_review_gate_a_row_the_sensor_cannot_apply_never_blocks_the_others(
    instance, rendered, workspace, cli_env, review_db_url, capfd
):
    gone = _insert_sql(review_db_url, DAY, "gone")  # a theme not (or no longer) in the config
    too_old = _insert_sql(review_db_url, "2019-05-01", THEME)  # before the first daily partition
    assert (
        CliRunner().invoke(main, ["review", "approve", DAY, THEME, "--by", "maya"], env=cli_env).exit_code
        == 0
    )
    (valid,) = [d for d in decisions(review_db_url) if d.reviewer == "maya"]

    capfd.readouterr()
    data = evaluate(rendered, instance, review_db_url, paths=workspace)
    (request,) = data.run_requests
    assert request.partition_key == f"{DAY}|{THEME}"
    assert request.tags["shortvid/decision_ids"] == str(valid.id)
    log = capfd.readouterr().err  # the tick's log
    assert f"#{gone} for {DAY}|gone set aside: theme 'gone' is not in the themes config" in log
    assert (
        f"#{too_old} for 2019-05-01|{THEME} set aside: date 2019-05-01 is outside the daily partitions" in log
    )

    (metadata,) = launch(instance, rendered, data.run_requests)
    assert (metadata["status"], metadata["decision_id"]) == ("approved", valid.id)
    assert workspace.artifacts.review_file("approved", DAY, THEME, "mp4").exists()

    # The bad rows stay set aside, visibly: the next tick finds nothing and `review list` says why.
    assert isinstance(tick(instance, review_db_url, data.cursor, paths=workspace)[0], dg.SkipReason)
    listing = CliRunner().invoke(main, ["review", "list"], env=cli_env).output
    lines = {line.split()[0]: line for line in listing.splitlines()}
    assert "[not applicable: theme 'gone' is not in the themes config]" in lines[f"#{gone}"]
    assert "not applicable: date 2019-05-01 is outside the daily partitions" in lines[f"#{too_old}"]
    assert "not applicable" not in lines[f"#{valid.id}"]


def test_review_gate_a_new_theme_in_the_config_gets_its_partition_in_the_same_tick(
    rendered, workspace, review_db_url
):
    with dg.instance_for_test() as fresh:  # the themes sensor has not added any partition yet
        _insert_sql(review_db_url, DAY, THEME)
        data = evaluate(rendered, fresh, review_db_url, paths=workspace)
        assert [r.partition_key for r in data.run_requests] == [f"{DAY}|{THEME}"]
        assert data.dynamic_partitions_requests[0].partition_keys == [THEME]


def test_review_gate_a_failed_set_aside_write_still_moves_on(instance, rendered, workspace, review_db_url):
    gone = _insert_sql(review_db_url, DAY, "gone")
    valid = _insert_sql(review_db_url, DAY, THEME)
    conn = postgres.connect(review_db_url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:  # the set-aside table cannot be written
            cur.execute(
                "ALTER TABLE review_decisions_set_aside ADD CONSTRAINT no_rows CHECK (false) NOT VALID"
            )
        data = evaluate(rendered, instance, review_db_url, paths=workspace)
        assert [r.tags["shortvid/decision_ids"] for r in data.run_requests] == [str(valid)]
        assert review_decisions.set_aside_reasons(conn, [gone]) == {}
    finally:
        conn.close()


def test_review_gate_two_evaluations_from_one_stored_cursor_with_a_late_commit_apply_both(
    instance, rendered, workspace, review_db_url
):
    """The run key names the set of decisions: a tick evaluated again from the same stored cursor
    (its first result not saved) after an older decision committed late asks for a new run."""
    stored = evaluate(rendered, instance, review_db_url, paths=workspace).cursor
    late = postgres.connect(review_db_url)
    try:
        with late.cursor() as cur:  # a reviewer's transaction takes its id first and commits last
            cur.execute(
                "INSERT INTO review_decisions (partition_date, theme, video_path, decision, reviewer) "
                "VALUES (%s, %s, 'x.mp4', 'rejected', 'omar') RETURNING id",
                (DAY, THEME),
            )
            (late_id,) = cur.fetchone()
        early_id = _insert_sql(review_db_url, DAY, THEME, "approved", "maya")
        assert late_id < early_id

        first = evaluate(rendered, instance, review_db_url, stored, paths=workspace)
        (applied_first,) = launch(instance, rendered, first.run_requests)
        assert applied_first["tags"]["shortvid/decision_ids"] == str(early_id)
        assert applied_first["decision_id"] == early_id
        late.commit()
    finally:
        late.close()

    again = evaluate(rendered, instance, review_db_url, stored, paths=workspace)
    (request,) = again.run_requests
    assert request.run_key != first.run_requests[0].run_key
    (applied_again,) = launch(instance, rendered, again.run_requests)
    assert applied_again["tags"]["shortvid/decision_ids"] == f"{late_id},{early_id}"
    # Both decisions were applied by a run; the one decided last counts, and both stay in the history.
    assert (
        applied_again["decision_id"] == max(decisions(review_db_url), key=lambda d: (d.decided_at, d.id)).id
    )
    assert len(instance.get_runs(filters=dg.RunsFilter(tags={"shortvid/decision_id": str(early_id)}))) == 2


def test_review_gate_a_second_daemon_skips_while_another_tick_holds_the_lock(instance, review_db_url):
    new = _insert(review_db_url, DAY, THEME)
    holder = postgres.connect(review_db_url)
    try:
        holder.autocommit = True
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (review_decisions.SENSOR_LOCK_KEY,))
        skipped, context = tick(instance, review_db_url)
        assert isinstance(skipped, dg.SkipReason)
        assert "another review sensor tick holds the lock" in skipped.skip_message
        assert context.cursor is None  # nothing read, nothing moved
    finally:
        holder.close()  # the other daemon's tick ends
    result, _ = tick(instance, review_db_url)
    assert [r.tags["shortvid/decision_id"] for r in result.run_requests] == [str(new)]
