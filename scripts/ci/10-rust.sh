#!/usr/bin/env bash
# Rust: format check, the workspace's default members (core + CLI) with doctests, fixtures,
# property tests, render suites (with every external checker required), lifecycle suites
# against the ARM test double, CLI tests; the committed JSON Schema must be current.
# Every Rust test of core and the CLI runs here, once; later stages run what is not a Rust
# test (the validator over rendered files, the SimPy comparison, the bindings, the guests).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup)"; exit 1; }
command -v cc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential >/dev/null; }
# shellcheck source=../ci-lib/checkers.sh
. scripts/ci-lib/checkers.sh
ci_checkers
rustup component list --installed 2>/dev/null | grep -q rustfmt && cargo fmt --all -- --check
cargo build --locked
cargo test --locked --doc -p dsvmpool -q
# The deploy benchmark once, quickly (debug build, fast simulated time): it must run and
# converge; `cargo bench -p dsvmpool --bench deploy` measures for real.
cargo test --locked -p dsvmpool --bench deploy -q
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast
else
  cargo test --locked
fi
git diff --exit-code -- core/schema/pool.schema.json
