#!/usr/bin/env bash
# `cargo clippy -D warnings` for Windows (x86_64-pc-windows-gnu) over the tray app, the client
# and the CLI, so every cfg(windows) path compiles and lints on every test run. Installs what it
# needs (scripts/windows-env.sh); the target directory is reused between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/windows-env.sh
source scripts/windows-env.sh

/usr/bin/cargo-clippy clippy "${windows_build_std[@]}" "${windows_packages_built[@]}" \
  --all-targets --locked -- -D warnings
echo "Windows: the tray app, the client and the CLI compile and lint for $WINDOWS_TARGET"
