#!/usr/bin/env bash
# Builds the desktop app and checks that it starts, opens its window on a fresh encrypted
# database and keeps running (under Xvfb when there is no display). Saves a screenshot.
set -euo pipefail
cd "$(dirname "$0")/.."
# Built with the custom protocol so the window loads the bundled UI (ui/dist), not the dev server.
cargo build --quiet -p clinicdesk-app --features tauri/custom-protocol
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p artifacts
export CLINICDESK_DB="$tmp/smoke.db" CLINICDESK_DB_KEY_FILE="$tmp/smoke.key"
set +e
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  ./target/debug/clinicdesk-app & pid=$!
  sleep 8
  if command -v import >/dev/null; then import -window root artifacts/launch-smoke.png 2>/dev/null; fi
  if kill -0 $pid 2>/dev/null; then kill $pid; wait $pid 2>/dev/null; exit 0; else wait $pid; exit 1; fi
' > "$tmp/app.log" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "the desktop app did not stay up:" >&2
  cat "$tmp/app.log" >&2
  exit 1
fi
[ -f "$CLINICDESK_DB" ] || { echo "the app did not create its database" >&2; exit 1; }
echo "desktop app started, created its encrypted database and kept running"
