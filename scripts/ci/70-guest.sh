#!/usr/bin/env bash
# 70-guest.sh - provisioning on real Linux guests: install what the suite needs, lint every
# rendered script (shellcheck) and user data (cloud-init schema), then run tests/guest/run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
t0=$(date +%s)

# ---- packages
need=()
for pair in qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils debootstrap:debootstrap smbd:samba \
  ganesha.nfsd:nfs-ganesha genisoimage:genisoimage socat:socat mkfs.ext4:e2fsprogs shellcheck:shellcheck \
  cloud-init:cloud-init ssh:openssh-client openssl:openssl; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
[ -e /usr/lib/x86_64-linux-gnu/samba/vfs/acl_xattr.so ] || need+=(samba-vfs-modules)
[ -e /usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so ] || need+=(nfs-ganesha-vfs)
/usr/bin/python3 -c 'import yaml' 2>/dev/null || need+=(python3-yaml)
if [ ${#need[@]} -gt 0 ]; then
  echo "[70-guest] installing: ${need[*]}"
  apt-get update -qq
  # qemu-utils from bookworm-backports conflicts with bookworm's qemu-system: match it
  if [[ " ${need[*]} " == *" qemu-system-x86 "* ]] && dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null | grep -q bpo; then
    if ! apt-cache policy | grep -q bookworm-backports; then
      mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
      printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "${mirror:-http://deb.debian.org/debian}" > /etc/apt/sources.list.d/bookworm-backports.sources
      apt-get update -qq
    fi
    apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86 >/dev/null
    need=("${need[@]/qemu-system-x86/}")
  fi
  rest=()
  for p in "${need[@]}"; do [ -n "$p" ] && rest+=("$p"); done
  [ ${#rest[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${rest[@]}" >/dev/null
fi
echo "[70-guest] tools ready after $(($(date +%s) - t0))s"

# ---- lint: every spec we ship renders to shellcheck-clean scripts and a valid cloud-config
cargo build -q -p dsvmpool-cli
lint=$(mktemp -d /tmp/dsvmpool-lint.XXXXXX)
specs=()
for kind in smb nfs windows; do
  ./target/debug/dsvmpool init --kind "$kind" "$lint/init-$kind.toml" >/dev/null
  specs+=("$lint/init-$kind.toml")
done
for f in examples/*.toml examples/*.yaml examples/*.json tests/guest/specs/*.toml; do
  [ -e "$f" ] && specs+=("$f")
done
key='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a ci@lint'
n=0
for spec in "${specs[@]}"; do
  out="$lint/$(basename "$spec" | tr . _)"
  sed "s|@SSH_KEY@|$key|g" "$spec" > "$out.spec.${spec##*.}"
  ./target/debug/dsvmpool render "$out.spec.${spec##*.}" --out "$out" >/dev/null
  if [ -f "$out/cloud-init.yaml" ]; then
    cloud-init schema --config-file "$out/cloud-init.yaml" >/dev/null
    scripts=()
    while IFS= read -r s; do
      head -c 64 "$s" | grep -qE '^(#!/bin/(ba)?sh|# shellcheck shell=)' && scripts+=("$s")
    done < <(find "$out/instance" -type f)
    shellcheck -x -P "$out/instance/usr/local/lib/dsvmpool" "${scripts[@]}"
    n=$((n + ${#scripts[@]}))
  fi
done
shellcheck tests/guest/*.sh tests/guest/image/e2e-hosts scripts/ci/70-guest.sh
echo "[70-guest] ${#specs[@]} specs rendered; $n rendered scripts shellcheck-clean; cloud-init schema valid"
rm -rf "$lint"

# ---- the managed-identity key fetch (Key Vault and ARM listKeys) against test doubles
/usr/bin/python3 tests/guest/fetch_key_test.py

# ---- the real-guest suite
tests/guest/run.sh
echo "[70-guest] done in $(($(date +%s) - t0))s"
