# Sourced by the Windows build scripts: installs what cross-building for Windows needs here
# (Debian/Ubuntu) and sets up the toolchain.
#
# rustup cannot fetch the Windows standard library in this environment, but Debian ships a rustc
# (rustc-web, 1.96) with the standard library's source (rust-web-src), which cargo's
# -Zbuild-std compiles for x86_64-pc-windows-gnu (RUSTC_BOOTSTRAP lets the stable compiler take
# that unstable flag). MinGW-w64 compiles the C dependencies (ring) and links; clippy comes from
# the same Debian toolchain, so it reads the standard library it was built with. Everything goes
# to a target directory of its own, outside the clone and reused between runs: the host
# toolchain's target/ is untouched.

windows_packages=(rustc-web cargo-web rust-web-src rust-web-clippy gcc-mingw-w64-x86-64
  binutils-mingw-w64-x86-64)
windows_missing=()
for p in "${windows_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || windows_missing+=("$p")
done
if [ ${#windows_missing[@]} -gt 0 ]; then
  echo "installing for the Windows build: ${windows_missing[*]}"
  windows_sudo=""
  [ "$(id -u)" -eq 0 ] || windows_sudo="sudo"
  $windows_sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $windows_sudo apt-get install -y -qq --no-install-recommends \
    "${windows_missing[@]}"
fi

export WINDOWS_TARGET=x86_64-pc-windows-gnu
export CARGO_TARGET_DIR="${COPRESENCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/copresence}/windows-target"
export RUSTC=/usr/bin/rustc
export RUSTDOC=/usr/bin/rustdoc
export CARGO=/usr/bin/cargo
export RUSTC_BOOTSTRAP=1
# rustup's proxies must not step in for a subcommand or a build script.
unset RUSTUP_TOOLCHAIN RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER
export PATH="/usr/bin:$PATH"
# The tray app embeds the popup's bundle when it compiles.
if [ ! -f ui/dist/index.html ]; then
  echo "build the popup first (make ui)" >&2
  exit 1
fi
# The crates the Windows build checks and ships: the tray app, the client it uses, the CLI.
windows_packages_built=(-p copresence-tray -p copresence-client -p copresence-cli)
windows_build_std=(-Zbuild-std=std,panic_abort --target "$WINDOWS_TARGET")
