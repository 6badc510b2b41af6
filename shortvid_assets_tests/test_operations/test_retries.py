"""Protects step retries (ORCH-3): every stage that calls outside retries with exponential backoff and
jitter, and a collector facing a flaky API fails twice, waits, and succeeds on its third attempt.
"""

from datetime import UTC, datetime

import dagster as dg
import pytest

from shortvid_assets.assets.trends import youtube_trends
from shortvid_assets.definitions import defs
from shortvid_assets.resources.trend_sources import YouTubeTrendSource
from shortvid_assets_tests.fakes.server import Response
from shortvid_assets_tests.fakes.youtube import FakeYouTube, google_error

DAY = "2026-11-24"
API_KEY = "test-key-retries"
# Resources whose implementations may call a remote API (the offline defaults stand in for them).
EXTERNAL = {"youtube_source", "tiktok_source", "style_classifier", "script_writer", "voice", "visuals"}
CALLS_OUTSIDE = sorted(
    key.to_user_string()
    for key, spec in (
        (k, defs.resolve_assets_def(k)) for k in defs.resolve_asset_graph().get_all_asset_keys()
    )
    if EXTERNAL & set(spec.required_resource_keys)
)


def test_the_stages_calling_outside_are_known():
    assert {"youtube_trends", "tiktok_trends", "video_script", "voiceover", "scene_clips"} <= set(
        CALLS_OUTSIDE
    )


@pytest.mark.parametrize("asset", CALLS_OUTSIDE)
def test_stages_calling_outside_retry_with_exponential_backoff_and_jitter(asset):
    policy = defs.resolve_assets_def(asset).op.retry_policy
    assert policy is not None, f"{asset} has no RetryPolicy"
    assert policy.max_retries >= 3 and policy.delay and policy.delay > 0
    assert policy.backoff == dg.Backoff.EXPONENTIAL and policy.jitter is not None


def test_flaky_youtube_fails_twice_then_the_step_succeeds(workspace, instance):
    backend_error = Response(500, google_error(500, "Backend Error", "backendError", "global"))
    with FakeYouTube(API_KEY) as fake:
        fake.add_many(5, start=datetime(2026, 11, 24, 6, 0, tzinfo=UTC))
        fake.fail("GET", "/youtube/v3/search", backend_error, backend_error)
        source = YouTubeTrendSource(api_key=API_KEY, base_url=fake.base_url, max_retries=0, timeout_s=5)

        result = dg.materialize(
            [youtube_trends],
            partition_key=DAY,
            instance=instance,
            resources={"youtube_source": source, "paths": workspace},
        )
        searches = len(fake.calls("GET", "/youtube/v3/search"))

    assert result.success
    events = [e for e in result.all_events if e.step_key == "youtube_trends"]
    kinds = [e.event_type_value for e in events]
    assert kinds.count("STEP_FAILURE") == 0
    assert kinds.count("STEP_UP_FOR_RETRY") == 2 and kinds.count("STEP_RESTARTED") == 2
    assert kinds.count("STEP_SUCCESS") == 1
    order = [k for k in kinds if k in {"STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_SUCCESS"}]
    assert order == ["STEP_UP_FOR_RETRY", "STEP_RESTARTED"] * 2 + ["STEP_SUCCESS"]
    retries = [e for e in events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert all("Backend Error" in e.event_specific_data.error.to_string() for e in retries)
    assert all(e.event_specific_data.seconds_to_wait > 0 for e in retries)
    assert searches == 3  # two 500s, then the answer
    metadata = result.asset_materializations_for_node("youtube_trends")[0].metadata
    assert metadata["collected"].value == 5
