"""Render a pool's deployment artifacts into a directory and print how to deploy them.

    python examples/python/render_pool.py examples/team.toml out/

Nothing secret is written: secure parameters are filled from environment variables when you
deploy, and the printed command names them.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

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
    template = Path(out) / "azuredeploy.json"
    parameters = Path(out) / "azuredeploy.parameters.json"
    group = pool.to_dict()["resource_group"]
    cmd = [
        "az", "deployment", "group", "create",
        "--resource-group", str(group),
        "--name", art.names["deployment"],
        "--template-file", str(template),
        "--parameters", f"@{parameters}",
    ]
    line = " ".join(shlex.quote(c) for c in cmd)
    for p in art.secure_parameters:
        line += f' {p["name"]}="${p["env"]}"'
    print(f"deploy with:\n  {line}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} SPEC OUT_DIR")
    sys.exit(main(sys.argv[1], sys.argv[2]))
