#!/usr/bin/env bash
# Build and install the dsvmpool C API:
#   <prefix>/include/dsvmpool.h
#   <prefix>/lib/libdsvmpool.so, <prefix>/lib/libdsvmpool.a
#   <prefix>/lib/pkgconfig/dsvmpool.pc
#
# Usage: capi/install.sh [--prefix DIR] [--debug] [--destdir DIR]
#   --prefix DIR   install prefix (default /usr/local)
#   --debug        install the debug build (default: release)
#   --destdir DIR  stage under DIR (for packaging); dsvmpool.pc still says --prefix
# Respects CARGO_TARGET_DIR and CARGO_BUILD_TARGET.
set -euo pipefail
prefix=/usr/local
profile=release
destdir=
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --debug) profile=debug; shift ;;
    --destdir) destdir=$2; shift 2 ;;
    --destdir=*) destdir=${1#*=}; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
case "$prefix" in /*) ;; *) echo "--prefix must be absolute: $prefix" >&2; exit 2 ;; esac

cd "$(dirname "$0")/.."
target=${CARGO_BUILD_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}
flags=(--locked -p dsvmpool-capi --lib --target "$target")
[ "$profile" = release ] && flags+=(--release)
cargo build "${flags[@]}"
out="${CARGO_TARGET_DIR:-$PWD/target}/$target/$profile"
version=$(sed -n 's/^#define DSVMPOOL_VERSION "\(.*\)"$/\1/p' capi/include/dsvmpool.h)

root="$destdir$prefix"
install -d "$root/include" "$root/lib/pkgconfig"
install -m 0644 capi/include/dsvmpool.h "$root/include/dsvmpool.h"
install -m 0755 "$out/libdsvmpool.so" "$root/lib/libdsvmpool.so"
install -m 0644 "$out/libdsvmpool.a" "$root/lib/libdsvmpool.a"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" capi/dsvmpool.pc.in > "$root/lib/pkgconfig/dsvmpool.pc"
chmod 0644 "$root/lib/pkgconfig/dsvmpool.pc"
echo "installed dsvmpool $version ($profile) under $root"
