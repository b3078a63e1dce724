#!/usr/bin/env bash
# Two PCs syncing through a local PostgreSQL, on this computer (issue 12, "Try it locally"):
#   1. starts a throwaway PostgreSQL in .dev-data/sync/pg (loopback only, port 55432),
#   2. `clinicdesk server init` (the server schema, roles),
#   3. PC A: a small demo database, enrolled as the first PC (`sync enrol --seed`),
#   4. PC B: a new database by initial sync (`sync enrol --join`),
#   5. opens the desktop app twice, one window per PC.
# Book on one window and see it on the other (within a second: each app runs the sync loop).
# Sign in as frontdesk / clinicdesk-demo on both. Closing both windows stops the server.
# SYNC_DEMO_FRESH=1 starts over (removes .dev-data/sync); SYNC_DEMO_NO_APP=1 opens no window
# (it edits a patient on A, syncs both and prints the note as B sees it).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

DIR="$PWD/.dev-data/sync"
PORT="${SYNC_DEMO_PORT:-55432}"
PW=clinicdesk-demo
[ "${SYNC_DEMO_FRESH:-0}" = 1 ] && rm -rf "$DIR"
mkdir -p "$DIR"

cargo build --release -p clinicdesk-cli
if [ "${SYNC_DEMO_NO_APP:-0}" != 1 ]; then
  (cd ui && npm run --silent build)
  cargo build --release --features custom-protocol -p clinicdesk-app
fi
CLI="$PWD/target/release/clinicdesk"
APP="$PWD/target/release/clinicdesk-app"

# PostgreSQL refuses to run as root: the cluster belongs to the postgres user then.
BIN="$(pg_config --bindir)"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ ! -d "$DIR/pg" ]; then
  mkdir -p "$DIR/pg"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR/pg" && chmod 700 "$DIR/pg"
  as_pg "$BIN/initdb" -D "$DIR/pg" -U postgres -A trust -E UTF8 --no-locale >/dev/null
  # Loopback only. Trust authentication is for this demo alone: a real server checks
  # passwords (SCRAM) and is reached over TLS (README, "A hosted PostgreSQL").
  printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\n" "$PORT" "$DIR/pg" >> "$DIR/pg/postgresql.conf"
fi
[ "$(id -u)" = 0 ] && chmod o+x "$DIR" "$PWD/.dev-data" 2>/dev/null || true
as_pg "$BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg/server.log" -w status >/dev/null 2>&1 ||
  as_pg "$BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg/server.log" -w start >/dev/null
trap 'as_pg "$BIN/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null 2>&1 || true' EXIT
psql -h 127.0.0.1 -p "$PORT" -U postgres -qtAc "SELECT 1 FROM pg_database WHERE datname = 'clinicdesk'" | grep -q 1 ||
  psql -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE clinicdesk"
URL="postgres://postgres@127.0.0.1:$PORT/clinicdesk"
export CLINICDESK_SERVER_PASSWORD=unused-with-trust CLINICDESK_PASSWORD="$PW"

pc() { "$CLI" --db "$DIR/$1.db" --key-file "$DIR/$1.key" "${@:2}"; }
if [ ! -f "$DIR/a.db" ]; then
  pc a demo --size small >/dev/null
  pc a server init --url "$URL"
  pc a --user admin sync enrol --url "$URL" --seed
fi
if [ ! -f "$DIR/b.db" ]; then
  pc b sync enrol --url "$URL" --join | sed -n '1p'
fi

echo "Two PCs: $DIR/a.db and $DIR/b.db. Sign in as frontdesk / $PW on both windows."
if [ "${SYNC_DEMO_NO_APP:-0}" = 1 ]; then
  # Without windows (a headless check): a change on A reaches B through the server.
  P=$(pc a --user admin --json patient list --clinic "$(pc a --user admin --json clinic list | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -1)" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -1)
  pc a --user admin patient update "$P" --set "notes=synced at $(date +%T)" >/dev/null
  pc a sync now
  pc b sync now
  pc b --user admin --json patient get "$P" | grep '"notes"'
  exit 0
fi
run_app() {
  CLINICDESK_DB="$DIR/$1.db" CLINICDESK_DB_KEY_FILE="$DIR/$1.key" "$APP" &
}
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found: both windows run under Xvfb (headless)."
  export DISPLAY=:99
  Xvfb :99 -screen 0 2560x1440x24 >/dev/null 2>&1 &
  sleep 1
fi
run_app a
run_app b
wait
