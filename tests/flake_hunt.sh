#!/usr/bin/env bash
# Run the browser tests RUNS times in a row while one core is kept busy, and
# print every failure. A test that fails once here is a defect to find.
#   usage: tests/flake_hunt.sh [RUNS] [pytest arguments, default tests/browser]
set -u
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
[ $# -gt 0 ] || set -- tests/browser
python=.venv/bin/python
logs=$(mktemp -d)

# A bounded busy loop: it ends by itself after an hour even if this script is killed.
timeout 3600 "$python" -c 'while True: pass' &
busy=$!
trap 'kill "$busy" 2>/dev/null' EXIT

failed=0
for n in $(seq "$runs"); do
  if "$python" -m pytest -q -p no:cacheprovider "$@" >"$logs/run-$n.log" 2>&1; then
    echo "run $n: $(tail -n 1 "$logs/run-$n.log")"
  else
    failed=$((failed + 1))
    echo "run $n FAILED: $(tail -n 1 "$logs/run-$n.log")"
    grep -E '^(FAILED|ERROR) ' "$logs/run-$n.log" | sed 's/^/    /'
  fi
done
echo "flake hunt: $failed of $runs runs failed, with one core busy (logs in $logs)"
[ "$failed" -eq 0 ]
