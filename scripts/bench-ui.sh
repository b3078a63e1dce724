#!/usr/bin/env bash
# Desktop benchmarks of the real app (bench/ui.mjs): cold start to an interactive schedule,
# next/previous-day navigation, patient typeahead, and the memory of the app's processes after
# 500 navigations, on the large demo. Builds the UI and the app in release with the custom
# protocol (the window loads ui/dist), makes the large demo (or copies BENCH_DB), runs the app
# through tauri-driver → WebKitWebDriver (under Xvfb when there is no display), prints a table
# (n, p50, p95, max, target, PASS/FAIL) and writes artifacts/bench-ui.json. A missed target is a
# FAIL row in the report, not a failed script; the exit code is non-zero only when the
# benchmark could not run. Needs what scripts/setup.sh installs.
#
#   scripts/bench-ui.sh
#   BENCH_SKIP_BUILD=1 scripts/bench-ui.sh           # reuse target/bench-ui/ from the last run
#   BENCH_DB=x.db BENCH_KEY=x.key scripts/bench-ui.sh # an existing large demo (copied per run)
#   BENCH_IN_PLACE=1 …                               # with BENCH_DB: no copy (the run adds its
#                                                    #  sign-ins and housekeeping rows to it)
#   BENCH_LAUNCHES=5 BENCH_NAVS=500 BENCH_KEYS=200   # the defaults
#   BENCH_TMP=/path                                  # where the per-run database goes (default $TMPDIR or /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:${CARGO_HOME:-$HOME/.cargo}/bin"

for tool in node cargo tauri-driver WebKitWebDriver; do
  command -v "$tool" >/dev/null || { echo "bench-ui: $tool is missing: run scripts/setup.sh" >&2; exit 1; }
done
if [ -z "${DISPLAY:-}" ] && ! command -v xvfb-run >/dev/null; then
  echo "bench-ui: no display and no xvfb-run: run scripts/setup.sh" >&2
  exit 1
fi
[ -d node_modules/webdriverio ] || { echo "bench-ui: node_modules is missing: run scripts/setup.sh (npm ci)" >&2; exit 1; }

bin=target/bench-ui
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
  t0=$(date +%s)
  echo "bench-ui: building the UI"
  npm run --silent build
  echo "bench-ui: building the app (release, custom protocol) and the CLI"
  cargo build --release --quiet -p clinicdesk-app -p clinicdesk-cli --features clinicdesk-app/custom-protocol
  # Copies, built together: target/release/ is shared with every other release build of this
  # checkout (one without the feature relinks the app without the custom protocol).
  mkdir -p "$bin"
  cp target/release/clinicdesk-app target/release/clinicdesk "$bin/"
  echo "bench-ui: build took $(($(date +%s) - t0)) s"
fi
[ -x "$bin/clinicdesk-app" ] && [ -x "$bin/clinicdesk" ] || { echo "bench-ui: no build in $bin: run without BENCH_SKIP_BUILD" >&2; exit 1; }

# The run's own database: a fresh large demo, or a copy of BENCH_DB.
free_mb() { df -Pm "$1" | awk 'NR == 2 {print $4}'; }
work=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/clinicdesk-bench-ui-XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -n "${BENCH_DB:-}" ]; then
  [ -n "${BENCH_KEY:-}" ] || { echo "bench-ui: BENCH_DB needs BENCH_KEY (its key file)" >&2; exit 1; }
  [ -f "$BENCH_DB" ] && [ -f "$BENCH_KEY" ] || { echo "bench-ui: $BENCH_DB or $BENCH_KEY does not exist" >&2; exit 1; }
  if [ -n "${BENCH_IN_PLACE:-}" ]; then
    db=$BENCH_DB
    key=$BENCH_KEY
    echo "bench-ui: using $db in place (BENCH_IN_PLACE)"
  else
    need=$(( $(du -m "$BENCH_DB" | cut -f1) + 256 ))
    if [ "$(free_mb "$work")" -lt "$need" ]; then
      echo "bench-ui: copying $BENCH_DB needs ${need} MB in $work, $(free_mb "$work") MB free (BENCH_TMP elsewhere, or BENCH_IN_PLACE=1)" >&2
      exit 1
    fi
    db=$work/clinic.db
    key=$work/clinic.key
    # A consistent copy even if a WAL is beside it: the CLI's online backup would need the
    # same space, so the files are copied with the database at rest.
    cp "$BENCH_DB" "$db"
    [ -f "$BENCH_DB-wal" ] && cp "$BENCH_DB-wal" "$db-wal"
    cp "$BENCH_KEY" "$key"
    chmod 600 "$key"
    echo "bench-ui: copied $BENCH_DB to $db"
  fi
else
  if [ "$(free_mb "$work")" -lt 2200 ]; then
    echo "bench-ui: the large demo needs about 2 GB in $work, $(free_mb "$work") MB free (BENCH_TMP elsewhere, or BENCH_DB)" >&2
    exit 1
  fi
  db=$work/clinic.db
  key=$work/clinic.key
  echo "bench-ui: making the large demo (5 clinics, 2,000,000 appointments; about 30 s)"
  t0=$(date +%s)
  CLINICDESK_PASSWORD=clinicdesk-demo "$bin/clinicdesk" --db "$db" --key-file "$key" demo --size large >/dev/null
  echo "bench-ui: demo made in $(($(date +%s) - t0)) s"
fi

mkdir -p artifacts
echo "bench-ui: machine load: $(uptime)"
export BENCH_APP=$bin/clinicdesk-app BENCH_DB=$db BENCH_KEY=$key
run=(node bench/ui.mjs)
if [ -z "${DISPLAY:-}" ]; then
  run=(xvfb-run -a -s "-screen 0 1280x1024x24" "${run[@]}")
fi
"${run[@]}"
