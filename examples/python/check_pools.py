"""Validate pool specs in parallel and print every problem with its field path and hint.

    python examples/python/check_pools.py examples/*.toml

Exits with 1 when a spec is invalid. The specs are checked in worker processes, so this also
shows that dsvmpool's exceptions cross process boundaries intact (they pickle).
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import dsvmpool


def check(path: str) -> list[dsvmpool.Diagnostic]:
    """Warnings of one spec; raises dsvmpool.ValidationError (or IoError) when it is unusable."""
    return dsvmpool.Pool.load(path).validate()


def show(path: str, d: dsvmpool.Diagnostic) -> str:
    where = d["path"] or "<document>"
    line = f"{d['severity']}[{d['rule']}]: {path}: {where}: {d['message']}"
    if d["hint"] is not None:
        line += f"\n  = hint: {d['hint']}"
    return line


def main(argv: list[str]) -> int:
    paths = argv or sorted(str(p) for p in Path("examples").glob("*.toml"))
    failed = 0
    with ProcessPoolExecutor(max_workers=2) as workers:
        futures = {path: workers.submit(check, path) for path in paths}
        for path, future in futures.items():
            try:
                warnings = future.result()
            except dsvmpool.ValidationError as e:
                failed += 1
                for d in e.errors + e.warnings:
                    print(show(path, d), file=sys.stderr)
                print(f"{path}: {len(e.errors)} error(s)", file=sys.stderr)
                continue
            except dsvmpool.IoError as e:
                failed += 1
                print(f"{path}: cannot read: {e}", file=sys.stderr)
                continue
            for d in warnings:
                print(show(path, d), file=sys.stderr)
            print(f"{path}: valid ({len(warnings)} warning(s))")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
