#!/usr/bin/env bash
# Quick start 2: the test suite. Uses the embedded PostgreSQL; set SHORTVID_TEST_DATABASE_URL
# (e.g. postgresql://postgres@127.0.0.1:5432/postgres) to also run every database test on a server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/ensure-chromium.sh  # the review page's browser test drives Debian's Chromium
.venv/bin/ruff check .
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache  # the architecture contracts in pyproject.toml
exec .venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 "$@"
