"""Protects the style-classifier resources: rules by default, OpenAI by configuration, and rows the
model leaves out classified by the rules and counted."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from shortvid_assets.domain import analysis, windows
from shortvid_assets.domain.sample_trends import sample_trends
from shortvid_assets.resources.style_classifiers import (
    OpenAIStyleClassifier,
    RuleStyleClassifier,
    style_classifier_from_env,
)
from shortvid_assets.settings import SettingError
from shortvid_assets_tests.fakes.fake_openai import CHAT, FAKE_KEY, running_fake
from shortvid_assets_tests.fakes.style_labels import label_reply

DAY = date(2026, 11, 24)


@pytest.fixture
def fake():
    yield from running_fake()


@pytest.fixture
def window():
    frame = analysis.trends_frame(sample_trends("youtube", DAY, 12))
    return analysis.window_trends(frame, windows.analysis_window(DAY, 24))


def test_rules_by_default_and_openai_when_asked():
    assert isinstance(style_classifier_from_env({}), RuleStyleClassifier)
    chosen = style_classifier_from_env(
        {
            "SHORTVID_STYLE_CLASSIFIER": "openai",
            "OPENAI_API_KEY": "sk-fake-classifier-key",
            "SHORTVID_STYLE_MODEL": "gpt-4o",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
            "SHORTVID_STYLE_BATCH_SIZE": "10",
        }
    )
    assert isinstance(chosen, OpenAIStyleClassifier)
    assert isinstance(chosen.api_key, dg.EnvVar) and chosen.api_key.env_var_name == "OPENAI_API_KEY"
    assert (chosen.model, chosen.batch_size, chosen.base_url) == ("gpt-4o", 10, "http://127.0.0.1:9/v1")


@pytest.mark.parametrize(
    "environ",
    [
        {"SHORTVID_STYLE_CLASSIFIER": "llm"},
        {"SHORTVID_STYLE_CLASSIFIER": "openai", "OPENAI_API_KEY": "sk-x", "SHORTVID_STYLE_BATCH_SIZE": "x"},
        {"SHORTVID_STYLE_CLASSIFIER": "openai"},
    ],
)
def test_bad_configuration_is_refused(environ):
    with pytest.raises(ValueError, match="SHORTVID_STYLE"):
        style_classifier_from_env(environ)


def test_settings_an_openai_classifier_without_its_key_is_refused_at_start():
    with pytest.raises(SettingError, match=r"^SHORTVID_STYLE_CLASSIFIER=openai needs OPENAI_API_KEY"):
        style_classifier_from_env({"SHORTVID_STYLE_CLASSIFIER": "openai", "OPENAI_API_KEY": " "})


def test_rules_classifier_matches_the_domain_rules(window):
    result = RuleStyleClassifier().classify(window)
    assert result.classifier == "rules" and result.calls == 0
    assert result.styles.equals(analysis.classify_styles(window))


def test_openai_classifier_labels_rows_and_falls_back_for_what_it_skips(fake, window):
    fake.chat(label_reply(lambda item: "animation", skip=2), label_reply(lambda item: "animation"))
    classifier = OpenAIStyleClassifier(api_key=FAKE_KEY, base_url=fake.base_url, batch_size=10)

    result = classifier.classify(window)

    assert len(fake.requests_to(CHAT)) == 2
    rules = analysis.classify_styles(window)
    skipped = window.index[8:10]
    assert (result.styles.drop(skipped) == "animation").all()
    assert result.styles[skipped].tolist() == rules[skipped].tolist()
    assert result.fallback == 2 and result.calls == 2 and result.cost_usd > 0
    assert result.classifier == "openai:gpt-4o-mini"
    assert FAKE_KEY not in classifier.describe()
