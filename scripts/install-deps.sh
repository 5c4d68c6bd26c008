#!/usr/bin/env bash
# Install what building and testing Copresence needs, if it is missing (Debian/Ubuntu).
set -euo pipefail

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive

# Build: a C toolchain, and the GTK/WebKit libraries the tray app (Tauri) links against.
# Tests: headless Chromium for the browser EventSource test, and chromedriver to sign in with
# it on an OpenID provider's pages; Xvfb, D-Bus, dunst and
# WebKitWebDriver for the desktop test; busctl (from systemd) reads the tray's icon and menu
# on the session bus; GNOME's settings (gsettings, dconf) for the tray's Do Not Disturb;
# xdotool presses the tray's global shortcut; PostgreSQL and Redis for the multi-node tests.
packages=(build-essential pkg-config curl ca-certificates file libwebkit2gtk-4.1-dev
  libayatana-appindicator3-dev librsvg2-dev libssl-dev libxdo-dev libdbus-1-dev chromium
  chromium-driver
  xvfb xauth x11-utils dbus dbus-x11 dunst libnotify-bin imagemagick webkit2gtk-driver
  libglib2.0-bin dconf-service gsettings-desktop-schemas xdotool systemd postgresql redis-server nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# Node may come from elsewhere than Debian's packages: only ask for it when absent.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install Rust from https://rustup.rs (or your distribution's rustc and cargo)" >&2
  exit 1
fi
if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]; then
  echo "installing tauri-driver (WebDriver for the tray app's desktop test)"
  cargo install tauri-driver --locked --quiet
fi
