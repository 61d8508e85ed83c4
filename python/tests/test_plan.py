"""Pool.plan / dsvmpool.Plan (core: lifecycle/plan.rs)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import dsvmpool

from conftest import EXAMPLES, TEAM


@pytest.fixture()
def plan() -> dsvmpool.Plan:
    return dsvmpool.Pool.load(TEAM).plan()


def test_attributes(plan: dsvmpool.Plan) -> None:
    assert plan.pool == "team"
    assert plan.location == "westeurope"
    assert plan.resource_group == "rg-team-pool"
    assert plan.image.startswith("microsoft-dsvm:ubuntu-2204:")
    assert plan.capacity == (0, 2, 12)
    types = [r["type"] for r in plan.resources]
    assert "Microsoft.Compute/virtualMachineScaleSets" in types
    assert all(r["action"] in ("create", "use_existing") for r in plan.resources)
    assert plan.addresses["fqdn"].endswith(".westeurope.cloudapp.azure.com")
    assert plan.addresses["jupyterhub_url"].startswith("https://")
    assert plan.autoscale and all(isinstance(s, str) for s in plan.autoscale)
    assert plan.cost["currency"] == "USD"
    at_max = plan.cost["at_max"]
    assert at_max is not None and at_max["instances"] == 12
    assert plan.warnings == []


def test_to_dict_is_the_json_output(plan: dsvmpool.Plan) -> None:
    d = plan.to_dict()
    assert d["pool"] == plan.pool
    assert d["resources"] == plan.resources
    assert d["addresses"] == plan.addresses
    assert d["cost"] == plan.cost
    assert json.loads(json.dumps(d)) == json.loads(json.dumps(d))


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_same_plan_as_the_cli(cli: Path, path: Path) -> None:
    """The binding and the CLI are two shells over one core: same plan, same text."""
    plan = dsvmpool.Pool.load(path).plan()
    as_json = subprocess.run(
        [str(cli), "plan", "--output", "json", str(path)], check=True, capture_output=True, text=True
    ).stdout
    # JSON has no tuples: compare through a JSON round trip.
    assert json.loads(json.dumps(plan.to_dict())) == json.loads(as_json)
    as_text = subprocess.run([str(cli), "plan", str(path)], check=True, capture_output=True, text=True).stdout
    assert str(plan) == as_text


def test_repr(plan: dsvmpool.Plan) -> None:
    assert repr(plan) == f"<Plan of pool 'team' in westeurope: {len(plan.resources)} resources, capacity 0/2/12>"


def test_repr_html_is_a_table(plan: dsvmpool.Plan) -> None:
    html = plan._repr_html_()
    assert html.startswith('<div class="dsvmpool-plan">') and html.endswith("</div>")
    assert html.count("<table>") == 3  # resources, addresses, cost
    for r in plan.resources:
        assert r["name"] in html
    assert "virtualMachineScaleSets" in html
    # the notebook-path arrow and `<user>` are escaped, not markup
    assert "&lt;user&gt;" in html and "<user>" not in html
    assert "$/month" in html


def test_html_lists_warnings() -> None:
    text = TEAM.read_text(encoding="utf-8").replace(
        'source_cidrs = ["203.0.113.0/24", "198.51.100.0/24"]', 'source_cidrs = ["0.0.0.0/0"]'
    )
    plan = dsvmpool.Pool.from_toml(text).plan()
    assert plan.warnings
    assert "Warnings" in plan._repr_html_()
    assert plan.warnings[0]["rule"] in plan._repr_html_()


def test_unpriced_size_says_so(team_text: str) -> None:
    plan = dsvmpool.Pool.from_toml(team_text.replace('size = "Standard_D4s_v5"', 'size = "Standard_Z99_v9"')).plan()
    assert plan.cost["instance_hourly"] is None
    assert "not in the bundled price table" in plan._repr_html_()


def test_typed_dicts_match_what_the_core_returns(plan: dsvmpool.Plan) -> None:
    """The TypedDicts of the stub describe exactly the dicts the binding builds."""
    d = plan.to_dict()
    assert set(d) == dsvmpool.PlanDict.__required_keys__
    assert set(plan.cost) == dsvmpool.Cost.__required_keys__
    at_min = plan.cost["at_min"]
    assert at_min is not None and set(at_min) == dsvmpool.CostAt.__required_keys__
    for r in plan.resources:
        assert set(r) == dsvmpool.PlannedResource.__required_keys__
    a = dsvmpool.Addresses
    assert a.__required_keys__ <= set(plan.addresses) <= a.__required_keys__ | a.__optional_keys__
    nfs = dsvmpool.Pool.load(EXAMPLES / "windows.toml").plan().addresses
    assert a.__required_keys__ <= set(nfs) <= a.__required_keys__ | a.__optional_keys__
    warned = dsvmpool.Pool.from_toml(
        TEAM.read_text(encoding="utf-8").replace(
            'source_cidrs = ["203.0.113.0/24", "198.51.100.0/24"]', 'source_cidrs = ["0.0.0.0/0"]'
        )
    ).plan()
    for w in warned.to_dict()["warnings"]:
        j = dsvmpool.DiagnosticJson
        assert j.__required_keys__ <= set(w) <= j.__required_keys__ | j.__optional_keys__
    for diag in warned.warnings:
        assert set(diag) == dsvmpool.Diagnostic.__required_keys__
