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
import json
import os
import re
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]
TEAM = ROOT / "examples" / "team.toml"

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


def per_call(fn: Callable[[], object]) -> Tuple[float, float]:
    """(min, median) per call of 15 repeats of a `timeit.autorange` loop (≥ 0.2 s each);
    `benches/same_work.rs --timeit` measures the Rust side the same way."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    runs = sorted(t / number for t in timer.repeat(repeat=15, number=number))
    return runs[0], statistics.median(runs)


def python_side() -> Dict[str, Tuple[float, float]]:
    import dsvmpool

    text = TEAM.read_text(encoding="utf-8")
    return {
        "load+validate team.toml": per_call(lambda: dsvmpool.Pool.load(TEAM).validate()),
        "load+validate+render team.toml": per_call(lambda: dsvmpool.Pool.load(TEAM).render()),
        "from_toml+validate+plan team.toml": per_call(lambda: dsvmpool.Pool.from_toml(text).plan()),
    }


def rust_side() -> Dict[str, Tuple[float, float]]:
    cmd = ["cargo", "bench", "--locked", "-q", "-p", "dsvmpool-python", "--bench", "same_work", "--", "--timeit"]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    found: Dict[str, Tuple[float, float]] = {}
    for line in out.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            found[row["name"]] = (float(row["min"]), float(row["median"]))
    return found


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--no-rust", action="store_true", help="skip the Rust side (cargo bench)")
    ap.add_argument("--import-runs", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3, help="alternating Python/Rust rounds")
    args = ap.parse_args(argv)

    imp = import_time(sys.executable, args.import_runs)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Python {sys.version.split()[0]} ({sys.executable}); load average {load} on {os.cpu_count()} CPUs")
    print(
        f"import dsvmpool: {fmt(imp['import']).strip()} "
        f"(python -c 'import dsvmpool' {fmt(imp['with_import']).strip()} − python -c pass "
        f"{fmt(imp['interpreter']).strip()}; -X importtime cumulative {fmt(imp['importtime_cumulative']).strip()})"
    )
    # Alternate the sides and keep each one's best round: other load on the machine only
    # ever makes a round slower.
    py: Dict[str, Tuple[float, float]] = {}
    rust: Dict[str, Tuple[float, float]] = {}
    for _ in range(args.rounds):
        for name, t in python_side().items():
            py[name] = min(py.get(name, t), t)
        if not args.no_rust:
            for name, t in rust_side().items():
                rust[name] = min(rust.get(name, t), t)
    print()
    print(f"{'work (per call; min / median)':<36} {'Python':>23} {'Rust':>23}  binding adds (min)")
    for name, (pmin, pmed) in py.items():
        both = f"{fmt(pmin)} / {fmt(pmed).strip()}"
        if name not in rust:
            print(f"{name:<36} {both:>23}")
            continue
        rmin, rmed = rust[name]
        extra = f"{fmt(pmin - rmin).strip()} ({(pmin - rmin) / rmin * 100:+.0f} %)"
        print(f"{name:<36} {both:>23} {f'{fmt(rmin)} / {fmt(rmed).strip()}':>23}  {extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
