#!/usr/bin/env bash
# Rendered ARM templates: every example and every valid spec fixture is rendered with
# `dsvmpool render` and checked by the offline ARM validator (official ARM JSON schemas,
# `--strict`, with its parameters file), the user data by `cloud-init schema` and shellcheck.
# (The render test suites run in stage 10 with every external checker required.)
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive

validator=../shared/tools/arm-validate/validate_template.py
[ -f "$validator" ] || { echo "missing $validator (../shared beside the repository)"; exit 1; }

# Tools: python3 + venv (jsonschema>=4.18), shellcheck, cloud-init (for `cloud-init schema`).
# shellcheck source=../ci-lib/checkers.sh
. scripts/ci-lib/checkers.sh
ci_checkers
py="$DSVMPOOL_PYTHON"

cargo build --locked -q -p dsvmpool-cli
bin=target/debug/dsvmpool
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Render every example and valid fixture.
specs=(examples/*.toml examples/*.yaml examples/*.yml examples/*.json tests/fixtures/specs/valid/*)
templates=()
i=0
for spec in "${specs[@]}"; do
  [ -f "$spec" ] || continue
  i=$((i + 1))
  dir="$out/$(printf '%02d' "$i")-$(basename "${spec%.*}")"
  "$bin" render "$spec" --out "$dir" >/dev/null
  templates+=("$dir/azuredeploy.json")
done
echo "rendered ${#templates[@]} specs"

# Templates: one validator run. `--strict` reports the top-level subscriptionId/resourceGroup of
# a nested deployment into another resource group as unknown (the deployments schema does not
# declare them, ARM requires them there): those two lines, on Microsoft.Resources/deployments
# only, are accepted; any other error fails the stage.
report=$("$py" "$validator" --strict "${templates[@]}" 2>&1) || true
echo "$report" | grep -E ': (OK|[0-9]+ error\(s\));' || true
if echo "$report" | grep -E '^\s+error:' \
    | grep -vE "\]\.(subscriptionId|resourceGroup): unknown property '(subscriptionId|resourceGroup)' \(not in Microsoft\.Resources/deployments@" \
    | grep -q .; then
  echo "$report"
  echo "FAIL: the offline ARM validator rejected a rendered template"
  exit 1
fi
if echo "$report" | grep -q 'SCHEMA RESOLUTION FAILED'; then echo "$report"; exit 1; fi

# Parameters files (each with its template).
fail=0
for t in "${templates[@]}"; do
  p="${t%azuredeploy.json}azuredeploy.parameters.json"
  if ! "$py" "$validator" --quiet "$t" --params "$p" | grep -q 'azuredeploy.parameters.json: OK'; then
    echo "FAIL: $p"; "$py" "$validator" "$t" --params "$p" || true; fail=1
  fi
done
[ $fail = 0 ] || exit 1
echo "parameters files: ${#templates[@]} OK"

# User data and the provisioning script.
for ud in "$out"/*/cloud-init.yaml; do
  [ -f "$ud" ] || continue
  cloud-init schema -c "$ud" >/dev/null || { echo "FAIL: cloud-init schema $ud"; cloud-init schema -c "$ud"; exit 1; }
  inst="$(dirname "$ud")/instance"
  shellcheck -x -P "$inst/usr/local/lib/dsvmpool" "$inst"/usr/local/sbin/* "$inst/usr/local/lib/dsvmpool/dsvmpool-lib.sh"
done
echo "cloud-init user data and provisioning scripts OK"
