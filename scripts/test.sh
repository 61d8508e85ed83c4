#!/usr/bin/env bash
# Installs every test dependency and runs every test suite of dsvmpool.
# Each stage is an executable scripts/ci/NN-name.sh, run in lexical order; each installs what it
# needs (apt, pip, npm, cargo), starts the servers its tests need and fails on any test failure.
#   bash scripts/test.sh            # all stages
#   bash scripts/test.sh 10 40      # only the stages whose names start with these prefixes
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never CARGO_INCREMENTAL=0 CARGO_NET_RETRY=5
export DEBIAN_FRONTEND=noninteractive
t0=$SECONDS
failed=()
passed=()
stages=(scripts/ci/*.sh)
for stage in "${stages[@]}"; do
  name=$(basename "$stage" .sh)
  if [ $# -gt 0 ]; then
    keep=0
    for p in "$@"; do case "$name" in "$p"*) keep=1 ;; esac; done
    [ "$keep" = 1 ] || continue
  fi
  echo
  echo "=== stage $name [+$((SECONDS - t0))s]"
  s0=$SECONDS
  if bash "$stage"; then
    passed+=("$name")
    echo "=== stage $name ok in $((SECONDS - s0))s"
  else
    failed+=("$name")
    echo "=== stage $name FAILED after $((SECONDS - s0))s"
  fi
done
echo
echo "=== all stages done in $((SECONDS - t0))s"
echo "stages: ${#passed[@]} passed, ${#failed[@]} failed"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed stages: ${failed[*]}"
  exit 1
fi
