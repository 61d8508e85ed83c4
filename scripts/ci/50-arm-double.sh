#!/usr/bin/env bash
# The ARM test double (tests/arm-double): its unit tests, protocol, deployment and scale set
# suites, and the arm-double binary. Self-contained: needs only the Rust toolchain.
set -euo pipefail
export CI=true
cd "$(dirname "$0")/../.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "50-arm-double: cargo is required" >&2
    exit 1
fi
# aws-lc-sys (TLS crypto) builds with a C compiler
if ! command -v cc >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential
fi

cargo test -p dsvmpool-arm-double --locked
