#!/usr/bin/env bash
# Autoscale and simulator: the generated autoscale settings against the official ARM schema
# (strict), and the SimPy model against `dsvmpool simulate` on the same synthetic trace
# (results must agree; the speed ratio is printed). The Rust unit tests run in 10-rust.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup)"; exit 1; }
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
fi
venv="${TMPDIR:-/tmp}/dsvmpool-sim-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q 'jsonschema>=4.18' 'simpy>=4.1'

DSVMPOOL_PYTHON="$venv/bin/python" DSVMPOOL_REQUIRE_ARM_VALIDATE=1 \
  cargo test --locked -p dsvmpool --test autoscale_arm

# The debug build of stage 10 is reused: this stage checks that both models agree; the speed
# ratio of record comes from a release build (`SIM_PROFILE=release`, `--days 365`).
profile=${SIM_PROFILE:-debug}
if [ "$profile" = release ]; then cargo build --locked --release -p dsvmpool-cli; else cargo build --locked -p dsvmpool-cli; fi
"$venv/bin/python" benches/simpy_compare.py --dsvmpool "target/$profile/dsvmpool" --users 200 --days "${SIM_DAYS:-91}"
