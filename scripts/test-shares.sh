#!/usr/bin/env bash
# Run pytest as N processes side by side, each with `--share K/N` (tests/conftest.py deals
# the notebooks, each with its own tests, out to the shares by their measured seconds), and
# each running its notebooks one after the other. Each share writes its own log in
# test-output/; they are printed whole as each share ends, and the exit status is the first
# failing share's (pytest's 5, "nothing collected", counts as success). Each also writes
# a JUnit XML beside its log, with every test's seconds (to keep GROUP_SECONDS true).
#
#   scripts/test-shares.sh N PYTHON PYTEST-ARGS...
#   scripts/test-shares.sh 2 .venv/bin/python tests notebooks -m "not quick" --nbval ...
#
# N=1 runs one plain pytest in the foreground, as before.
set -uo pipefail
count=$1 py=$2
shift 2
if [ "$count" -le 1 ]; then
  exec "$py" -m pytest "$@"
fi
mkdir -p test-output
pids=() logs=()
for k in $(seq 1 "$count"); do
  log=test-output/share-$k-of-$count.log
  "$py" -m pytest "$@" --share "$k/$count" --junitxml="${log%.log}.xml" >"$log" 2>&1 &
  pids+=("$!") logs+=("$log")
  echo "test-shares: share $k of $count running (pid $!, log $log)"
done
status=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}"
  rc=$?
  echo "=== share $((i + 1)) of $count (exit $rc): ${logs[$i]} ==="
  cat "${logs[$i]}"
  if [ "$rc" != 0 ] && [ "$rc" != 5 ] && [ "$status" = 0 ]; then
    status=$rc
  fi
done
exit "$status"
