"""Protects the review loop: CLI decision -> sensor tick -> review_status run -> files moved."""

import dagster as dg
import pytest
from click.testing import CliRunner

from shortvid_assets import postgres, review_store
from shortvid_assets.cli import main
from shortvid_assets.definitions import build_definitions
from shortvid_assets.jobs import REVIEW_JOB
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.runner import run_day
from shortvid_assets.sensors import review_decisions_sensor, themes_sensor

from .conftest import DAY, THEME


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
        review_store.ensure_schema(conn)
        return review_store.list_decisions(conn)
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
    assert request.run_key == f"review-decision-{saved.id}"
    assert request.partition_key == f"{DAY}|{THEME}"

    metadata = apply(instance, rendered, request)
    assert metadata["status"] == "approved"
    assert metadata["reviewer"] == "maya" and metadata["note"] == "great hook"
    assert metadata["decision_id"] == saved.id
    assert workspace.review_file("approved", DAY, THEME, "mp4").exists()
    assert workspace.review_file("approved", DAY, THEME, "jpg").exists()
    assert not workspace.review_file("review", DAY, THEME, "mp4").exists()

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
    assert result.run_requests[0].tags["shortvid/decision_ids"].count(",") == 1
    metadata = apply(instance, rendered, result.run_requests[0])
    assert (metadata["status"], metadata["reviewer"]) == ("rejected", "omar")
    assert workspace.review_file("rejected", DAY, THEME, "mp4").exists()
    assert not workspace.review_file("approved", DAY, THEME, "mp4").exists()
    assert len(decisions(review_db_url)) == 2  # both stay in history

    listing = runner.invoke(main, ["review", "list"], env=cli_env)
    assert "omar" in listing.output and "maya" in listing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["review", "approve", DAY, "nosuch", "--by", "maya"], "unknown theme 'nosuch'"),
        (["review", "approve", "2026-13-01", THEME, "--by", "maya"], "invalid date '2026-13-01'"),
        (["review", "approve", "2099-01-01", THEME, "--by", "maya"], "outside the daily partitions"),
        (["review", "approve", "2026-11-20", THEME, "--by", "maya"], "no composed video for 2026-11-20"),
        (["review", "reject", DAY, THEME, "--by", "  "], "--by must name the reviewer"),
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
