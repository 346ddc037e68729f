#!/usr/bin/env bash
# A PgBouncer in transaction mode on loopback, in front of one PostgreSQL server, for the
# pooler tests, the bench and CI (.ci/run): `DATABASE_URL` through it is what a platform team
# deploys (Debian's pgbouncer 1.18: no prepared statements across transactions).
#
#   pgbouncer.sh start DIR LISTEN_PORT SERVER_HOST SERVER_PORT USER [PASSWORD]
#   pgbouncer.sh stop DIR
#
# DIR receives the config, the auth file, the log and the pid file. Every database of the
# server is reachable (a `*` entry), so a database created after the start works too.
# Environment: PGBOUNCER_POOL_SIZE (server connections per database and user, default 20),
# PGBOUNCER_IGNORE_STARTUP_PARAMETERS (default none: the app must send nothing PgBouncer
# refuses), PGBOUNCER (the binary; default the one on PATH, else /usr/sbin/pgbouncer).
# As root it runs as the `postgres` user (PgBouncer refuses root).
set -euo pipefail

usage() {
  echo "usage: $0 start DIR LISTEN_PORT SERVER_HOST SERVER_PORT USER [PASSWORD] | stop DIR" >&2
  exit 2
}

binary() {
  if [ -n "${PGBOUNCER:-}" ]; then echo "$PGBOUNCER"; return; fi
  command -v pgbouncer 2>/dev/null || { [ -x /usr/sbin/pgbouncer ] && echo /usr/sbin/pgbouncer; } || {
    echo "pgbouncer is not installed (Debian: apt-get install -y pgbouncer)" >&2
    exit 3
  }
}

start() {
  [ $# -ge 5 ] || usage
  local dir=$1 port=$2 host=$3 server_port=$4 user=$5 password=${6:-}
  local bin
  bin=$(binary)
  mkdir -p "$dir"
  # The auth file's quoting: a double quote inside a value is doubled.
  printf '"%s" "%s"\n' "${user//\"/\"\"}" "${password//\"/\"\"}" >"$dir/userlist.txt"
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=$host port=$server_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
; Loopback only: the client is trusted, the auth file's password logs in to the server.
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = ${PGBOUNCER_POOL_SIZE:-20}
max_client_conn = 500
ignore_startup_parameters = ${PGBOUNCER_IGNORE_STARTUP_PARAMETERS:-}
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
  chmod 0600 "$dir/userlist.txt"
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres "$dir"
    chmod 0755 "$dir"
    runuser -u postgres -- "$bin" -d "$dir/pgbouncer.ini"
  else
    "$bin" -d "$dir/pgbouncer.ini"
  fi
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "PgBouncer did not listen on 127.0.0.1:$port within 10 s; its log:" >&2
  cat "$dir/pgbouncer.log" >&2 || true
  exit 1
}

stop() {
  [ $# -ge 1 ] || usage
  local pidfile=$1/pgbouncer.pid pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  # SIGTERM: immediate shutdown (SIGINT would wait for every client to leave).
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

command=${1:-}
shift || true
case "$command" in
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) usage ;;
esac
