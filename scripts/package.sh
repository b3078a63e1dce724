#!/usr/bin/env bash
# Builds the Linux installers, a .deb and an .rpm (`tauri build --bundles deb,rpm`: the UI, the
# app in release with the custom protocol, then the bundles as tauri.conf.json's "bundle"
# describes them), prints where they are and checks what is in them: the program, the desktop
# file and the icons, the package metadata and its dependencies. Exits non-zero, saying why, when
# the build or a check fails. To try the .deb on a clean Debian: scripts/check-deb.sh.
#
#   scripts/package.sh
#   PACKAGE_SKIP_BUILD=1 scripts/package.sh   # only check the last bundles
#
# Needs what scripts/setup.sh installs (Rust, the WebKitGTK build libraries, node_modules with
# @tauri-apps/cli); the .rpm is checked with `rpm` when it is installed (apt-get install rpm).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:${CARGO_HOME:-$HOME/.cargo}/bin"

say() { echo "package: $*"; }
die() { echo "package: FAILED: $*" >&2; exit 1; }

for tool in cargo npx dpkg-deb; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/setup.sh"
done
[ -x node_modules/.bin/tauri ] || die "node_modules/.bin/tauri is missing: run scripts/setup.sh"

bundles=target/release/bundle
bin=clinicdesk-app
if [ -z "${PACKAGE_SKIP_BUILD:-}" ]; then
  mkdir -p target
  marker=target/.package-start
  touch "$marker"
  t0=$(date +%s)
  say "building the UI, the release app and the .deb and .rpm (tauri build; 6-12 min from scratch on 2 cores)"
  npx tauri build --bundles deb,rpm || die "tauri build failed (see above)"
  say "build took $(($(date +%s) - t0)) s"
  deb=$(find "$bundles/deb" -maxdepth 1 -name '*.deb' -newer "$marker" 2>/dev/null | head -n1)
  rpm=$(find "$bundles/rpm" -maxdepth 1 -name '*.rpm' -newer "$marker" 2>/dev/null | head -n1)
  rm -f "$marker"
  [ -n "$deb" ] || die "tauri build made no new .deb in $bundles/deb"
  [ -n "$rpm" ] || die "tauri build made no new .rpm in $bundles/rpm"
else
  deb=$(ls -t "$bundles"/deb/*.deb 2>/dev/null | head -n1 || true)
  rpm=$(ls -t "$bundles"/rpm/*.rpm 2>/dev/null | head -n1 || true)
  [ -n "$deb" ] && [ -n "$rpm" ] || die "no .deb or .rpm in $bundles: run without PACKAGE_SKIP_BUILD"
fi

size() { du -h "$1" | cut -f1; }

# The .deb: metadata, dependencies, files.
say ".deb: $deb ($(size "$deb"))"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p' | sed 's/^/  /'
echo
depends=$(dpkg-deb -f "$deb" Depends)
[ -n "$depends" ] || die "the .deb declares no Depends (WebKitGTK would be missing on a clean system)"
grep -q 'libwebkit2gtk-4.1-0' <<<"$depends" || die "the .deb's Depends lack libwebkit2gtk-4.1-0: $depends"
# The database key lives in the desktop session's keyring (Secret Service): a clean system gets
# one with the package unless the administrator opts out (--no-install-recommends: then a key
# file, CLINICDESK_DB_KEY_FILE, as on a headless PC).
grep -q 'gnome-keyring' <<<"$(dpkg-deb -f "$deb" Recommends)" \
  || die "the .deb does not recommend gnome-keyring (the keyring the app keeps its key in)"
# Paths as /usr/…, whether the archive names them ./usr/… or usr/….
contents=$(dpkg-deb --contents "$deb" | awk '{print $NF}' | sed -E 's#^\.?/?#/#')
grep -qx "/usr/bin/$bin" <<<"$contents" || die "the .deb has no /usr/bin/$bin"
desktop=$(grep -E '^/usr/share/applications/.*\.desktop$' <<<"$contents" | head -n1)
[ -n "$desktop" ] || die "the .deb has no desktop file in /usr/share/applications"
icons=$(grep -E '^/usr/share/icons/hicolor/[0-9]+x[0-9]+(@2)?/apps/.*\.png$' <<<"$contents" || true)
[ -n "$icons" ] || die "the .deb has no icons in /usr/share/icons/hicolor"
say ".deb files: /usr/bin/$bin, $desktop, $(wc -l <<<"$icons") icons ($(sed -E 's#.*/hicolor/([^/]+)/.*#\1#' <<<"$icons" | paste -sd ' '))"
entry=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards "*${desktop#/}")
sed 's/^/  /' <<<"$entry"
grep -qx "Exec=$bin" <<<"$entry" || die "the desktop file does not start $bin"
grep -q '^Categories=' <<<"$entry" || die "the desktop file has no Categories"
if command -v desktop-file-validate >/dev/null; then
  tmp=$(mktemp --suffix=.desktop)
  printf '%s\n' "$entry" >"$tmp"
  desktop-file-validate "$tmp" || { rm -f "$tmp"; die "the desktop file is not valid (desktop-file-validate)"; }
  rm -f "$tmp"
  say "desktop file valid (desktop-file-validate)"
fi

# The .rpm.
say ".rpm: $rpm ($(size "$rpm"))"
if command -v rpm >/dev/null; then
  rpm -qip "$rpm" 2>/dev/null | sed 's/^/  /' || die "rpm cannot read $rpm"
  say ".rpm requires: $(rpm -qp --requires "$rpm" 2>/dev/null | paste -sd ' ')"
  rpm -qp --recommends "$rpm" 2>/dev/null | grep -q 'gnome-keyring' \
    || die "the .rpm does not recommend gnome-keyring"
  rfiles=$(rpm -qlp "$rpm" 2>/dev/null)
  grep -qx "/usr/bin/$bin" <<<"$rfiles" || die "the .rpm has no /usr/bin/$bin"
  grep -qE '^/usr/share/applications/.*\.desktop$' <<<"$rfiles" || die "the .rpm has no desktop file"
  grep -qE '^/usr/share/icons/hicolor/.*\.png$' <<<"$rfiles" || die "the .rpm has no icons"
  say ".rpm files: $(wc -l <<<"$rfiles") entries, with /usr/bin/$bin, the desktop file and the icons"
else
  say ".rpm NOT checked: the rpm tool is not installed (apt-get install rpm)"
fi

say "OK: $deb ($(size "$deb")), $rpm ($(size "$rpm"))"
