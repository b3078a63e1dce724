#!/usr/bin/env bash
# End-to-end tests of the real desktop app: builds the UI and the app (custom protocol, so the
# window loads ui/dist) and the CLI, then runs e2e/tests/*.test.js (node:test + WebdriverIO)
# against the app through tauri-driver → WebKitWebDriver, under Xvfb. Each test prepares its own
# encrypted database with the CLI, launches the app on it and saves artifacts/e2e/<test>.png
# (and .log). Ends with "e2e: N passed, M failed, K skipped"; exits non-zero on a failure.
#
#   scripts/e2e.sh                     # everything
#   scripts/e2e.sh e2e/tests/03-*.js   # some test files
#   E2E_SKIP_BUILD=1 scripts/e2e.sh    # reuse the last build (E2E_SKIP_UI_BUILD=1: the UI's only)
#   E2E_RUN_PENDING=1 scripts/e2e.sh   # also run pending tests (their failures don't count)
#   E2E_KEEP=1 scripts/e2e.sh          # keep each test's temporary database folder
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${E2E_NO_SETUP:-}" ] || ./scripts/setup.sh

stamp() { date +%s; }
t0=$(stamp)
if [ -z "${E2E_SKIP_BUILD:-}" ]; then
  if [ -z "${E2E_SKIP_UI_BUILD:-}" ]; then
    echo "e2e: building the UI"
    npm run --silent build
  fi
  t1=$(stamp)
  echo "e2e: building the app (custom protocol) and the CLI"
  cargo build --quiet -p clinicdesk-app -p clinicdesk-cli --features clinicdesk-app/custom-protocol
  # The tests run copies: target/debug/ is shared with every other cargo build of this
  # checkout, and a plain `cargo build` relinks the app without the custom protocol.
  mkdir -p target/e2e
  cp target/debug/clinicdesk-app target/debug/clinicdesk target/e2e/
  t2=$(stamp)
  echo "e2e: build took $((t2 - t0)) s (UI $((t1 - t0)) s, app + CLI $((t2 - t1)) s)"
fi

export PATH="$PATH:${CARGO_HOME:-$HOME/.cargo}/bin"
[ -x target/e2e/clinicdesk-app ] && [ -x target/e2e/clinicdesk ] || { echo "e2e: no build in target/e2e: run without E2E_SKIP_BUILD" >&2; exit 1; }
for tool in tauri-driver WebKitWebDriver xvfb-run; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is missing: run scripts/setup.sh" >&2; exit 1; }
done

out=artifacts/e2e
if [ $# -gt 0 ]; then
  files=("$@")
else
  files=(e2e/tests/*.test.js)
  rm -rf "$out" # a full run leaves only its own screenshots and logs
fi
mkdir -p "$out"

t3=$(stamp)
set +e
# One test at a time: each starts its own app (a WebKit process tree) on a 2-core machine.
xvfb-run -a -s "-screen 0 1280x1024x24" \
  node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$out/results.tap" \
    "${files[@]}"
rc=$?
set -e
t4=$(stamp)

count() { grep -E "^# $1 [0-9]+" "$out/results.tap" | awk '{s+=$3} END {print s+0}'; }
pass=$(count pass)
fail=$(count fail)
skipped=$(( $(count skipped) + $(count todo) ))
cancelled=$(count cancelled)
fail=$((fail + cancelled))
# A crash before any test reported (e.g. a syntax error) must not read as success.
if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
echo "e2e: tests took $((t4 - t3)) s; screenshots and logs in $out/"
echo "e2e: ${pass} passed, ${fail} failed, ${skipped} skipped"
[ "$fail" -eq 0 ]
