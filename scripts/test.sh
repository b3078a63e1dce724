#!/usr/bin/env bash
# Runs every test of ClinicDesk: formatting, lints, TypeScript checks, the Rust test suites
# (domain, store on real encrypted files incl. the SIGKILL crash test, API permission matrix,
# CLI end to end), the UI component tests (Vitest), and the end-to-end tests that drive the
# real desktop app under Xvfb (scripts/e2e.sh). Ends with "N passed, M failed" over all three.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

mkdir -p target
# One feature set for the tests and the e2e app (the UI embedded), so `cargo build` for the e2e
# tests links the already compiled crates instead of compiling tauri a second time.
FEATURES=(--features clinicdesk-app/custom-protocol)

step() { printf '\n==> %s\n' "$*"; }
secs() { date +%s; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "TypeScript: typecheck and build the UI"
npm run --silent build

step "UI component tests (Vitest)"
set +e
npm run --silent test:ui 2>&1 | tee target/ui-test-output.txt
ui_rc=${PIPESTATUS[0]}
set -e

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets "${FEATURES[@]}" --quiet -- -D warnings

step "cargo test (workspace)"
set +e
cargo test --workspace "${FEATURES[@]}" --quiet 2>&1 | tee target/test-output.txt
cargo_rc=${PIPESTATUS[0]}
set -e

step "end-to-end: the desktop app under Xvfb (tauri-driver + WebKitWebDriver)"
e2e_start=$(secs)
set +e
E2E_NO_SETUP=1 E2E_SKIP_UI_BUILD=1 ./scripts/e2e.sh 2>&1 | tee target/e2e-output.txt
e2e_rc=${PIPESTATUS[0]}
set -e
echo "end-to-end stage: $(($(secs) - e2e_start)) s"

passed=$(grep -Eo '[0-9]+ passed' target/test-output.txt | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' target/test-output.txt | awk '{s+=$1} END {print s+0}')
e2e_line=$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed' target/e2e-output.txt | tail -1 || true)
e2e_passed=$(sed -E 's/^e2e: ([0-9]+) passed.*/\1/' <<<"${e2e_line:-e2e: 0 passed}")
e2e_failed=$(sed -E 's/^e2e: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"${e2e_line:-e2e: 0 passed, 1 failed}")
e2e_skipped=$(sed -nE 's/.* ([0-9]+) skipped$/\1/p' <<<"$e2e_line")
# Vitest's summary line: "Tests  94 passed (94)" or "Tests  2 failed | 92 passed (94)".
ui_line=$(sed 's/\x1b\[[0-9;]*m//g' target/ui-test-output.txt | grep -E '^ *Tests ' | tail -1 || true)
ui_passed=$(grep -Eo '[0-9]+ passed' <<<"$ui_line" | grep -Eo '[0-9]+' || echo 0)
ui_failed=$(grep -Eo '[0-9]+ failed' <<<"$ui_line" | grep -Eo '[0-9]+' || echo 0)
# A stage that failed without a failing test counted (a build error, a crash) still fails.
[ "$ui_rc" -ne 0 ] && [ "$ui_failed" -eq 0 ] && ui_failed=1
[ "$cargo_rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
[ "$e2e_rc" -ne 0 ] && [ "$e2e_failed" -eq 0 ] && e2e_failed=1
echo
echo "rust: ${passed} passed, ${failed} failed"
echo "ui: ${ui_passed} passed, ${ui_failed} failed"
echo "e2e: ${e2e_passed} passed, ${e2e_failed} failed, ${e2e_skipped:-0} skipped (pending)"
echo "$((passed + ui_passed + e2e_passed)) passed, $((failed + ui_failed + e2e_failed)) failed, ${e2e_skipped:-0} skipped"
[ "$cargo_rc" -eq 0 ] && [ "$ui_rc" -eq 0 ] && [ "$e2e_rc" -eq 0 ]
