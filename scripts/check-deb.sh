#!/usr/bin/env bash
# Install check of the .deb (outside CI: see README.md, "Installers"). Into a clean Debian
# bookworm root (debootstrap, minbase), installs the package with apt, so apt resolves the
# package's own Depends (nothing of WebKit/GTK is installed by hand), then starts the INSTALLED
# app (/usr/bin/clinicdesk-app in the root) under Xvfb as a new user with an empty HOME, and
# waits until its web UI shows the first-run setup screen (or the sign-in screen). Saves the
# screen as artifacts/deb-install-check.png and the app's output as artifacts/deb-install-check.log.
# Exits non-zero when the package does not install, a library is missing, the app crashes or
# the screen never shows.
#
# The screen is found in the page itself, not guessed from pixels: the check drives the app
# through WebKitWebDriver (installed into the root AFTER the package, with dbus and
# gnome-keyring, which stand for the desktop session a clinic PC has: the app keeps the
# database key in the session's keyring) and asks the page for the setup form ("Set up the
# clinic") or the sign-in form, then for one painted frame, then takes the screenshot.
#
#   sudo scripts/check-deb.sh                          # the newest target/release/bundle/deb/*.deb
#   sudo scripts/check-deb.sh path/to/ClinicDesk.deb
#   DEB_CHECK_ROOT=/var/tmp/debroot scripts/check-deb.sh  # where the cached root lives
#                                                      #  (default target/debroot)
#   DEB_CHECK_REFRESH=1 scripts/check-deb.sh           # make the base root again
#   DEB_CHECK_KEEP=1 scripts/check-deb.sh              # keep the run's root afterwards
#   DEB_CHECK_MIRROR=http://… scripts/check-deb.sh     # Debian mirror (default deb.debian.org)
#   DEB_CHECK_TIMEOUT=120                              # seconds to wait for the screen
#
# Cache: target/debroot/base is the pristine debootstrap (made once, ~1.5 min here); each run copies
# it to target/debroot/run (a clean root every time) and keeps downloaded .debs in
# target/debroot/apt-archives, so a second run downloads nothing. Needs root, debootstrap,
# Xvfb, ImageMagick (import) and node (all but debootstrap from scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

say() { echo "check-deb: $*"; }
die() { echo "check-deb: FAILED: $*" >&2; exit 1; }
stamp() { date +%s; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot and mounts): run it with sudo"
for tool in debootstrap chroot Xvfb import identify node; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install debootstrap xvfb imagemagick; node from scripts/setup.sh)"
done

