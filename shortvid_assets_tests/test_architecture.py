"""Protects the house: imports run one way with no circle, each concern keeps one home, every
environment variable is documented, every requirement id cited exists, and the review page
loads none of the pipeline's heavy libraries."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shortvid_assets import settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "shortvid_assets"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _source_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_import_contracts_hold():
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert result.stdout.count("KEPT") >= 4


def test_the_contracts_catch_a_circle_and_an_upward_import(tmp_path):
    """The same contracts on a copy of the package with one circle and one upward import added fail."""
    copy = tmp_path / "shortvid_assets"
    subprocess.run(["cp", "-r", str(PACKAGE), str(copy)], check=True)
    (copy / "domain" / "scenes.py").write_text(
        (copy / "domain" / "scenes.py").read_text() + "\nfrom shortvid_assets.domain import models  # noqa\n"
    )
    (copy / "domain" / "models.py").write_text(
        (copy / "domain" / "models.py").read_text() + "\nfrom shortvid_assets.domain import scenes  # noqa\n"
    )
    (copy / "storage" / "files_up.py").write_text("from shortvid_assets.assets import review  # noqa\n")
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "No cycles are allowed in shortvid_assets.domain." in result.stdout
    assert ".models -> .scenes" in result.stdout or ".scenes -> .models" in result.stdout
    assert "shortvid_assets.storage.files_up -> shortvid_assets.assets.review" in result.stdout


def test_at_most_five_modules_sit_loose_at_the_package_top():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= 5, loose


def test_nothing_inside_the_package_imports_the_composition_root_except_entry_points():
    importers = set()
    for path in _source_files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "shortvid_assets.definitions":
                importers.add(path.relative_to(PACKAGE).parts[0])
    assert importers <= {"runtime", "cli"}, importers


def test_only_the_clock_asks_for_the_time_of_day():
    offenders = []
    for path in _source_files():
        if path.name == "clock.py":
            continue
        text = path.read_text()
        for pattern in ("datetime.now(", "date.today(", "datetime.utcnow(", "dt.datetime.now("):
            if pattern in text:
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert not offenders, offenders


def test_environment_variables_are_read_only_through_settings():
    offenders = []
    for path in _source_files():
        if path.name == "settings.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            read = re.search(r"os\.(?:environ\.get\(|getenv\(|environ\[)\s*[\"']([A-Z0-9_]+)", line)
            writes = re.search(r"os\.environ\[[^\]]+\]\s*=(?!=)", line)  # exporting to children is fine
            if read and not writes and (read[1] in settings.VARIABLES or read[1].startswith("SHORTVID_")):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, offenders


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_the_readme_configuration_table_lists_exactly_the_registered_variables():
    table = _readme_section("Configuration")
    documented = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            documented |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    assert documented == set(settings.VARIABLES), (
        f"in the README only: {sorted(documented - set(settings.VARIABLES))}; "
        f"registered only: {sorted(set(settings.VARIABLES) - documented)}"
    )


def test_every_variable_the_code_names_is_registered():
    named = set()
    for path in [*_source_files(), *(ROOT / "scripts").glob("*.sh"), ROOT / ".ci" / "run"]:
        named |= set(re.findall(r"\bSHORTVID_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    named -= {settings.POOL_PREFIX.rstrip("_")}
    assert named <= set(settings.VARIABLES), sorted(named - set(settings.VARIABLES))


def test_an_unregistered_variable_cannot_be_read():
    with pytest.raises(KeyError, match="register it"):
        settings.text("SHORTVID_NOT_A_SETTING")


def test_every_requirement_id_the_code_cites_is_in_the_index():
    index = set(re.findall(r"^- ([A-Z]+-\d+) ", (ROOT / "docs" / "requirements.md").read_text(), re.M))
    cited = set()
    for path in _source_files():
        cited |= set(
            re.findall(r"\b(?:RUN|TREND|ANLYS|SCRIPT|VIDEO|VOICE|COMP|REVIEW|ORCH)-\d+\b", path.read_text())
        )
    assert cited and cited <= index, sorted(cited - index)


def test_the_review_page_and_the_cli_helpers_load_no_heavy_library():
    code = (
        "import sys, shortvid_assets.review.app, shortvid_assets.cli.common, shortvid_assets.review.queue\n"
        "print(sorted(m for m in ('dagster', 'pandas', 'openai', 'moviepy', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"


def test_loading_the_code_location_loads_no_library_only_one_stage_needs():
    # Every launched run's process and every code server imports the definitions (Scale issue): the
    # libraries of one stage (pandas for trends, matplotlib for the report chart, the OpenAI SDK for
    # configured writers, moviepy) load in the steps that use them.
    code = (
        "import sys, shortvid_assets.definitions\n"
        "print(sorted(m for m in ('pandas', 'openai', 'moviepy', 'matplotlib', 'pyarrow') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"
