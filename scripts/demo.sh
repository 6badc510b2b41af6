#!/usr/bin/env bash
# Quick start 1: the whole graph for yesterday (or --date D) and every sample theme, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/shortvid demo "$@"
