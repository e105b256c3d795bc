#!/usr/bin/env bash
# Installs the playground into .venv (Python 3.11+). With --test also the test extras and Debian's
# chromium for the browser tests. Idempotent: re-running only fills what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[ "${1:-}" = "--test" ] && with_tests=1

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check uv
extra=""
[ "$with_tests" = 1 ] && extra="[test]"
# Compiled bytecode halves streamlit's start-up on machines that set PYTHONDONTWRITEBYTECODE.
.venv/bin/uv pip install -q --compile-bytecode -p .venv/bin/python -e ".${extra}"

if [ "$with_tests" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get -o DPkg::Lock::Timeout=300 update -q
  $sudo_cmd apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends chromium
fi
