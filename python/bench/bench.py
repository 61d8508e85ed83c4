"""Benchmark of the Python binding: `import dsvmpool` time, and the same work from Python and
from Rust (load + validate, load + validate + render, parse + validate + plan of
examples/team.toml).

    python python/bench/bench.py            # needs dsvmpool installed (a release build) and cargo
    python python/bench/bench.py --no-rust  # Python side only

The Rust side is the criterion bench `python/benches/same_work.rs`; the difference is what the
binding adds (argument conversion, building Python objects, error mapping).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path
from typing import Callable, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
TEAM = ROOT / "examples" / "team.toml"

UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} µs"
    return f"{seconds * 1e3:8.2f} ms"


def wall(cmd: List[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t


def import_time(python: str, runs: int) -> Dict[str, float]:
    """Median wall time of `python -c 'import dsvmpool'` minus that of `python -c pass`."""
    wall([python, "-c", "import dsvmpool"])  # warm the file cache
    base = statistics.median(wall([python, "-c", "pass"]) for _ in range(runs))
    full = statistics.median(wall([python, "-c", "import dsvmpool"]) for _ in range(runs))
    # -X importtime: cumulative microseconds of the dsvmpool package itself
    out = subprocess.run(
        [python, "-X", "importtime", "-c", "import dsvmpool"], check=True, capture_output=True, text=True
    ).stderr
    cumulative = [int(m.group(1)) for m in re.finditer(r"\|\s*(\d+) \| dsvmpool$", out, re.M)]
    return {
        "interpreter": base,
        "with_import": full,
        "import": full - base,
        "importtime_cumulative": cumulative[-1] * 1e-6 if cumulative else float("nan"),
    }


def per_call(fn: Callable[[], object], target: float = 0.2) -> float:
    """Median of 15 repeats of the per-call time, each repeat lasting about `target` seconds
    (a median, like criterion's estimate on the Rust side)."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    number = max(1, int(number * target / 0.2))
    return statistics.median(timer.repeat(repeat=15, number=number)) / number


def python_side() -> Dict[str, float]:
    import dsvmpool

    text = TEAM.read_text(encoding="utf-8")
    return {
        "load+validate team.toml": per_call(lambda: dsvmpool.Pool.load(TEAM).validate()),
        "load+validate+render team.toml": per_call(lambda: dsvmpool.Pool.load(TEAM).render()),
        "from_toml+validate+plan team.toml": per_call(lambda: dsvmpool.Pool.from_toml(text).plan()),
    }


def rust_side() -> Dict[str, float]:
    cmd = ["cargo", "bench", "--locked", "-p", "dsvmpool-python", "--bench", "same_work"]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    found: Dict[str, float] = {}
    # criterion: `<name>  time:   [low unit mid unit high unit]`
    pattern = re.compile(r"^(\S.*?)\s+time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", re.M)
    for m in pattern.finditer(out):
        found[m.group(1).strip()] = float(m.group(2)) * UNITS[m.group(3)]
    return found


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--no-rust", action="store_true", help="skip the Rust side (cargo bench)")
    ap.add_argument("--import-runs", type=int, default=30)
    args = ap.parse_args(argv)

    imp = import_time(sys.executable, args.import_runs)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Python {sys.version.split()[0]} ({sys.executable}); load average {load} on {os.cpu_count()} CPUs")
    print(
        f"import dsvmpool: {fmt(imp['import']).strip()} "
        f"(python -c 'import dsvmpool' {fmt(imp['with_import']).strip()} − python -c pass "
        f"{fmt(imp['interpreter']).strip()}; -X importtime cumulative {fmt(imp['importtime_cumulative']).strip()})"
    )
    py = python_side()
    rust = {} if args.no_rust else rust_side()
    print()
    print(f"{'work (per call)':<36} {'Python':>11} {'Rust':>11}  binding adds")
    for name, t in py.items():
        r = rust.get(name)
        if r is None:
            print(f"{name:<36} {fmt(t)} {'-':>11}")
        else:
            print(f"{name:<36} {fmt(t)} {fmt(r)}  {fmt(t - r).strip()} ({(t - r) / r * 100:+.0f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
