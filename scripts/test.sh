#!/usr/bin/env bash
# Quick start 2: the test suite. Uses the embedded PostgreSQL; set SHORTVID_TEST_DATABASE_URL
# (e.g. postgresql://postgres@127.0.0.1:5432/postgres) to also run every database test on a server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/ensure-chromium.sh  # the review page's browser test drives Debian's Chromium
.venv/bin/ruff check .
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache  # the architecture contracts in pyproject.toml
# Two test processes (the machine's two cores; most end-to-end tests wait on daemons, workers and
# servers). --dist loadfile keeps a module's tests, and the daemon or workers its fixture started, in
# one process. SHORTVID_TEST_PROCESSES=0 runs everything in this process.
exec .venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 \
  -n "${SHORTVID_TEST_PROCESSES:-2}" --dist loadfile "$@"
