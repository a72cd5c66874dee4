#!/usr/bin/env bash
# Issue 15 goal 4: the wall time of the whole test suite as `make test` runs it (pytest-xdist,
# one worker per CPU, --create-db as in CI), with the 60 slowest setups and calls.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/inmail_suite \
#   REDIS_URL=redis://127.0.0.1:6379/7 bash bench/test_suite_time.sh [more pytest arguments]
#
# Prints pytest's summary, the durations and "wall <seconds> s, load <1/5/15 min>"; the full
# output stays in test-output/suite-time.txt. Installing packages is not part of it (CI's
# `make` installs once, before). The load average matters: on a shared machine the wall time
# grows with it, so compare the durations list of runs made side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL database of your own}"
mkdir -p test-output
workers=${PYTEST_WORKERS:-auto}
start=$(date +%s.%N)
status=0
.venv/bin/pytest -n "$workers" --dist loadfile --no-loadscope-reorder --create-db \
  -p no:cacheprovider -rs --durations=60 "$@" >test-output/suite-time.txt 2>&1 || status=$?
end=$(date +%s.%N)
sed -n '/slowest 60 durations/,$p' test-output/suite-time.txt
printf 'wall %.0f s, load %s\n' "$(echo "$end - $start" | bc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
exit "$status"
