#!/usr/bin/env bash
# run.sh - the real-guest suite: render the suite's pool specs with dsvmpool, boot guests with
# the rendered user data and check the shared workspace on real kernels (see README.md).
#
# Usage: tests/guest/run.sh [--sequential]
# Env:   CACHE (image cache, default ${XDG_CACHE_HOME:-/var/cache}/dsvmpool-guest),
#        RUN (scratch, default /tmp/dsvmpool-guest), RESULTS (JSON results file),
#        DSVMPOOL (the dsvmpool binary; default: built with cargo). Each spec is rendered with
#        `dsvmpool render SPEC --out DIR --share-host HOST`, exactly what a user deploys; the
#        guests boot DIR/cloud-init.yaml, the user data the template embeds.
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

if [ -z "${DSVMPOOL:-}" ]; then
  (cd "$ROOT" && cargo build -q -p dsvmpool-cli)
  DSVMPOOL="$ROOT/target/debug/dsvmpool"
fi
rm -rf "$RUN/render"
install -d "$RUN/render"
key=$(cat "$IMG/id_ed25519.pub")
pools=()
for kind in smb nfs smbkey; do
  sed "s|@SSH_KEY@|$key|g" "$HERE/specs/$kind.toml" > "$RUN/render/$kind.toml"
  "$DSVMPOOL" render "$RUN/render/$kind.toml" --out "$RUN/render/$kind" --share-host "$SHARE_HOST" >/dev/null
  cloud-init schema --config-file "$RUN/render/$kind/cloud-init.yaml" >/dev/null
  pools+=(--pool "$kind=$RUN/render/$kind/cloud-init.yaml")
done
echo "[run] rendered after $(($(date +%s) - t0))s" >&2

rc=0
/usr/bin/python3 "$HERE/suite.py" --image "$IMG" "${pools[@]}" --one-guest smbkey --run "$RUN" --results "$RESULTS" $PARALLEL || rc=$?
echo "[run] guest suite $([ $rc = 0 ] && echo passed || echo FAILED) in $(($(date +%s) - t0))s (results: $RESULTS)" >&2
exit $rc
