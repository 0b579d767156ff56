#!/usr/bin/env bash
# make test: run each stage (a make target) in turn, stop at the first that fails, and print every
# stage's wall time at the end, whether it passed or not.
set -uo pipefail
report=()
status=0
for stage in "$@"; do
  start=$(date +%s)
  make --no-print-directory "$stage"
  status=$?
  report+=("$(printf '%-8s %5d s%s' "$stage" $(($(date +%s) - start)) "$([ "$status" -ne 0 ] && echo '  FAILED')")")
  [ "$status" -ne 0 ] && break
done
echo "=== make test: wall time per stage ==="
printf '%s\n' "${report[@]}"
exit "$status"
