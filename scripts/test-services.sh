#!/usr/bin/env bash
# Start throw-away PostgreSQL and Redis servers on free loopback ports for the
# test suite. Prints `export VAR=...` lines; `stop` tears them down.
set -euo pipefail
STATE="${VOXA_TEST_SERVICES_DIR:?}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ "${1:-start}" = "stop" ]; then
  [ -f "$STATE/redis.pid" ] && kill "$(cat "$STATE/redis.pid")" 2>/dev/null || true
  if [ -d "$STATE/pg" ]; then
    runas=(); [ "$(id -u)" -eq 0 ] && runas=(runuser -u postgres --)
    "${runas[@]}" "$PGBIN/pg_ctl" -D "$STATE/pg" -m immediate stop >/dev/null 2>&1 || true
  fi
  exit 0
fi

mkdir -p "$STATE"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
echo "export PGBIN=$PGBIN"

rport=$(free_port)
redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no \
  --daemonize yes --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" --dir "$STATE"
echo "export VOXA_TEST_REDIS_URL=redis://127.0.0.1:$rport/0"

pport=$(free_port)
runas=(); if [ "$(id -u)" -eq 0 ]; then runas=(runuser -u postgres --); chown postgres "$STATE"; fi
"${runas[@]}" "$PGBIN/initdb" -D "$STATE/pg" -U voxa --auth=trust -E UTF8 >/dev/null
"${runas[@]}" "$PGBIN/pg_ctl" -D "$STATE/pg" -l "$STATE/pg.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $pport -k $STATE -c fsync=off -c max_connections=300" start >/dev/null
"$PGBIN/createdb" -h 127.0.0.1 -p "$pport" -U voxa voxa_test
echo "export VOXA_TEST_POSTGRES_URL=postgresql+asyncpg://voxa@127.0.0.1:$pport/voxa_test"
