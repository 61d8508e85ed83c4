#!/usr/bin/env bash
# Python binding (python/): from scratch, build and test the `dsvmpool` package.
#  1. a fresh venv with maturin, pytest, mypy, nbclient/ipykernel;
#  2. the binding's Rust tests (error mapping, fork-safe runtime) with an embedded interpreter;
#  3. `maturin develop` + pytest (mirrors the core modules, replays the golden fixtures, compares
#     results with the CLI, drives the network verbs against the ARM test double, runs the
#     example notebook headless), mypy --strict on the examples;
#  4. `maturin build --profile wheel-ci`: the abi3 wheel installs and imports in clean venvs (the default
#     python3, and Python 3.9 when one is installed), mypy.stubtest checks _native.pyi against it.
# Every cargo/maturin call passes the same explicit --target (see BINDINGS-RECIPE.md gotcha 3).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export CI=${CI:-true} CARGO_TERM_COLOR=never CARGO_NET_RETRY=5 PIP_DISABLE_PIP_VERSION_CHECK=1
t0=$SECONDS
step() { echo; echo "=== python: $* [+$((SECONDS - t0))s]"; }

command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup)"; exit 1; }
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys, venv, ensurepip; assert sys.version_info >= (3, 9)' 2>/dev/null; then
  step "installing python3-venv (apt)"
  apt-get update -qq && apt-get install -y -qq python3 python3-venv python3-dev >/dev/null
  PY=python3
fi
"$PY" --version
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
WORK="$ROOT/target/python-ci"
rm -rf "$WORK"
mkdir -p "$WORK"
VENV="$WORK/dev"

step "venv + tools"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "maturin>=1.16,<2" "pytest>=8,<10" "mypy>=1.15" \
  "nbclient>=0.10,<1" "nbformat>=5.10,<6" "ipykernel>=6.29" "pandas>=2"
export PYO3_PYTHON="$VENV/bin/python"
PYLIBDIR=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR") or "")')

step "the CLI (compared with the binding's results) and the ARM test double"
cargo build --locked -q -p dsvmpool-cli
cargo build --locked -q -p dsvmpool-arm-double --bin arm-double
export DSVMPOOL_CLI="$ROOT/target/debug/dsvmpool" DSVMPOOL_ARM_DOUBLE="$ROOT/target/debug/arm-double"

step "binding Rust tests (embedded interpreter)"
# pyo3-ffi's rpath does not reach the test binary: point the loader at this python's libpython.
LD_LIBRARY_PATH="$PYLIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  cargo test --locked -q -p dsvmpool-python --target "$TRIPLE"

step "maturin develop + pytest"
(cd python && VIRTUAL_ENV="$VENV" "$VENV/bin/maturin" develop --locked -q --target "$TRIPLE")
(cd python && "$VENV/bin/python" -m pytest -q -p no:cacheprovider -rs)

step "mypy --strict (examples/python, python/tests, python/tools, python/bench)"
"$VENV/bin/python" -m mypy --strict --no-incremental examples/python python/tests python/tools python/bench

step "maturin build --profile wheel-ci (abi3 wheel; the release profile without fat LTO)"
(cd python && "$VENV/bin/maturin" build --locked --profile wheel-ci --target "$TRIPLE" -o "$WORK/wheels")
WHEEL=$(ls "$WORK"/wheels/dsvmpool-*-cp39-abi3-*.whl)
echo "wheel: $(basename "$WHEEL") ($(du -k "$WHEEL" | cut -f1) KiB)"
if command -v readelf >/dev/null; then
  "$VENV/bin/python" -m zipfile -e "$WHEEL" "$WORK/unpacked"
  if readelf -d "$WORK"/unpacked/dsvmpool/_native*.so | grep -q 'NEEDED.*libpython'; then
    echo "the extension links libpython: not a portable abi3 wheel"; exit 1
  fi
fi

smoke='
import pathlib, pickle, sys, dsvmpool
pool = dsvmpool.Pool.load(pathlib.Path(sys.argv[1]))
assert pool.validate() == []
plan = pool.plan()
assert "<table>" in plan._repr_html_() and plan.capacity[2] > 0
try:
    dsvmpool.Pool.from_dict({"name": "Bad Name"}).validate()
except ValueError as e:
    assert isinstance(e, dsvmpool.ValidationError) and pickle.loads(pickle.dumps(e)).errors == e.errors
print("dsvmpool", dsvmpool.__version__, "imports and works on Python", sys.version.split()[0])
'

step "clean venv: install the wheel, import, stubtest"
"$PY" -m venv "$WORK/clean"
"$WORK/clean/bin/pip" install -q "$WHEEL"
(cd "$WORK" && "$WORK/clean/bin/python" -c "$smoke" "$ROOT/examples/team.toml")
"$WORK/clean/bin/pip" install -q "mypy>=1.15"
# Outside the source tree, so the installed package (not python/dsvmpool) is checked.
(cd "$WORK" && "$WORK/clean/bin/python" -m mypy.stubtest dsvmpool)
# The stub's docstrings are the native module's (the Rust docs).
(cd "$WORK" && "$WORK/clean/bin/python" "$ROOT/python/tools/stub_docs.py" --check)

# The wheel is abi3 (cp39): prove it on the oldest supported CPython when one is installed.
PY39=""
for cand in python3.9 \
    $(command -v pyenv >/dev/null && pyenv versions --bare 2>/dev/null | grep -E '^3\.9(\.|$)' \
      | sed "s|^|$(pyenv root)/versions/|; s|\$|/bin/python3.9|"); do
  # (a pyenv shim exists even when that version is not active: try to run it)
  if "$cand" -c 'import sys, venv; assert sys.version_info[:2] == (3, 9)' 2>/dev/null; then
    PY39=$cand; break
  fi
done
if [ -n "$PY39" ]; then
  step "clean Python 3.9 venv: install the same wheel, import, pytest"
  "$PY39" -m venv "$WORK/py39"
  "$WORK/py39/bin/pip" install -q "$WHEEL"
  (cd "$WORK" && "$WORK/py39/bin/python" -c "$smoke" "$ROOT/examples/team.toml")
  "$WORK/py39/bin/pip" install -q "pytest>=8"
  # The suite imports the installed wheel: run it from a copy outside the source tree.
  cp -r python/tests "$WORK/tests39"
  (cd "$WORK" && DSVMPOOL_REPO="$ROOT" CI= "$WORK/py39/bin/python" -m pytest -q -p no:cacheprovider tests39 \
     --deselect tests39/test_notebook.py)
else
  echo "(no Python 3.9 interpreter here: the abi3 wheel was checked on $("$PY" --version) only)"
fi

step "done in $((SECONDS - t0))s"
