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
    assert "az deployment group create --resource-group rg-team-pool" in out


def test_simulate_team(tmp_path: Path) -> None:
    plot = tmp_path / "plot.svg"
    out = run(str(SCRIPTS / "simulate_team.py"), str(TEAM), "10", str(plot)).stdout
    assert "sessions of 10 users" in out and "cheapest" in out
    assert plot.read_text(encoding="utf-8").lstrip().startswith("<svg")