cache=${DEB_CHECK_ROOT:-target/debroot}
mkdir -p "$cache"
cache=$(realpath "$cache")
base=$cache/base
root=$cache/run
archives=$cache/apt-archives
mirror=${DEB_CHECK_MIRROR:-http://deb.debian.org/debian}
timeout=${DEB_CHECK_TIMEOUT:-120}
out=$repo/artifacts
shot=$out/deb-install-check.png
log=$out/deb-install-check.log
mkdir -p "$out" "$archives/partial"
rm -f "$shot" "$log"

# Nothing may be mounted below a root that is about to be deleted (a bound /dev would go too).
mounted_below() { awk -v p="$1/" 'index($2, p) == 1 {print $2}' /proc/self/mounts; }
unmount_below() {
  local m
  # Deepest first.
  for m in $(mounted_below "$1" | awk '{print length, $0}' | sort -rn | cut -d' ' -f2-); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}
# The processes running inside the run's root: ours (the root is this script's own copy).
pids_in_root() {
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    [ "$r" = "$root" ] && echo "${p#/proc/}"
  done
  return 0
}
xvfb_pid=""
cleanup() {
  local rc=$? pids
  pids=$(pids_in_root | tr '\n' ' ')
  if [ -n "${pids// }" ]; then
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    sleep 1
    pids=$(pids_in_root | tr '\n' ' ')
    # shellcheck disable=SC2086
    [ -z "${pids// }" ] || kill -9 $pids 2>/dev/null || true
  fi
  [ -z "$xvfb_pid" ] || kill "$xvfb_pid" 2>/dev/null || true
  unmount_below "$root"
  unmount_below "$base.partial"
  if [ -n "$(mounted_below "$root")" ]; then
    echo "check-deb: could not unmount: $(mounted_below "$root" | tr '\n' ' ')" >&2
  elif [ -z "${DEB_CHECK_KEEP:-}" ] && [ -d "$root" ]; then
    rm -rf "$root"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t_start=$(stamp)

# 1. The base root: debootstrap once, then reused.
if [ -n "${DEB_CHECK_REFRESH:-}" ] || [ ! -f "$base/.complete" ]; then
  [ -z "$(mounted_below "$base")" ] || die "something is mounted below $base"
  rm -rf "$base" "$base.partial"
  say "making a clean Debian bookworm root in $base (debootstrap --variant=minbase, once)"
  t=$(stamp)
  debootstrap --variant=minbase --cache-dir="$archives" bookworm "$base.partial" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || die "debootstrap failed: see $cache/debootstrap.log"
  # A clinic PC's sources: the release, its updates and the security archive.
  cat >"$base.partial/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
  # No service starts inside the root (dbus and others get installed).
  printf '#!/bin/sh\nexit 101\n' >"$base.partial/usr/sbin/policy-rc.d"
  chmod 755 "$base.partial/usr/sbin/policy-rc.d"
  touch "$base.partial/.complete"
  mv "$base.partial" "$base"
  say "base root made in $(($(stamp) - t)) s"
else
  say "reusing the base root $base (DEB_CHECK_REFRESH=1 makes it again)"
fi
[ -n "${DEB_CHECK_ROOT_ONLY:-}" ] && { say "base root ready"; exit 0; }

deb=${1:-}
if [ -z "$deb" ]; then
  deb=$(ls -t target/release/bundle/deb/*.deb 2>/dev/null | head -n1 || true)
  [ -n "$deb" ] || die "no .deb in target/release/bundle/deb/: run scripts/package.sh first (or name the .deb)"
fi
[ -f "$deb" ] || die "$deb does not exist"
deb=$(realpath "$deb")


# 2. This run's root: a fresh copy of the base.
[ -z "$(mounted_below "$root")" ] || die "something is still mounted below $root (a previous run?): umount it first"
rm -rf "$root"
t=$(stamp)
cp -a "$base" "$root"
say "fresh root copied in $(($(stamp) - t)) s"

mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
mount --bind "$archives" "$root/var/cache/apt/archives"
mkdir -p "$root/tmp/.X11-unix"
chmod 1777 "$root/tmp" "$root/tmp/.X11-unix"
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }

# 3. Install the package with apt: its Depends pull in WebKitGTK and the rest.
cp "$deb" "$root/tmp/"
pkgfile=/tmp/$(basename "$deb")
t=$(stamp)
in_root apt-get update -qq >"$cache/apt.log" 2>&1 || die "apt-get update in the root failed: see $cache/apt.log"
say "installing $(basename "$deb") with apt-get (its Depends resolved by apt)"
before=$(in_root dpkg-query -W -f '${Package}\n' | wc -l)
in_root apt-get install -y --no-install-recommends "$pkgfile" >>"$cache/apt.log" 2>&1 \
  || { tail -n 30 "$cache/apt.log" >&2; die "apt-get install of the .deb failed (full log: $cache/apt.log)"; }
after=$(in_root dpkg-query -W -f '${Package}\n' | wc -l)
t_install=$(($(stamp) - t))
pkg=$(dpkg-deb -f "$deb" Package)
say "installed $pkg and $((after - before - 1)) dependencies in ${t_install} s"
say "Depends: $(dpkg-deb -f "$deb" Depends)"

app=$(in_root dpkg -L "$pkg" | grep -E '^/usr/bin/' | head -n1)
[ -n "$app" ] && [ -x "$root$app" ] || die "the package put no program in /usr/bin"
in_root dpkg -L "$pkg" | grep -q '^/usr/share/applications/.*\.desktop$' || die "the package has no desktop file"
missing=$(in_root ldd "$app" | grep 'not found' || true)
[ -z "$missing" ] || die "$app needs libraries its Depends do not bring: $missing"
say "$app links (ldd: no library missing)"

# 4. The desktop session around the app, installed after the package (they are not its
#    dependencies): a D-Bus session bus with gnome-keyring (the keyring the app keeps the
#    database key in) and WebKitWebDriver (the probe that reads the page).
t=$(stamp)
in_root apt-get install -y --no-install-recommends dbus-daemon dbus-x11 gnome-keyring webkit2gtk-driver >>"$cache/apt.log" 2>&1 \
  || { tail -n 30 "$cache/apt.log" >&2; die "installing the session tools in the root failed (full log: $cache/apt.log)"; }
say "session tools (dbus, gnome-keyring, WebKitWebDriver) installed in $(($(stamp) - t)) s"
in_root useradd --create-home --shell /bin/sh clinic
uid=$(in_root id -u clinic)
mkdir -p "$root/run/user/$uid"
chown "$uid:$uid" "$root/run/user/$uid"
chmod 700 "$root/run/user/$uid"

# 5. Xvfb on the host; its socket is bound into the root.
for n in $(seq 90 120); do
  [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || { display=$n; break; }
done
[ -n "${display:-}" ] || die "no free X display number in 90-120"
Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp -ac >"$cache/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done
[ -e "/tmp/.X11-unix/X$display" ] || die "Xvfb did not start (see $cache/xvfb.log)"
mount --bind /tmp/.X11-unix "$root/tmp/.X11-unix"

# 6. Start the installed app: a login-like session for the new user (empty HOME and XDG
#    folders), its keyring unlocked, WebKitWebDriver launching $app.
port=$((4500 + display))
cat >"$root/tmp/session.sh" <<'EOF'
#!/bin/sh
# Inside the root, as the new user: what a desktop login provides, then the driver.
printf 'clinic' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
exec WebKitWebDriver --port="$1"
EOF
chmod 755 "$root/tmp/session.sh"
t_app=$(stamp)
setsid chroot --userspec="$uid:$uid" "$root" /usr/bin/env -i \
  PATH=/usr/bin:/bin HOME=/home/clinic USER=clinic LOGNAME=clinic LANG=C.UTF-8 \
  XDG_RUNTIME_DIR="/run/user/$uid" DISPLAY=":$display" TAURI_WEBVIEW_AUTOMATION=true \
  dbus-run-session -- /tmp/session.sh "$port" >"$log" 2>&1 </dev/null &
set +e
node scripts/lib/deb-check-probe.mjs "$port" "$app" "$shot" "$timeout" "$display"
probe=$?
set -e
t_shown=$(($(stamp) - t_app))
if [ "$probe" -ne 0 ]; then
  echo "check-deb: the app's output (last lines of $log):" >&2
  tail -n 40 "$log" >&2 || true
  die "the installed app did not show its setup or sign-in screen"
fi
grep -E "database:" "$log" | head -n1 | sed 's/^/check-deb: app log: /' || true
say "the installed app showed its screen ${t_shown} s after launch; screenshot $shot"
say "PASS: installed with apt and started in a clean bookworm root in $(($(stamp) - t_start)) s"
