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
token=$(cat "$data/you.token")

ui=${DEMO_UI:-tray}
if [ "$ui" = tray ] && [ "$(uname)" != Darwin ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "no display here: watching from the CLI instead of the tray app"
  ui=cli
fi
if [ "$ui" = cli ]; then
  echo "watching every demo site; Ctrl-C to stop"
  echo
  COPRESENCE_SERVER=$url COPRESENCE_TOKEN=$token "$bin/copresence" watch
else
  echo "starting the tray app (its settings in $data/config); Ctrl-C or Quit in its menu to stop"
  # Its own settings directory: the demo follows every site and leaves your real settings alone.
  XDG_CONFIG_HOME="$(cd "$data" && pwd)/config" COPRESENCE_SERVER=$url COPRESENCE_TOKEN=$token \
    COPRESENCE_OPEN_POPUP=1 "$bin/copresence-tray"
fi
