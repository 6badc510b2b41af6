"""Protects the stages from retrying what a retry cannot fix: a missing input file, an invalid plan, a bad
themes file or setting, text Postgres refuses. Such a step fails once, at once, with the reason; the
stages' retry policy is kept for what may pass later (an API outage)."""

from __future__ import annotations

import dagster as dg
import psycopg2
import pytest
from pydantic import ValidationError

from shortvid_assets.assets.content import video_script, voiceover
from shortvid_assets.domain.models import Theme
from shortvid_assets.domain.themes import ThemeConfigError
from shortvid_assets.partitions import date_theme_key
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.resources.script_writers import TemplateScriptWriter
from shortvid_assets.resources.voices import OfflineVoice
from shortvid_assets.settings import SettingError
from shortvid_assets.storage.artifacts import MissingArtifact
from shortvid_assets_tests.test_assets.conftest import DAY, THEME

# Never connected to: each stage here fails before it opens the database.
NO_DATABASE = ReviewDatabase(url="postgresql://nobody@127.0.0.1:9/none")
RETRY_EVENTS = {"STEP_UP_FOR_RETRY", "STEP_RESTARTED"}


def materialize(asset, instance, **resources) -> tuple[list[str], str]:
    result = dg.materialize(
        [asset],
        partition_key=date_theme_key(DAY, THEME),
        instance=instance,
        resources={"review_db": NO_DATABASE, **resources},
        raise_on_error=False,
    )
    assert not result.success
    kinds = [e.event_type_value for e in result.all_events if e.step_key == asset.key.to_user_string()]
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    return kinds, failure.step_failure_data.user_failure_data.description


def test_no_retry_for_a_missing_input_file(instance, workspace):
    kinds, reason = materialize(video_script, instance, script_writer=TemplateScriptWriter(), paths=workspace)
    assert not RETRY_EVENTS & set(kinds) and kinds.count("STEP_FAILURE") == 1
    assert reason.startswith("MissingArtifact: ") and "not retried" in reason


def test_no_retry_for_an_invalid_plan(instance, workspace):
    plan = workspace.artifacts.plan(DAY, THEME)
    plan.parent.mkdir(parents=True)
    plan.write_text('{"title": "", "scenes": []}')
    kinds, reason = materialize(voiceover, instance, voice=OfflineVoice(), paths=workspace)
    assert not RETRY_EVENTS & set(kinds) and kinds.count("STEP_FAILURE") == 1
    assert reason.startswith("ValidationError: ")


def test_no_retry_for_a_themes_file_that_became_invalid(instance, workspace):
    themes = workspace.themes_file
    with open(themes, "a") as handle:
        handle.write("    tone: twice\n")
    kinds, reason = materialize(video_script, instance, script_writer=TemplateScriptWriter(), paths=workspace)
    assert not RETRY_EVENTS & set(kinds) and kinds.count("STEP_FAILURE") == 1
    assert reason.startswith("ThemeConfigError: ") and "appears twice" in reason


def _validation_error() -> ValidationError:
    try:
        Theme.model_validate({})
    except ValidationError as exc:
        return exc
    raise AssertionError("an empty theme validated")


@pytest.mark.parametrize(
    "error",
    [
        MissingArtifact("no plan for 2026-11-24|minicup: materialize video_script first"),
        _validation_error(),
        SettingError("SHORTVID_VIDEO_FPS='x' is not a whole number"),
        ThemeConfigError("themes.yaml: theme 'a': field 'tagline': is blank"),
        psycopg2.DataError("invalid byte sequence for encoding UTF8"),
    ],
    ids=lambda error: type(error).__name__,
)
@pytest.mark.parametrize("generator", [False, True], ids=["function", "generator"])
def test_no_retry_each_final_error_becomes_a_failure_without_retries(error, generator):
    from shortvid_assets.assets.retries import FINAL_ERRORS, no_retry_for_bad_input

    assert isinstance(error, FINAL_ERRORS)

    def stage():
        raise error

    def stage_yielding():
        yield 1
        raise error

    wrapped = no_retry_for_bad_input(stage_yielding if generator else stage)
    with pytest.raises(dg.Failure) as failed:
        list(wrapped()) if generator else wrapped()
    assert failed.value.allow_retries is False and type(error).__name__ in failed.value.description


def test_no_retry_leaves_other_errors_to_the_retry_policy():
    from shortvid_assets.assets.retries import no_retry_for_bad_input

    def stage():
        raise ConnectionError("the API is down")

    with pytest.raises(ConnectionError):
        no_retry_for_bad_input(stage)()
