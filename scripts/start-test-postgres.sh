#!/usr/bin/env bash
# Starts a private PostgreSQL cluster for the tests: a fresh data directory, a free loopback
# port, trust authentication for the `pxt` role, a database `pxt_test`. Prints one line on
# stdout, the connection URL (the tests read it from PXT_TEST_POSTGRES_URL) and the cluster's
# directory: `read -r url dir < <(scripts/start-test-postgres.sh)`;
# `scripts/start-test-postgres.sh stop DIR` stops it and removes it; `pause DIR` stops the server
# and `resume DIR` starts it again on the same port (the outbox tests take the target away and
# bring it back). The server's own binaries come from Debian's postgresql package
# (scripts/install-deps.sh installs it); it runs as the `postgres` user when started as root,
# since PostgreSQL refuses to run as root.
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "start-test-postgres: no PostgreSQL server binaries under /usr/lib/postgresql (apt install postgresql)" >&2
  exit 1
fi
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_server() {
  as_owner "$bin/pg_ctl" -D "$1/data" -l "$1/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$(cat "$1/port") -c unix_socket_directories=$1 -c fsync=off" start >/dev/null \
    || { cat "$1/server.log" >&2; exit 1; }
}

if [ "${1:-}" = pause ]; then
  as_owner "$bin/pg_ctl" -D "$2/data" -m fast -w stop >/dev/null
  exit 0
fi
if [ "${1:-}" = resume ]; then
  start_server "$2"
  exit 0
fi
if [ "${1:-}" = stop ]; then
  as_owner "$bin/pg_ctl" -D "$2/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$2"
  exit 0
fi

dir=$(mktemp -d /tmp/pxt-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown postgres: "$dir"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_owner "$bin/initdb" -D "$dir/data" -U pxt --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
echo "$port" >"$dir/port"
start_server "$dir"
as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U pxt pxt_test
echo "postgresql://pxt@127.0.0.1:$port/pxt_test?sslmode=disable $dir"
