#!/usr/bin/env bash
# Node binding (npm package `dsvmpool`, napi-rs): build the addon, check the committed
# generated files (index.d.ts, index.js) are fresh, run the Rust unit tests, the node --test
# suite (golden fixtures, render, simulation, the lifecycle against the ARM test double,
# npm pack + install into an empty folder), and the TypeScript portal example
# (tsc --strict + node --test against a real local HTTP request).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export CI=true CARGO_TERM_COLOR=never CARGO_INCREMENTAL=0 CARGO_NET_RETRY=5
export npm_config_audit=false npm_config_fund=false npm_config_loglevel=error npm_config_update_notifier=false
t0=$SECONDS
step() { echo; echo "=== node: $* [+$((SECONDS - t0))s]"; }

step "toolchain"
command -v node >/dev/null || { echo "node (>= 20.17) is required" >&2; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<17)) { console.error("node >= 20.17 required, found "+process.version); process.exit(1) }'
node --version; npm --version; cargo --version
# One explicit --target for every cargo call: napi passes `--target <host>` anyway, so this
# keeps `cargo test` and `napi build` in one target/<triple>/debug (no double compile).
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')

step "npm ci (node/)"
(cd node && npm ci)

step "napi build (debug) + generated files are fresh"
keep=$(mktemp -d)
cp node/index.d.ts node/index.js "$keep/"
b0=$SECONDS
(cd node && npx napi build --platform --no-const-enum --target "$TRIPLE" --js index.js --dts index.d.ts)
echo "napi build: $((SECONDS - b0))s"
stale=0
for f in index.d.ts index.js; do
  if ! cmp -s "$keep/$f" "node/$f"; then
    echo "node/$f is stale: rebuild with 'npm run build:debug' in node/ and commit it" >&2
    diff -u "$keep/$f" "node/$f" | head -50 >&2 || true
    stale=1
  fi
done
rm -rf "$keep"
[ "$stale" = 0 ]

step "cargo test -p dsvmpool-node"
cargo test -p dsvmpool-node --locked --target "$TRIPLE"

step "ARM test double for the lifecycle tests"
cargo build -p dsvmpool-arm-double --bin arm-double --locked --target "$TRIPLE"
export ARM_DOUBLE_BIN="$ROOT/target/$TRIPLE/debug/arm-double"

step "node --test (node/__test__)"
(cd node && node --test __test__/*.test.mjs)

step "examples/node: npm ci, tsc --strict, node --test against a local HTTP server"
(cd examples/node && npm ci && npm test)

step "done in $((SECONDS - t0))s"
