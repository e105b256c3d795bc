#!/usr/bin/env bash
# Installs the playground into .venv (Python 3.11+). With --test also the test extras and, from
# Debian, chromium, postgresql and haproxy for the tests. Idempotent: re-running only fills what is missing.
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

# Debian packages for the tests: chromium (browser tests), PostgreSQL and HAProxy (the history store
# on both backends and the team topology of scripts/team-local.sh). Only what is missing is installed.
if [ "$with_tests" = 1 ]; then
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
  command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
  if [ "${#missing[@]}" -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get -o DPkg::Lock::Timeout=300 update -q
    $sudo_cmd apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
  fi
fi
