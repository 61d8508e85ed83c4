"""Deploy a pool and operate it from asyncio: progress as it goes, then status and a scale-out.

    AZURE_SUBSCRIPTION_ID=... python examples/python/operate_pool.py pool.toml 4

The credential is the usual chain (environment, workload identity, managed identity, Azure CLI);
pass `credential="azure-cli"` and friends to pick one. Secure parameters (e.g. the admin
password) are read from the environment variables the spec names.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import dsvmpool


def show(event: dict[str, Any]) -> None:
    kind = event["event"]
    if kind == "step":
        print(f"  {event['step']}: {event['message']}")
    elif kind == "resource":
        print(f"  {event['resource_type']} {event['name']}: {event['state']}")
    elif kind == "warning":
        print(f"  warning: {event['message']}")


async def main(spec: str, instances: int) -> int:
    pool = dsvmpool.Pool.load(spec)
    try:
        outcome = await pool.deploy(progress=show)
    except dsvmpool.AzureError as e:
        print(f"deploy failed: {e.code} (HTTP {e.status}, request id {e.request_id})", file=sys.stderr)
        return 1
    print(f"deploy: {outcome['action']}")
    status, scaled = await asyncio.gather(pool.status(), pool.scale(instances, progress=show))
    print(status)
    print(f"scaled from {scaled['from']} to {scaled['to']}")
    for warning in scaled["warnings"]:
        print(f"  {warning}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} SPEC INSTANCES")
    sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]))))
