#!/usr/bin/env bash
# The team deployment on this machine without containers: Debian's PostgreSQL, two app replicas and
# HAProxy (deploy/haproxy.cfg itself, pointed at loopback ports), all on 127.0.0.1. tests/team uses it.
#
#   scripts/team-local.sh start [--only postgres]   start; prints the proxy URL, writes $TEAM_DIR/env
#   scripts/team-local.sh status                    what is running
#   scripts/team-local.sh stop                      stop everything and delete $TEAM_DIR
#
# Settings: TEAM_DIR (default ${TMPDIR:-/tmp}/fruxon-playground-team), TEAM_PROXY_PORT (8080),
# TEAM_APP_PORTS ("8601 8602"), TEAM_PG_PORT (55432), TEAM_STATS_PORT (8404), TEAM_PG_DURABLE (0: the
# cluster skips fsync; 1: it flushes like a real one). The replicas inherit
# PLAYGROUND_* and FRUXON_* variables from the caller (PLAYGROUND_HISTORY_* are set here).
# initdb and pg_ctl refuse to run as root, so as root PostgreSQL runs as the `postgres` user.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
team_dir=${TEAM_DIR:-${TMPDIR:-/tmp}/fruxon-playground-team}
proxy_port=${TEAM_PROXY_PORT:-8080}
read -r -a app_ports <<<"${TEAM_APP_PORTS:-8601 8602}"
pg_port=${TEAM_PG_PORT:-55432}
stats_port=${TEAM_STATS_PORT:-8404}
python="$root/.venv/bin/python"
[ -x "$python" ] || python=python3
pg_dir="$team_dir/postgres"

die() { echo "team-local: $*" >&2; exit 1; }

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ] && command -v initdb >/dev/null; then dir=$(dirname "$(command -v initdb)"); fi
  [ -n "$dir" ] || die "PostgreSQL is not installed: run 'bash scripts/install.sh --test' (or apt-get install -y postgresql)."
  echo "$dir"
}

