#!/usr/bin/env bash
# C API (libdsvmpool.so/.a + include/dsvmpool.h): build, check the committed header is what
# cbindgen generates, run the C tests (gcc -Werror; dynamic, static and under valgrind, golden
# fixtures included), then install with capi/install.sh and build examples/c via pkg-config.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CI=true CARGO_TERM_COLOR=never CARGO_INCREMENTAL=0 CARGO_NET_RETRY=5 DEBIAN_FRONTEND=noninteractive
t0=$SECONDS
step() { echo; echo "=== capi: $* [+$((SECONDS - t0))s]"; }

step "toolchain (gcc, g++, make, pkg-config, valgrind)"
missing=()
for tool in gcc:gcc g++:g++ make:make pkg-config:pkg-config valgrind:valgrind; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
gcc --version | head -1; valgrind --version; cargo --version
# One explicit --target for every cargo call (the same as the other binding stages), so the
# libraries, the tests and install.sh share target/<triple>/debug.
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')

step "build + generated header is fresh"
keep=$(mktemp)
cp capi/include/dsvmpool.h "$keep"
b0=$SECONDS
cargo build -p dsvmpool-capi --lib --locked --target "$TRIPLE"
echo "cargo build -p dsvmpool-capi: $((SECONDS - b0))s"
if ! cmp -s "$keep" capi/include/dsvmpool.h; then
  echo "capi/include/dsvmpool.h is stale: build dsvmpool-capi and commit the header" >&2
  diff -u "$keep" capi/include/dsvmpool.h | head -60 >&2 || true
  rm -f "$keep"
  exit 1
fi
rm -f "$keep"

step "cargo test -p dsvmpool-capi (C tests: dynamic, static, valgrind, fixtures)"
cargo test -p dsvmpool-capi --locked --target "$TRIPLE" -- --nocapture --test-threads=2

step "install.sh into a temporary prefix + examples/c via pkg-config"
prefix=$(mktemp -d)
capi/install.sh --prefix "$prefix" --debug
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
test "$(pkg-config --modversion dsvmpool)" = "$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
make -C examples/c clean check
make -C examples/c clean
rm -rf "$prefix"

step "done in $((SECONDS - t0))s"
