#!/usr/bin/env bash
# run.sh - the real-guest suite: render the suite's pool specs with dsvmpool, boot guests with
# the rendered user data and check the shared workspace on real kernels (see README.md).
#
# Usage: tests/guest/run.sh [--sequential]
# Env:   CACHE (image cache, default ${XDG_CACHE_HOME:-/var/cache}/dsvmpool-guest),
#        RUN (scratch, default /tmp/dsvmpool-guest), RESULTS (JSON results file),
#        RENDER (a command that renders SPEC OUT_DIR --share-host HOST; default: the core's
#        render_provisioning example through cargo)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUN=${RUN:-/tmp/dsvmpool-guest}
RESULTS=${RESULTS:-$RUN/results.json}
SHARE_HOST=169.254.0.100 # the guests' address of the share stand-ins (see suite.py)
PARALLEL=--parallel
[ "${1:-}" = --sequential ] && PARALLEL=

t0=$(date +%s)
IMG=$("$HERE/image.sh")
echo "[run] image ready after $(($(date +%s) - t0))s: $IMG" >&2

if [ -z "${RENDER:-}" ]; then
  (cd "$ROOT" && cargo build -q -p dsvmpool --example render_provisioning)
  RENDER="$ROOT/target/debug/examples/render_provisioning"
fi
rm -rf "$RUN/render"
install -d "$RUN/render"
key=$(cat "$IMG/id_ed25519.pub")
pools=()
for kind in smb nfs; do
  sed "s|@SSH_KEY@|$key|g" "$HERE/specs/$kind.toml" > "$RUN/render/$kind.toml"
  $RENDER "$RUN/render/$kind.toml" "$RUN/render/$kind" --share-host "$SHARE_HOST"
  cloud-init schema --config-file "$RUN/render/$kind/user-data" >/dev/null
  pools+=(--pool "$kind=$RUN/render/$kind/user-data")
done
echo "[run] rendered after $(($(date +%s) - t0))s" >&2

rc=0
/usr/bin/python3 "$HERE/suite.py" --image "$IMG" "${pools[@]}" --run "$RUN" --results "$RESULTS" $PARALLEL || rc=$?
echo "[run] guest suite $([ $rc = 0 ] && echo passed || echo FAILED) in $(($(date +%s) - t0))s (results: $RESULTS)" >&2
exit $rc
