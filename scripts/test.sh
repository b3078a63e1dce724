#!/usr/bin/env bash
# Runs every test of ClinicDesk: formatting, lints, TypeScript checks, the Rust test suites
# (domain, store on real encrypted files incl. the SIGKILL crash test, API permission matrix,
# CLI end to end), and a launch of the real desktop app under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "TypeScript: typecheck and build the UI"
npm run --silent build

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo test (workspace)"
cargo test --workspace --quiet 2>&1 | tee target/test-output.txt

step "desktop app launches (Xvfb)"
./scripts/launch-smoke.sh

passed=$(grep -Eo '[0-9]+ passed' target/test-output.txt | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' target/test-output.txt | awk '{s+=$1} END {print s+0}')
echo
echo "${passed} passed, ${failed} failed"
