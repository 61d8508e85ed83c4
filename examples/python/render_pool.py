"""Render a pool's deployment artifacts into a directory and print how to deploy them.

    python examples/python/render_pool.py examples/team.toml out/

Nothing secret is written: secure parameters are filled from environment variables when you
deploy, and the printed command names them.
"""

from __future__ import annotations

import sys

import dsvmpool


def main(spec: str, out: str) -> int:
    pool = dsvmpool.Pool.load(spec)
    try:
        art = pool.render()
    except dsvmpool.ValidationError as e:
        for d in e.errors:
            print(f"{spec}: {d['path'] or '<document>'}: {d['message']}", file=sys.stderr)
        return 1
    for path in art.write(out):
        print(f"wrote {path}")
    print(f"deploy with:\n  {art.deploy_command(out)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} SPEC OUT_DIR")
    sys.exit(main(sys.argv[1], sys.argv[2]))
