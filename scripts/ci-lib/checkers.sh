# shellcheck shell=bash
# Sourced by CI stages: installs the external checkers the Rust test suites call (python3 with
# jsonschema + simpy in a venv, shellcheck, cloud-init) and exports what the tests read:
#   DSVMPOOL_PYTHON                the venv's interpreter (jsonschema for the offline ARM
#                                  validator, simpy for the simulator comparison)
#   DSVMPOOL_REQUIRE_TOOLS=1       render suites fail instead of skipping when a checker is missing
#   DSVMPOOL_REQUIRE_ARM_VALIDATE=1  the same for the autoscale-settings schema test
# Idempotent: a second call in the same run finds everything installed and returns at once.
ci_checkers() {
  local need=() venv
  command -v python3 >/dev/null || need+=(python3)
  python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
  command -v shellcheck >/dev/null || need+=(shellcheck)
  command -v cloud-init >/dev/null || need+=(cloud-init)
  if [ ${#need[@]} -gt 0 ]; then
    echo "[checkers] installing: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  venv="$PWD/target/ci-venv-checkers"
  if ! "$venv/bin/python" -c 'import jsonschema, referencing, simpy' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'jsonschema>=4.18' 'simpy>=4.1'
  fi
  export DSVMPOOL_PYTHON="$venv/bin/python" DSVMPOOL_REQUIRE_TOOLS=1 DSVMPOOL_REQUIRE_ARM_VALIDATE=1
}
