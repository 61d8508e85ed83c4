#!/usr/bin/env bash
# Simulator: the SimPy model against `dsvmpool simulate` on the same synthetic trace (results
# must agree; the speed ratio is printed). The Rust tests (the engine, the generated autoscale
# settings against the official ARM schema) run in stage 10.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup)"; exit 1; }
# shellcheck source=../ci-lib/checkers.sh
. scripts/ci-lib/checkers.sh
ci_checkers

# The debug build of stage 10 is reused: this stage checks that both models agree; the speed
# ratio of record comes from a release build (`SIM_PROFILE=release`, `--days 365`).
profile=${SIM_PROFILE:-debug}
if [ "$profile" = release ]; then cargo build --locked --release -p dsvmpool-cli; else cargo build --locked -p dsvmpool-cli; fi
"$DSVMPOOL_PYTHON" benches/simpy_compare.py --dsvmpool "target/$profile/dsvmpool" --users 200 --days "${SIM_DAYS:-91}"
