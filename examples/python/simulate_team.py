"""Simulate a synthetic team on a pool with each scaling policy and plot the result.

    python examples/python/simulate_team.py examples/team.toml 25 plot.svg

Prints the comparison table and the cheapest policy that refuses at most 2 % of sessions.
"""

from __future__ import annotations

import sys
from typing import Optional

import dsvmpool


def cheapest_acceptable(reports: list[dsvmpool.SimReport], max_refused_pct: float) -> Optional[dsvmpool.SimReport]:
    ok = [r for r in reports if r.cost is not None and r.refused_pct <= max_refused_pct]
    return min(ok, key=lambda r: r.cost or 0.0, default=None)


def main(spec: str, users: int, plot: Optional[str]) -> int:
    pool = dsvmpool.Pool.load(spec)
    trace = dsvmpool.Trace.generate(pool=pool, users=users, days=28, seed=1)
    reports = pool.compare(trace, boot_time=5 * 60, patience=15 * 60)
    print(f"{len(trace)} sessions of {users} users")
    print(dsvmpool.comparison_table(reports))
    best = cheapest_acceptable(reports, max_refused_pct=2.0)
    if best is None:
        print("no policy refuses at most 2 % of sessions")
    else:
        print(f"cheapest with ≤ 2 % refused: {best.policy} (${best.cost_per_month or 0:,.0f} per 30 days)")
    if plot:
        dsvmpool.write_plot(plot, reports)
        print(f"wrote {plot}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(f"usage: {sys.argv[0]} SPEC USERS [PLOT.svg|PLOT.png]")
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) == 4 else None))
