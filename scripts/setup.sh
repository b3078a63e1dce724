#!/usr/bin/env bash
# Installs what ClinicDesk needs on a fresh Debian/Ubuntu machine, skipping what is present:
# the Tauri/WebKit build libraries, Xvfb for headless UI runs, WebKitWebDriver and tauri-driver
# for the end-to-end tests (scripts/e2e.sh), PostgreSQL (server binaries for the throwaway
# clusters of crates/pgcluster: benchmark comparison, replication tests), and the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in libwebkit2gtk-4.1-dev build-essential libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev \
           xvfb xauth webkit2gtk-driver pkg-config postgresql; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "setup: Rust is missing: install it with rustup (https://rustup.rs)" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup: Node.js/npm is missing: install Node.js 20+" >&2; exit 1; }

# tauri-driver: the WebDriver front of the desktop app (e2e tests), from crates.io (~1 min).
TAURI_DRIVER_VERSION=2.1.0
if ! command -v tauri-driver >/dev/null && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]; then
  echo "setup: cargo install tauri-driver ${TAURI_DRIVER_VERSION}"
  cargo install tauri-driver --locked --version "$TAURI_DRIVER_VERSION" --quiet
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm install"
  # `npm install` (not `npm ci`): the lock file keeps only this platform's optional packages.
  npm install --no-audit --no-fund --loglevel=error
fi
