#!/usr/bin/env bash
# Issue 15 goal 1: where a send's CPU goes across the machine's processes. The shared
# benchmark's organisation (../shared/bench/send_setup.py, 300 spread seats), gunicorn -w 4,
# wrk 8 connections for DUR seconds (15); the CPU time (utime + stime from /proc/<pid>/stat) of
# gunicorn, PostgreSQL and Redis before and after, per request.
#
#   bash bench/send_cpu_split.sh
#
# Recreates the database bench_cpu and empties Redis database 11. Needs wrk.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$root/../shared/bench}  # from a worktree elsewhere: SHARED=/path/to/shared/bench
cd "$root"
DUR=${DUR:-15}
PORT=${PORT:-8932}
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_cpu REDIS_URL=redis://127.0.0.1:6379/11
export DEBUG=0 SECRET_KEY=bench-cpu-split-0123456789abcdefghijklmnopqrstuvwxyz \
  ALLOWED_HOSTS=127.0.0.1,testserver THROTTLE_WRITES=100000000/min THROTTLE_AUTH_TOKEN=1000/min \
  CONN_MAX_AGE=600 LOG_LEVEL=WARNING
psql -h 127.0.0.1 -U postgres -qc "drop database if exists bench_cpu with (force)" \
  -c "create database bench_cpu" >/dev/null
redis-cli -n 11 flushdb >/dev/null
.venv/bin/python manage.py migrate --noinput -v0
setup=$(.venv/bin/python "$shared/send_setup.py" 300 20 2>/dev/null)
export TOKEN=$(echo "$setup" | sed -n 1p)
seats=$(echo "$setup" | sed -n 2p)
out=$(mktemp -d)
.venv/bin/gunicorn inmail_site.wsgi -b 127.0.0.1:$PORT -w 4 --log-level warning >"$out/gunicorn.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 4
snapshot() {
  .venv/bin/python - "$1" <<'PY'
import json, os, sys
tick, found = os.sysconf("SC_CLK_TCK"), {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
        command = open(f"/proc/{pid}/cmdline").read()
    except OSError:
        continue
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    group = ("gunicorn" if "gunicorn" in command else "postgres" if name.startswith("postgres")
             else "redis" if name.startswith("redis-server") else "other")
    found[pid] = (group, (int(fields[11]) + int(fields[12])) / tick)
json.dump(found, open(sys.argv[1], "w"))
PY
}
SEATS=$seats wrk -t1 -c8 -d3s -s "$shared/post_send.lua" http://127.0.0.1:$PORT/api/v1/inmails/ >/dev/null 2>&1
snapshot "$out/before.json"
SEATS=$seats wrk -t1 -c8 -d${DUR}s --latency -s "$shared/post_send.lua" \
  http://127.0.0.1:$PORT/api/v1/inmails/ >"$out/wrk.txt" 2>&1
snapshot "$out/after.json"
grep -E "Requests/sec|  99%|Non-2xx" "$out/wrk.txt"
.venv/bin/python - "$out/before.json" "$out/after.json" "$(grep -E 'requests in' "$out/wrk.txt" | awk '{print $1}')" <<'PY'
import json, sys
before, after, requests = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
spent = {}
for pid, (group, cpu) in after.items():
    spent[group] = spent.get(group, 0.0) + cpu - before.get(pid, (group, 0.0))[1]
for group in ("gunicorn", "postgres", "redis", "other"):
    print(f"{group:9s} {spent.get(group, 0.0):7.2f} s CPU  {1000 * spent.get(group, 0.0) / requests:6.2f} ms per request")
PY
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
