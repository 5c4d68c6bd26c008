#!/usr/bin/env bash
# The OpenID provider the tests run (tests/oidc: oidc-provider from npm), installed outside the
# clone and reused.
#
#   scripts/oidc-provider.sh install        install if needed; print the script to run with node
#   scripts/oidc-provider.sh run ARGS...     install if needed, then `node provider.mjs ARGS...`
#                                            (e.g. `run config.json 0`; see tests/oidc/provider.mjs)
#
# Dependencies go to COPRESENCE_CACHE (default ~/.cache/copresence)/oidc-provider/HASH, where
# HASH is that of tests/oidc/package.json and package-lock.json: `npm ci` runs once per lock,
# later runs reuse the folder. provider.mjs is copied next to that node_modules under a name
# with its own hash, because ES modules resolve packages from the script's folder upwards (they
# ignore NODE_PATH), and so that an edited script never needs a new install. tests/src/oidc.rs
# calls `install` itself, so a fresh machine needs only Node and npm (scripts/install-deps.sh).
set -euo pipefail
source_dir="$(cd "$(dirname "$0")/../tests/oidc" && pwd)"

usage() {
  echo "usage: $0 install | run CONFIG.json PORT | run --new-key" >&2
  exit 2
}
[ $# -ge 1 ] || usage
command=$1
shift
case "$command" in install | run) ;; *) usage ;; esac

for tool in node npm sha256sum flock; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "$tool is missing (scripts/install-deps.sh installs Node and npm)" >&2
    exit 1
  }
done

cache=${COPRESENCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/copresence}
lock_hash=$(cat "$source_dir/package.json" "$source_dir/package-lock.json" | sha256sum | cut -c1-16)
install_dir="$cache/oidc-provider/$lock_hash"
script_hash=$(sha256sum "$source_dir/provider.mjs" | cut -c1-16)
script="$install_dir/provider-$script_hash.mjs"

if [ ! -e "$script" ]; then
  mkdir -p "$cache/oidc-provider"
  # Tests start providers in parallel, from several test binaries: one installs, the others wait.
  exec 9>"$cache/oidc-provider/.lock"
  flock 9
  if [ ! -d "$install_dir/node_modules" ]; then
    # Installed beside and renamed into place, so a folder that exists is a complete install.
    staging=$(mktemp -d "$cache/oidc-provider/.staging.XXXXXX")
    chmod 755 "$staging"
    trap 'rm -rf "$staging"' EXIT
    cp "$source_dir/package.json" "$source_dir/package-lock.json" "$staging/"
    echo "installing oidc-provider's npm packages in $install_dir" >&2
    (cd "$staging" && npm ci --no-audit --no-fund --loglevel=error >&2)
    rm -rf "$install_dir"
    mv "$staging" "$install_dir"
    trap - EXIT
  fi
  cp "$source_dir/provider.mjs" "$script.new"
  mv "$script.new" "$script"
  exec 9>&-
fi

case "$command" in
  install) echo "$script" ;;
  run) exec node "$script" "$@" ;;
esac
