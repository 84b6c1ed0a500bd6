#!/usr/bin/env bash
# Runs the suite twice: on SQLite, then on PostgreSQL. PostgreSQL is LOTSEN_TEST_DATABASE_URL, else the
# server on 127.0.0.1:5432 (database `test`), else a throwaway cluster from the local binaries.
# With CI=true a missing PostgreSQL fails the run instead of skipping it.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python

echo "== Lotsen test suite on SQLite"
env -u LOTSEN_TEST_DATABASE_URL -u LOTSEN_DATABASE_URL "$py" -m pytest "$@"

pg_url="${LOTSEN_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
cluster=""
as_pg=""
# PostgreSQL's tools run as the postgres user when we are root, from a folder that user may enter.
pg() { (cd / && $as_pg "$@"); }
cleanup() {
  if [ -n "$cluster" ]; then
    pg "$pg_bin/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$cluster"
  fi
}
trap cleanup EXIT

if ! "$py" scripts/pg_reachable.py "$pg_url"; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "${LOTSEN_TEST_DATABASE_URL:-}" ] && [ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ]; then
    echo "== No PostgreSQL at $pg_url: starting a throwaway cluster"
    cluster=$(mktemp -d /tmp/lotsen-pg.XXXXXX)
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres "$cluster"
      as_pg="runuser -u postgres --"
    fi
    port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    pg "$pg_bin/initdb" -D "$cluster/data" -U postgres --auth=trust --no-sync >/dev/null
    pg "$pg_bin/pg_ctl" -D "$cluster/data" -l "$cluster/log" -w \
      -o "-c fsync=off -c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$cluster" start >/dev/null
    pg_url="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
  elif [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL is required in CI but $pg_url cannot be reached." >&2
    exit 1
  else
    echo "== PostgreSQL not reachable at $pg_url: PostgreSQL run SKIPPED (set LOTSEN_TEST_DATABASE_URL)"
    exit 0
  fi
fi

echo "== Lotsen test suite on PostgreSQL ($pg_url)"
LOTSEN_TEST_DATABASE_URL="$pg_url" "$py" -m pytest "$@"
