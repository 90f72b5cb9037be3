#!/usr/bin/env bash
# A throwaway PostgreSQL server for the fleet tests and benchmark.
#
#   tools/postgres/server.sh start DIR   initdb in DIR, start on a unix socket in DIR and
#                                        loopback port PORT (default 55432); prints the URL
#   tools/postgres/server.sh stop DIR    stops it and removes DIR
#
# Uses Debian's postgresql package (/usr/lib/postgresql/<ver>/bin). initdb refuses to run as
# root, so as root the server runs as the 'postgres' user.
set -euo pipefail
cmd=${1:?usage: server.sh start|stop DIR}
dir=${2:?usage: server.sh start|stop DIR}
port=${PGPORT_TEST:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "server.sh: no /usr/lib/postgresql/*/bin; install the postgresql package" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $cmd in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" != 0 ] || chown postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U fleet --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://fleet@127.0.0.1:$port/postgres"
    ;;
  stop)
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: server.sh start|stop DIR" >&2
    exit 1
    ;;
esac
