#!/usr/bin/env bash
# Rust: format check, the workspace's default members (core + CLI) with doctests, fixtures,
# property tests and CLI tests; the committed JSON Schema must be current.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup)"; exit 1; }
rustup component list --installed 2>/dev/null | grep -q rustfmt && cargo fmt --all -- --check
cargo build --locked
cargo test --locked --doc -p dsvmpool -q
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast
else
  cargo test --locked
fi
git diff --exit-code -- core/schema/pool.schema.json
