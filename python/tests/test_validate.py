"""Pool.validate (core: spec/validate.rs): warnings, every error at once."""

from __future__ import annotations

import pytest

import dsvmpool

from conftest import TEAM


def test_valid_spec_returns_no_warnings() -> None:
    assert dsvmpool.Pool.load(TEAM).validate() == []


def test_warnings_are_diagnostic_dicts(team_text: str) -> None:
    open_world = team_text.replace(
        'source_cidrs = ["203.0.113.0/24", "198.51.100.0/24"]', 'source_cidrs = ["0.0.0.0/0"]'
    )
    warnings = dsvmpool.Pool.from_toml(open_world).validate()
    assert warnings, "an SSH port open to the internet deserves a warning"
    w = warnings[0]
    assert set(w) == {"severity", "path", "rule", "message", "hint"}
    assert w["severity"] == "warning"
    assert w["path"].startswith("access.source_cidrs")
    assert w["message"]


def test_every_error_at_once(team_text: str) -> None:
    bad = (
        team_text.replace('name = "team"', 'name = "Team!"')
        .replace("max = 12", "max = 2000")
        .replace('mount_path = "/shared/workspace"', 'mount_path = "/mnt/ws"')
    )
    with pytest.raises(dsvmpool.ValidationError) as info:
        dsvmpool.Pool.from_toml(bad).validate()
    paths = info.value.paths
    assert "name" in paths and "capacity.max" in paths and "storage.mount_path" in paths
    for e in info.value.errors:
        assert e["hint"], e


def test_plan_of_an_invalid_pool_raises(team_text: str) -> None:
    with pytest.raises(dsvmpool.ValidationError):
        dsvmpool.Pool.from_toml(team_text.replace('name = "team"', 'name = "T"')).plan()
