#!/usr/bin/env bash
# Issue 15 goal 1, the hot pool: how long a send holds its account group's locks (from the
# lock to the end of the commit) and how long it waits for them, through the API under the
# shared benchmark's hot pool (../shared/bench/send_setup.py: 20 Corporate seats drawing on one
# pool), gunicorn -w 4, wrk CONNECTIONS connections (8) for DUR seconds (15) after 3 s of warm-up.
#
#   bash bench/send_hold.sh
#
# Prints wrk's figures and the mean, median and p95 of the hold and the wait. The sends on
# one pool follow one another, so the pool's throughput is at most 1 / the mean hold.
# Recreates the database bench_hold and empties Redis database 13. Needs wrk.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$root/../shared/bench}  # from a worktree elsewhere: SHARED=/path/to/shared/bench
cd "$root"
DUR=${DUR:-15}
CONNECTIONS=${CONNECTIONS:-8}  # 1: no send waits for another, the hold without contention
PORT=${PORT:-8941}
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_hold REDIS_URL=redis://127.0.0.1:6379/13
export DEBUG=0 SECRET_KEY=bench-send-hold-0123456789abcdefghijklmnopqrstuvwxyz \
  ALLOWED_HOSTS=127.0.0.1,testserver THROTTLE_WRITES=100000000/min THROTTLE_AUTH_TOKEN=1000/min \
  CONN_MAX_AGE=600 LOG_LEVEL=WARNING SECURE_SSL_REDIRECT=0
psql -h 127.0.0.1 -U postgres -qc "drop database if exists bench_hold with (force)" \
  -c "create database bench_hold" >/dev/null 2>&1
redis-cli -n 13 flushdb >/dev/null
.venv/bin/python manage.py migrate --noinput -v0
setup=$(.venv/bin/python "$shared/send_setup.py" 300 20 2>/dev/null)
export TOKEN=$(echo "$setup" | sed -n 1p)
pool=$(echo "$setup" | sed -n 3p)
export HOLD_DIR=$(mktemp -d)
.venv/bin/gunicorn inmail_site.wsgi -b 127.0.0.1:$PORT -w 4 --log-level warning \
  -c "$root/bench/send_hold_gunicorn.py" >"$HOLD_DIR/gunicorn.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 4
SEATS=$pool wrk -t1 -c8 -d3s -s "$shared/post_send.lua" http://127.0.0.1:$PORT/api/v1/inmails/ >/dev/null 2>&1
# The warm-up's sends are forgotten (SIGUSR2, bench/send_hold_gunicorn.py).
for pid in $(pgrep -P $server); do kill -USR2 "$pid" 2>/dev/null || true; done
SEATS=$pool wrk -t1 -c$CONNECTIONS -d${DUR}s --latency -s "$shared/post_send.lua" \
  http://127.0.0.1:$PORT/api/v1/inmails/ | grep -E "Requests/sec|  99%|Non-2xx"
for pid in $(pgrep -P $server); do kill -TERM "$pid"; done
sleep 2
.venv/bin/python - "$HOLD_DIR" <<'PY'
import glob, statistics, sys
rows = [tuple(map(float, line.split())) for name in glob.glob(f"{sys.argv[1]}/hold.*") for line in open(name)]
for label, values in (("hold", [r[1] for r in rows]), ("wait", [r[0] for r in rows])):
    values.sort()
    print(f"{label}: mean {statistics.fmean(values):.2f} ms, median {statistics.median(values):.2f} ms, "
          f"p95 {values[int(len(values) * 0.95)]:.2f} ms over {len(values)} sends")
PY
