#!/usr/bin/env bash
# `dsvmpool render` as a whole process (start, parse, validate, render, write the files), for
# examples/team.toml and a 1,000-user spec. Uses hyperfine when installed
# (`apt-get install hyperfine`), else a plain timing loop.
#   bash core/benches/render-process.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-50}
cargo build --release -q -p dsvmpool-cli
bin=target/release/dsvmpool
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
  printf 'name = "bigteam"\nlocation = "westeurope"\nresource_group = "rg-bigteam"\n'
  printf '[capacity]\nmin = 0\nmax = 200\ninitial = 2\n'
  printf '[access]\nssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]\nsource_cidrs = ["203.0.113.0/24"]\n'
  printf '[identity]\nentra_id_login = true\n[autoscale.scale_to_zero]\nmin = 10\n'
  for i in $(seq 0 999); do printf '[[users]]\nname = "user%04d"\nuid = %d\n' "$i" $((10000 + i)); done
} >"$work/users1000.toml"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 5 --runs "$runs" \
    -n "render team.toml" "$bin render examples/team.toml --out $work/team" \
    -n "render 1000 users" "$bin render $work/users1000.toml --out $work/big"
else
  for spec in examples/team.toml "$work/users1000.toml"; do
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do "$bin" render "$spec" --out "$work/out" >/dev/null; done
    end=$(date +%s%N)
    echo "render $(basename "$spec"): $(((end - start) / runs / 1000)) µs per process (mean of $runs)"
  done
fi
