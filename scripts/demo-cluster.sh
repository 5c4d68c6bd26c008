#!/usr/bin/env bash
# Several nodes of one Copresence service on a local PostgreSQL and Redis, with the demo's
# simulated makers shared out over them, then the tray app (or the CLI watcher) on the first
# node. Everything runs in the foreground of this script; Ctrl-C stops it all.
#
# Variables: DEMO_NODES (3), DEMO_CLUSTER_PORT (first node's port, 7881), DEMO_CLUSTER_DATA
# (.copresence-cluster), DEMO_UI (tray|cli).
set -euo pipefail

nodes=${DEMO_NODES:-3}
first_port=${DEMO_CLUSTER_PORT:-7881}
data=${DEMO_CLUSTER_DATA:-.copresence-cluster}
bin=${COPRESENCE_BIN_DIR:-target/debug}
redis_port=$((first_port + 100))
pg_port=$((first_port + 101))
mkdir -p "$data"
data=$(cd "$data" && pwd)

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # PostgreSQL: an immediate stop of the postmaster and its backends.
  [ -n "${pg_pid:-}" ] && kill -QUIT "$pg_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

wait_for() { # what, command…
  local what=$1; shift
  for _ in $(seq 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$what did not start; logs in $data" >&2
  exit 1
}

# Redis, in memory only.
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$data" \
  >"$data/redis.log" 2>&1 &
pids+=($!)
wait_for "redis-server" redis-cli -p "$redis_port" ping

# PostgreSQL, a cluster of its own. It refuses to run as root: then it runs as `postgres`,
# with its data where that user can reach it.
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$pgbin" ] || { echo "PostgreSQL is missing: run make deps" >&2; exit 1; }
as_pg=()
pgdata="$data/pg"
if [ "$(id -u)" -eq 0 ]; then
  as_pg=(setpriv --reuid=postgres --regid=postgres --clear-groups --)
  pgdata=/var/tmp/copresence-cluster-pg
  mkdir -p "$pgdata" && chown postgres:postgres "$pgdata" && chmod 700 "$pgdata"
fi
if [ ! -f "$pgdata/PG_VERSION" ]; then
  "${as_pg[@]}" "$pgbin/initdb" -D "$pgdata" -U copresence --auth=trust -E UTF8 >"$data/initdb.log"
fi
"${as_pg[@]}" "$pgbin/postgres" -D "$pgdata" -p "$pg_port" -c listen_addresses=127.0.0.1 \
  -c unix_socket_directories= >"$data/postgres.log" 2>&1 &
pg_pid=$!
wait_for "PostgreSQL" "$pgbin/pg_isready" -h 127.0.0.1 -p "$pg_port"

database="postgres://copresence@127.0.0.1:$pg_port/postgres"
redis="redis://127.0.0.1:$redis_port"
urls=()
for k in $(seq "$nodes"); do
  node_dir="$data/node$k"
  mkdir -p "$node_dir"
  port=$((first_port + k - 1))
  "$bin/copresence-server" demo --listen "127.0.0.1:$port" --data "$node_dir" \
    --database "$database" --redis "$redis" --makers "$k/$nodes" \
    >"$node_dir/server.out" 2>"$node_dir/server.log" &
  pids+=($!)
  # One at a time: the first one creates the tables and imports the demo organisation.
  wait_for "node $k" grep -q "listening on" "$node_dir/server.out"
  urls+=("http://127.0.0.1:$port")
done

echo "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port (logs in $data)"
for k in $(seq "$nodes"); do
  echo "node $k on ${urls[$((k - 1))]}, simulating makers $k/$nodes"
done
echo "you are you@example.com (token in $data/node1/you.token); connect to any node"
scripts/demo-ui.sh "${urls[0]}" "$(cat "$data/node1/you.token")" "$data"
