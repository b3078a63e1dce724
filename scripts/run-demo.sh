#!/usr/bin/env bash
# Opens the ClinicDesk app on a local demo database (created on first run in .dev-data/).
# Demo users: admin, manager, frontdesk, clinician, viewer — password "clinicdesk-demo".
# DEMO_SIZE=large gives the 5-clinic, 2-million-appointment dataset (takes a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

mkdir -p .dev-data
export CLINICDESK_DB="$PWD/.dev-data/demo-${DEMO_SIZE:-small}.db"
# Development and demo only: the key lives in a file next to the demo database. The app's
# default (no CLINICDESK_DB_KEY_FILE) keeps the key in the OS keyring.
export CLINICDESK_DB_KEY_FILE="$PWD/.dev-data/demo-${DEMO_SIZE:-small}.key"
cargo build --release -p clinicdesk-cli
# A demo database left by an older build may not open any more (its cipher settings or
# schema changed): check it with the current build and regenerate it if so.
if [ -f "$CLINICDESK_DB" ] && ! CLINICDESK_PASSWORD=clinicdesk-demo ./target/release/clinicdesk --user admin audit verify >/dev/null 2>&1; then
  echo "The demo database in .dev-data does not open with this build: creating it again."
  rm -f "$CLINICDESK_DB" "$CLINICDESK_DB-wal" "$CLINICDESK_DB-shm" "$CLINICDESK_DB_KEY_FILE"
fi
if [ ! -f "$CLINICDESK_DB" ]; then
  CLINICDESK_PASSWORD=clinicdesk-demo ./target/release/clinicdesk demo --size "${DEMO_SIZE:-small}"
fi
echo "ClinicDesk demo: sign in as frontdesk / clinicdesk-demo (or admin, manager, clinician, viewer)"
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found: starting the app under Xvfb (headless)."
  exec xvfb-run -a npx tauri dev
fi
exec npx tauri dev
