#!/usr/bin/env bash
# Show a demo service to you@example.com: the tray app (following every site, its popup open,
# with settings of its own in DIR/config), or the CLI watcher when there is no display or
# DEMO_UI=cli. Usage: demo-ui.sh URL TOKEN DIR
set -euo pipefail
url=$1 token=$2 data=$3
bin=${COPRESENCE_BIN_DIR:-target/debug}

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
