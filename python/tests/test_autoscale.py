"""Pool.lint (core: autoscale/lint.rs)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import dsvmpool

from conftest import EXAMPLES


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_same_findings_as_the_cli(cli: Path, path: Path) -> None:
    run = subprocess.run([str(cli), "lint", str(path), "--output", "json"], capture_output=True, text=True)
    assert run.returncode in (0, 1), run.stderr
    expected = json.loads(run.stdout)["findings"]
    mine = dsvmpool.Pool.load(path).lint()
    assert [{k: v for k, v in f.items() if v is not None} for f in mine] == expected


def test_findings_are_diagnostics(team_text: str) -> None:
    text = team_text.replace("[budget]\nmonthly = 2500", "[budget]\nmonthly = 100")
    findings = dsvmpool.Pool.from_toml(text).lint()
    rules = {f["rule"] for f in findings}
    assert rules & {"budget-max", "budget-floor"}
    for f in findings:
        assert set(f) == {"severity", "path", "rule", "message", "hint"}
        assert f["severity"] in ("error", "warning")


def test_boot_time_option(team_text: str) -> None:
    rules = """
[[autoscale.profiles]]
name = "busy"
min = 1
max = 5
default = 1
[[autoscale.profiles.rules]]
metric = "Percentage CPU"
operator = "greater_than"
threshold = 70
action = "increase"
value = 2
cooldown = "PT2M"
[[autoscale.profiles.rules]]
metric = "Percentage CPU"
operator = "less_than"
threshold = 25
action = "decrease"
value = 1
"""
    start = team_text.index("[autoscale.scale_to_zero]")
    end = team_text.index("[budget]")
    pool = dsvmpool.Pool.from_toml(team_text[:start] + rules + team_text[end:])
    assert "cooldown-boot" in {f["rule"] for f in pool.lint()}
    assert "cooldown-boot" not in {f["rule"] for f in pool.lint(boot_time=60)}
