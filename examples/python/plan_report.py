"""Print a pool's plan and its monthly cost range, and save the plan as an HTML page.

    python examples/python/plan_report.py examples/team.toml plan.html
"""

from __future__ import annotations

import sys
from pathlib import Path

import dsvmpool


def cost_range(plan: dsvmpool.Plan) -> str:
    cost = plan.cost
    low, high = cost["at_min"], cost["at_max"]
    if low is None or high is None:
        return f"{cost['size']} is not in the bundled price table"
    return (
        f"${low['monthly']:,.0f} to ${high['monthly']:,.0f} per month "
        f"({low['instances']} to {high['instances']} × {cost['size']})"
    )


def main(spec: str, html_out: str | None = None) -> int:
    try:
        plan = dsvmpool.Pool.load(spec).plan()
    except dsvmpool.ValidationError as e:
        for d in e.errors:
            print(f"{d['path'] or '<document>'}: {d['message']}", file=sys.stderr)
        return 1
    print(plan)
    print(f"Compute: {cost_range(plan)}")
    for url in (plan.addresses.get("jupyterhub_url"), plan.addresses.get("ssh")):
        if url:
            print(f"  {url}")
    if html_out:
        page = f"<!doctype html><meta charset='utf-8'><title>{plan.pool}</title>{plan._repr_html_()}"
        Path(html_out).write_text(page, encoding="utf-8")
        print(f"wrote {html_out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(f"usage: {sys.argv[0]} SPEC [HTML_OUT]")
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else None))
