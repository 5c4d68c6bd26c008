#!/usr/bin/env bash
# Fuzz what strangers control (fuzz/): each target runs from its committed seeds and corpus for
# SECONDS.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    # default: 60 s each, every target
#
# `make test` runs every target for a minute; a longer hunt is `scripts/fuzz.sh 3600 org_file`.
# New inputs the fuzzer finds go to a scratch folder that is removed afterwards, so a run leaves
# the clone clean; fuzz/README.md says how to grow the committed corpus instead. A failure
# leaves its input under fuzz/artifacts/TARGET/ and the command that replays it in the output.
#
# Builds go to a cache folder outside the clone (COPRESENCE_CACHE, default ~/.cache/copresence),
# reused by later runs. Needs the nightly toolchain (libFuzzer's instrumentation); installs
# cargo-fuzz when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(request_body path_params event_ids org_file client_events)
fi

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzzing needs the nightly toolchain (rustup toolchain install nightly)" >&2
  exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
fi

cache=${COPRESENCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/copresence}
target_dir="$cache/fuzz-target"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Release code with debug assertions and overflow checks (cargo-fuzz's default), under
# AddressSanitizer: the C in SQLite is in the process too.
fuzz=(cargo +nightly fuzz)
options=(--target-dir "$target_dir")
# The fuzz workspace's lock file is committed: a dependency change must update it, not drift.
cargo +nightly metadata --manifest-path fuzz/Cargo.toml --locked --format-version 1 >/dev/null
"${fuzz[@]}" build "${options[@]}"
# One target per core at a time: each fuzzer is a single process.
run_target() {
  local target=$1
  mkdir -p "$scratch/$target"
  if "${fuzz[@]}" run "${options[@]}" "$target" "$scratch/$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    >"$scratch/$target.log" 2>&1; then
    echo "$target: $(grep -oE "Done [0-9]+ runs in [0-9]+ second\(s\)" "$scratch/$target.log" | tail -n1)," \
      "peak RSS $(grep -oE "peak_rss_mb: *[0-9]+" "$scratch/$target.log" | grep -oE "[0-9]+$") MB"
  else
    {
      echo "fuzz target $target failed:"
      grep -A 12 "panicked at" "$scratch/$target.log" | head -n 40 || true
      tail -n 25 "$scratch/$target.log"
    } >&2
    return 1
  fi
}

jobs_at_once=$(nproc 2>/dev/null || echo 1)
echo "fuzzing ${targets[*]} for ${seconds}s each, $jobs_at_once at a time"
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_at_once" ]; do
    sleep 1
  done
  (run_target "$target" && touch "$scratch/$target.passed") &
done
wait
failed=0
for target in "${targets[@]}"; do
  [ -e "$scratch/$target.passed" ] || failed=1
done
exit $failed
