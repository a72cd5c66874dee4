#!/usr/bin/env bash
# Fault drill: the outages and attacks of docs/reliability.md, against gunicorn on PostgreSQL
# with a Redis of the drill's own, measured from outside with curl. Prints one line per step.
#
#   bash scripts/fault-drill.sh            (from the project root, after `make test` built .venv)
#
# It drops and recreates the database `fault_drill`, starts its own redis-server on a free port
# (and stops it mid-drill), and never touches the Redis on 6379.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
GUNICORN=.venv/bin/gunicorn
N=${N:-20}
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
REDIS_PORT=$(free_port)
WEB_PORT=$(free_port)
NODB_PORT=$(free_port)
CLOSED_PORT=$(free_port)
work=$(mktemp -d)
cleanup() {
  kill "${web:-}" "${nodb:-}" 2>/dev/null
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

psql -h 127.0.0.1 -U postgres -qc "drop database if exists fault_drill with (force)" \
  -c "create database fault_drill" >/dev/null
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/fault_drill
export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
export DEBUG=0 SECRET_KEY=drill-$RANDOM-$RANDOM-$RANDOM-$RANDOM-$RANDOM-$RANDOM-$RANDOM-$RANDOM-$RANDOM
export ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 LOG_LEVEL=ERROR
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes >/dev/null
$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0
read -r TOKEN SEAT < <($PY - <<'PY'
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inmail_site.settings")
django.setup()
from rest_framework.authtoken.models import Token
from ledger.services import Cause, seat_activate
from teams.models import Membership, Plan, Role, Team, User
admin = User.objects.create_user("drill-admin", is_staff=True)
team = Team.objects.create(name="Drill")
Membership.objects.create(user=admin, team=team, role=Role.LEAD)
seat = seat_activate(holder=admin, team=team, plan=Plan.objects.get(code="recruiter_professional"),
                     cause=Cause.system("drill"))
print(Token.objects.create(user=admin).key, seat.pk)
PY
)
$GUNICORN inmail_site.wsgi -b 127.0.0.1:$WEB_PORT -w 2 --log-level error >"$work/web.log" 2>&1 &
web=$!
DATABASE_URL=postgres://postgres@127.0.0.1:$CLOSED_PORT/none \
  $GUNICORN inmail_site.wsgi -b 127.0.0.1:$NODB_PORT -w 1 --log-level error >"$work/nodb.log" 2>&1 &
nodb=$!
sleep 3
API=http://127.0.0.1:$WEB_PORT/api/v1

send_round() {  # label: N sends, then the status codes seen and the slowest time
  local codes=() slowest=0 i answer
  for i in $(seq 1 "$N"); do
    answer=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -X POST "$API/inmails/" \
      -H "Authorization: Token $TOKEN" -H 'Content-Type: application/json' \
      -H "Idempotency-Key: $1-$i-$RANDOM" \
      -d "{\"seat\": $SEAT, \"recipient\": \"member-$1-$i\", \"subject\": \"Hi\", \"body\": \"Hello\"}")
    codes+=("${answer% *}")
    slowest=$(python3 -c "print(max($slowest, ${answer#* }))")
  done
  echo "$1: $N sends -> $(printf '%s\n' "${codes[@]}" | sort | uniq -c | xargs), slowest ${slowest}s"
}

send_round "redis-up"
redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1
send_round "redis-stopped"
echo "redis-stopped: token endpoint -> $(curl -s -o /dev/null -w '%{http_code} %{time_total}s' \
  -X POST "$API/auth/token/" -H 'Content-Type: application/json' -d '{"username": "x", "password": "y"}')"
echo "redis-stopped: /healthz -> $(curl -s "http://127.0.0.1:$WEB_PORT/healthz")"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes >/dev/null
sleep 6  # the cache's breaker waits 5 s before trying Redis again
send_round "redis-back"
echo "redis-back: throttle keys in Redis -> $(redis-cli -p "$REDIS_PORT" --scan --pattern '*throttle*' | wc -l)"
echo "balance after $((3 * N)) sends -> $(curl -s "$API/seats/$SEAT/balance/" -H "Authorization: Token $TOKEN" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["own"])') (100 granted)"

probe() {  # label, then curl arguments
  local label=$1; shift
  echo "$label -> $(curl -s -o "$work/body" -w '%{http_code} %{content_type}' "$@")" \
    "$(grep -o '<h1>[^<]*</h1>' "$work/body" || head -c 120 "$work/body")"
}
probe "postgres-unreachable: GET /api/v1/seats/" -D "$work/headers" \
  "http://127.0.0.1:$NODB_PORT/api/v1/seats/" -H "Authorization: Token $TOKEN"
echo "postgres-unreachable: Retry-After -> $(grep -i '^retry-after' "$work/headers" | tr -d '\r')"
probe "postgres-unreachable: GET / (signed in)" -b "sessionid=$(printf 'x%.0s' $(seq 32))" \
  "http://127.0.0.1:$NODB_PORT/"
python3 -c 'print("[" * 1000 + "]" * 1000)' >"$work/deep.json"
probe "attack: JSON 1,000 deep to the token endpoint, anonymous" -X POST "$API/auth/token/" \
  -H 'Content-Type: application/json' --data-binary @"$work/deep.json"
probe "attack: NUL in plan" -X POST "$API/seats/$SEAT/change-plan/" -H "Authorization: Token $TOKEN" \
  -H 'Content-Type: application/json' -d '{"plan": "recruiter\u0000lite"}'
python3 -c 'print("{\"memo\": \"" + "m" * 3000000 + "\"}")' >"$work/big.json"
probe "attack: 3 MB body" -X POST "$API/seats/$SEAT/bonus/" -H "Authorization: Token $TOKEN" \
  -H 'Content-Type: application/json' --data-binary @"$work/big.json"
probe "attack: /api/v1/seats/%0A/" "$API/seats/%0A/" -H "Authorization: Token $TOKEN"
echo "ledger_check -> $($PY manage.py ledger_check 2>&1 | tail -1)"
echo "tracebacks in gunicorn's logs -> $(cat "$work/web.log" "$work/nodb.log" | grep -c Traceback)"
