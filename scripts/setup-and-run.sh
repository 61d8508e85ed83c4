#!/usr/bin/env bash
# Builds dsvmpool and runs its main job on the bundled example: validate, then plan.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs"; exit 1; }
cargo build --release --locked -p dsvmpool-cli
./target/release/dsvmpool validate examples/team.toml
./target/release/dsvmpool plan examples/team.toml
