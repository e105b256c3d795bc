#!/usr/bin/env bash
# Installs everything the tests need and runs the whole suite (unit, API, AppTest, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
echo "mypy --strict over fruxon_playground/ (configured in pyproject.toml)"
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
