"""Protects the instance config: Postgres storage by shortvid's URL rules, the run queue, retries, pools."""

import dagster as dg
import dagster_postgres
import pytest
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from shortvid_assets.runtime import instance as shortvid_instance
from shortvid_assets.runtime import instance_storage
from shortvid_assets.runtime.instance import POOL_LIMITS, apply_pool_limits
from shortvid_assets.runtime.instance_storage import storage_url
from shortvid_assets.runtime.runner import run_partition
from shortvid_assets.settings import SettingError, pool_limits
from shortvid_assets.storage import postgres

from .conftest import fresh_database


def test_storage_url_order_and_scheme(monkeypatch):
    monkeypatch.setenv("SHORTVID_DATABASE_URL", "postgresql://review@db.example:5432/shortvid")
    monkeypatch.delenv("SHORTVID_DAGSTER_STORAGE_URL", raising=False)
    assert storage_url() == "postgresql+psycopg2://review@db.example:5432/shortvid"

    monkeypatch.setenv("SHORTVID_DAGSTER_STORAGE_URL", "postgres://dagster@db.example/dagster")
    assert storage_url() == "postgresql+psycopg2://dagster@db.example/dagster"
    assert storage_url("postgresql://given@h/db") == "postgresql+psycopg2://given@h/db"
    with pytest.raises(postgres.InvalidDatabaseUrl, match="scheme 'mysql'"):
        storage_url("mysql://root@h/db")


def test_project_instance_config(site):
    with site.instance() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 4
        assert {"key": "dagster/backfill", "limit": 3} in queue.tag_concurrency_limits
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        assert not instance.run_retries_retry_on_asset_or_op_failure
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 60


def test_a_step_waiting_for_a_pool_slot_asks_again_every_half_second(site):
    """Dagster's own wait backs off to 15 s; a freed render slot must not sit idle that long. The run's
    process gets the same storage from the instance reference the launcher hands it."""
    with site.instance() as instance:
        forked = dg.DagsterInstance.from_ref(instance.get_ref())
        for storage in (instance.event_log_storage, forked.event_log_storage):
            assert isinstance(storage, instance_storage.ShortvidEventLogStorage)
        storage = instance.event_log_storage
        storage.set_concurrency_slots("bench_pool", 1)
        holder = storage.claim_concurrency_slot("bench_pool", "run-a", "render_a")
        waiting = storage.claim_concurrency_slot("bench_pool", "run-b", "render_b")
        assert holder.is_claimed and holder.sleep_interval is None
        assert not waiting.is_claimed and waiting.sleep_interval == instance_storage.CLAIM_RETRY_S
        storage.free_concurrency_slot_for_step("run-a", "render_a")
        assert storage.claim_concurrency_slot("bench_pool", "run-b", "render_b").is_claimed
        forked.dispose()


def test_the_storage_sets_up_everything_dagster_postgres_does(site):
    url = storage_url()
    ours = instance_storage.ShortvidPostgresStorage(postgres_url=url)
    theirs = dagster_postgres.DagsterPostgresStorage(postgres_url=url)
    try:
        assert set(vars(ours)) == set(vars(theirs))
        assert type(ours.run_storage) is type(theirs.run_storage)
        assert type(ours.schedule_storage) is type(theirs.schedule_storage)
    finally:
        for storage in (ours, theirs):
            for part in (storage.run_storage, storage.event_log_storage, storage.schedule_storage):
                part.dispose()


def test_materializations_land_in_the_postgres_database(site):
    """The demo's path: a partition materialized through the site instance is a row in Postgres."""
    with site.instance() as instance:
        ran = run_partition(instance, "daily_trends_job", "2026-11-24", defs=_defs(site))
    assert ran.success
    conn = postgres.connect(site.storage_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
                "AND partition = %s",
                ("2026-11-24",),
            )
            assert cur.fetchone()[0] == 4  # youtube_trends, tiktok_trends, trends, trend_report
    finally:
        conn.close()


def test_get_instance_falls_back_to_the_review_database(tmp_path, ops_server_url, monkeypatch):
    with fresh_database(ops_server_url) as url:
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("SHORTVID_DATABASE_URL", url)
        monkeypatch.delenv("SHORTVID_DAGSTER_STORAGE_URL", raising=False)
        with shortvid_instance.get_instance() as instance:
            assert (tmp_path / "home" / "dagster.yaml").exists()
            assert instance.run_storage.postgres_url == postgres.dagster_storage_url(url)
            assert {
                p: instance.event_log_storage.get_concurrency_info(p).slot_count for p in POOL_LIMITS
            } == (POOL_LIMITS)


def test_pool_limits_fill_gaps_keep_hand_set_limits_and_obey_overrides(site):
    with site.instance() as instance:
        instance.event_log_storage.set_concurrency_slots("openai", 7)  # set by hand (UI or CLI)

        assert apply_pool_limits(instance, environ={}) == {**POOL_LIMITS, "openai": 7}
        assert apply_pool_limits(instance, environ={"SHORTVID_POOL_RENDER": "2"})["render"] == 2
        assert instance.event_log_storage.get_concurrency_info("render").slot_count == 2
        assert instance.event_log_storage.get_concurrency_info("openai").slot_count == 7


def test_pool_overrides_are_validated():
    assert pool_limits({"SHORTVID_POOL_YOUTUBE_API": "3", "OTHER": "1"}) == {"youtube_api": 3}
    with pytest.raises(SettingError, match="SHORTVID_POOL_RENDER='0'"):
        pool_limits({"SHORTVID_POOL_RENDER": "0"})
    with pytest.raises(SettingError, match="whole number"):
        pool_limits({"SHORTVID_POOL_RENDER": "two"})


def _defs(site) -> dg.Definitions:
    from shortvid_assets.definitions import build_definitions

    return build_definitions(site.resources())
