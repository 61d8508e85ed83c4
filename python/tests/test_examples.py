"""The Python examples (examples/python) run and do what they say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES, FIXTURES, TEAM

SCRIPTS = EXAMPLES / "python"


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=check, timeout=300)


def test_check_pools() -> None:
    ok = run(str(SCRIPTS / "check_pools.py"), *map(str, sorted(EXAMPLES.glob("*.toml"))))
    assert ok.stdout.count(": valid (") == 4
    bad = run(str(SCRIPTS / "check_pools.py"), str(TEAM), str(FIXTURES / "invalid" / "account-long.toml"), check=False)
    assert bad.returncode == 1
    assert "storage.account.name" in bad.stderr and "hint:" in bad.stderr


def test_plan_report(tmp_path: Path) -> None:
    html = tmp_path / "plan.html"
    out = run(str(SCRIPTS / "plan_report.py"), str(TEAM), str(html)).stdout
    assert "Compute: $" in out and "per month" in out
    assert '<div class="dsvmpool-plan">' in html.read_text(encoding="utf-8")


def test_render_pool(tmp_path: Path) -> None:
    out = run(str(SCRIPTS / "render_pool.py"), str(TEAM), str(tmp_path)).stdout
    assert (tmp_path / "azuredeploy.json").is_file()
    assert "az deployment group create -g rg-team-pool -n dsvmpool-team --template-file " in out


def test_simulate_team(tmp_path: Path) -> None:
    plot = tmp_path / "plot.svg"
    out = run(str(SCRIPTS / "simulate_team.py"), str(TEAM), "10", str(plot)).stdout
    assert "sessions of 10 users" in out and "cheapest" in out
    assert plot.read_text(encoding="utf-8").lstrip().startswith("<svg")


def test_operate_pool(tmp_path: Path) -> None:
    """Against the ARM test double, configured only through the environment."""
    import json
    import os

    from conftest import double_binary
    from test_lifecycle_ops import SPEC

    binary = double_binary()
    if binary is None:
        if os.environ.get("CI"):
            raise AssertionError("the ARM test double is not built (set DSVMPOOL_ARM_DOUBLE)")
        import pytest

        pytest.skip("the ARM test double is not built")
    proc = subprocess.Popen(
        [str(binary), "--time-scale", "0.001", "--exit-on-stdin-eof"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        d = json.loads(proc.stdout.readline())
        spec = tmp_path / "pool.toml"
        spec.write_text(SPEC.format(name="pyexample"), encoding="utf-8")
        env = dict(
            os.environ,
            AZURE_TENANT_ID=d["tenant_id"],
            AZURE_CLIENT_ID=d["client_id"],
            AZURE_CLIENT_SECRET=d["client_secret"],
            AZURE_SUBSCRIPTION_ID=d["subscription_id"],
            AZURE_AUTHORITY_HOST=d["token_authority_url"],
            DSVMPOOL_MANAGEMENT_URL=d["management_url"],
            DSVMPOOL_CA_FILE=d["ca_pem_path"],
            PY_ADMIN_PASSWORD="Example-Pa55-w0rd",
        )
        run = subprocess.run(
            [sys.executable, str(SCRIPTS / "operate_pool.py"), str(spec), "4"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr
        assert "deploy: created" in run.stdout and "scaled from 2 to 4" in run.stdout
        assert "Microsoft.Compute/virtualMachineScaleSets pyexample-vmss: Succeeded" in run.stdout
        assert "Example-Pa55-w0rd" not in run.stdout + run.stderr
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)
