#!/usr/bin/env bash
# Start the demo server (an organisation with simulated makers) and the tray app signed in as
# you@example.com, following every demo site, its popup open. Without a display (a server, an
# SSH session) it watches from the CLI instead; DEMO_UI=cli asks for that anywhere.
# Ctrl-C stops both.
set -euo pipefail

listen=${DEMO_LISTEN:-127.0.0.1:7878}
data=${DEMO_DATA:-.copresence-demo}
bin=${COPRESENCE_BIN_DIR:-target/debug}
mkdir -p "$data"
log="$data/server.log"

"$bin/copresence-server" demo --listen "$listen" --data "$data" >"$data/server.out" 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 100); do
  grep -q "listening on" "$data/server.out" 2>/dev/null && break
  if ! kill -0 $server 2>/dev/null; then
    echo "the demo server did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
url=$(grep -o 'http://[^ ]*' "$data/server.out" | head -n1)
echo "demo server on $url (log: $log); you are you@example.com, token in $data/you.token"
scripts/demo-ui.sh "$url" "$(cat "$data/you.token")" "$data"
