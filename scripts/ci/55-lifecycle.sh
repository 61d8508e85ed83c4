#!/usr/bin/env bash
# Lifecycle: deploy / status / scale / stop / start / plan --live / destroy through the core API
# and through the dsvmpool binary, against the ARM test double the tests start themselves (each
# fault class, interrupted deploys, concurrent scale), plus one quick run of the deploy
# benchmark (wall time and call count against the double's critical path).
# Self-contained: needs only the Rust toolchain (and a C compiler for the TLS crypto crate).
set -euo pipefail
export CI=true
cd "$(dirname "$0")/../.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "55-lifecycle: cargo is required" >&2
    exit 1
fi
if ! command -v cc >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential
fi

cargo test --locked -p dsvmpool --lib lifecycle
cargo test --locked -p dsvmpool --test lifecycle_happy --test lifecycle_faults --test lifecycle_ops --test lifecycle_sessions
cargo test --locked -p dsvmpool-cli --test lifecycle_cli --test sessions_cli
# The benchmark binary, once and quickly (debug build, fast simulated time): it must run and
# converge; `cargo bench -p dsvmpool --bench deploy` measures for real.
cargo test --locked -p dsvmpool --bench deploy