as_pg() {  # runs a PostgreSQL tool as the cluster's owner
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

wait_http() {  # url, seconds
  "$python" - "$1" "$2" <<'PY'
import sys, time, urllib.request
url, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.3)
sys.exit(f"team-local: {url} did not answer in time")
PY
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_postgres() {
  local bin password
  bin=$(pg_bin)
  mkdir -p "$pg_dir/data" "$pg_dir/run"
  chmod 700 "$pg_dir" "$pg_dir/data" "$pg_dir/run"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$pg_dir"
    runuser -u postgres -- test -w "$pg_dir" || die "the postgres user cannot reach $pg_dir: pick a TEAM_DIR whose parent folders others may enter"
  fi
  as_pg "$bin/initdb" -D "$pg_dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$team_dir/initdb.log" 2>&1 \
    || die "initdb failed; see $team_dir/initdb.log"
  cat >>"$pg_dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pg_dir/run'
synchronous_commit = off
EOF
  # A throwaway cluster need not survive a crash of the machine. TEAM_PG_DURABLE=1 keeps the flushes
  # (benchmarks): then it matches SQLite's WAL with synchronous=NORMAL, which may lose the last commits
  # on a power cut but never corrupts.
  if [ "${TEAM_PG_DURABLE:-0}" != 1 ]; then
    printf 'fsync = off\nfull_page_writes = off\n' >>"$pg_dir/data/postgresql.conf"
  fi
  as_pg "$bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 start >/dev/null \
    || die "PostgreSQL did not start; see $pg_dir/server.log"
  password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  as_pg psql -X -q -h "$pg_dir/run" -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE playground LOGIN CREATEDB PASSWORD '$password'" \
    -c "CREATE DATABASE playground OWNER playground" >/dev/null
  umask 077
  printf '%s\n' "$password" >"$team_dir/pg_password"
  {
    echo "TEAM_HISTORY_URL=postgresql://playground:$password@127.0.0.1:$pg_port/playground"
    echo "TEAM_PG_ADMIN_SOCKET=$pg_dir/run"
    echo "TEAM_PG_PORT=$pg_port"
  } >>"$team_dir/env"
}

start_replicas() {
  local cookie_secret i port
  cookie_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  cd "$root"
  for i in 1 2; do
    port=${app_ports[$((i - 1))]}
    # Same history and cookie secret on every replica, like compose.yaml; each has its own sandbox.
    # A simple command with its own redirections: $! is the app itself, and nothing keeps our stdout.
    PLAYGROUND_HISTORY_URL="postgresql://playground@127.0.0.1:$pg_port/playground" \
      PLAYGROUND_HISTORY_PASSWORD_FILE="$team_dir/pg_password" \
      PLAYGROUND_SANDBOX_DB="${PLAYGROUND_SANDBOX_DB:-$team_dir/sandbox$i.sqlite3}" \
      STREAMLIT_SERVER_COOKIE_SECRET="$cookie_secret" \
      nohup "$python" -m streamlit run app.py --server.headless true --server.address 127.0.0.1 \
      --server.port "$port" --browser.gatherUsageStats false --server.fileWatcherType none \
      </dev/null >"$team_dir/app$i.log" 2>&1 &
    echo $! >"$team_dir/app$i.pid"
    echo "TEAM_APP${i}_URL=http://127.0.0.1:$port" >>"$team_dir/env"
    echo "TEAM_APP${i}_PID_FILE=$team_dir/app$i.pid" >>"$team_dir/env"
  done
  for i in 1 2; do
    wait_http "http://127.0.0.1:${app_ports[$((i - 1))]}/_stcore/health" 90 || die "replica $i failed; see $team_dir/app$i.log"
  done
}

start_proxy() {
  command -v haproxy >/dev/null || die "HAProxy is not installed: run 'bash scripts/install.sh --test' (or apt-get install -y haproxy)."
  export PLAYGROUND_PROXY_BIND="127.0.0.1:$proxy_port" PLAYGROUND_STATS_BIND="127.0.0.1:$stats_port"
  export PLAYGROUND_APP1="127.0.0.1:${app_ports[0]}" PLAYGROUND_APP2="127.0.0.1:${app_ports[1]}"
  haproxy -c -q -f "$root/deploy/haproxy.cfg" || die "deploy/haproxy.cfg does not parse"
  nohup haproxy -db -f "$root/deploy/haproxy.cfg" </dev/null >"$team_dir/haproxy.log" 2>&1 &
  echo $! >"$team_dir/haproxy.pid"
  wait_http "http://127.0.0.1:$proxy_port/_stcore/health" 30 || die "HAProxy failed; see $team_dir/haproxy.log"
  {
    echo "TEAM_PROXY_URL=http://127.0.0.1:$proxy_port"
    echo "TEAM_STATS_URL=http://127.0.0.1:$stats_port/stats"
  } >>"$team_dir/env"
}

stop_pid() {
  local file=$1 pid
  alive "$file" || return 0
  pid=$(cat "$file")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
}

cmd_start() {
  local only=""
  [ "${1:-}" = "--only" ] && only=${2:-}
  [ -z "$only" ] || [ "$only" = postgres ] || die "--only takes 'postgres'"
  [ ! -e "$team_dir/.team-local" ] || die "already started in $team_dir (scripts/team-local.sh stop first)"
  mkdir -p "$team_dir"
  chmod 711 "$team_dir"  # the postgres user must reach its own folder inside
  touch "$team_dir/.team-local"
  (umask 077 && : >"$team_dir/env")
  start_postgres
  if [ -z "$only" ]; then
    start_replicas
    start_proxy
    echo "Team playground: http://127.0.0.1:$proxy_port (replicas on ${app_ports[*]}, stats on $stats_port)"
  else
    echo "PostgreSQL on 127.0.0.1:$pg_port ($team_dir/env)"
  fi
}

cmd_stop() {
  [ -e "$team_dir/.team-local" ] || { echo "team-local: nothing started in $team_dir"; return 0; }
  stop_pid "$team_dir/haproxy.pid"
  stop_pid "$team_dir/app1.pid"
  stop_pid "$team_dir/app2.pid"
  if [ -f "$pg_dir/data/postmaster.pid" ]; then
    as_pg "$(pg_bin)/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null || true
  fi
  rm -rf "$team_dir"
  echo "Stopped; $team_dir removed."
}

cmd_status() {
  [ -e "$team_dir/.team-local" ] || { echo "not started ($team_dir)"; return 3; }
  local state=0 name
  if as_pg "$(pg_bin)/pg_ctl" -D "$pg_dir/data" status >/dev/null 2>&1; then echo "postgres: running on 127.0.0.1:$pg_port"
  else echo "postgres: stopped"; state=3; fi
  for name in app1 app2 haproxy; do
    [ -f "$team_dir/$name.pid" ] || continue
    if alive "$team_dir/$name.pid"; then echo "$name: running (pid $(cat "$team_dir/$name.pid"))"
    else echo "$name: stopped"; state=3; fi
  done
  return $state
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start [--only postgres] | stop | status" >&2; exit 2 ;;
esac
