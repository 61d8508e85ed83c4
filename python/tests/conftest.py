"""Shared paths and helpers of the Python suite."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Optional

import pytest

# The repository root; DSVMPOOL_REPO when the suite runs from a copy (against an installed wheel).
REPO = Path(os.environ.get("DSVMPOOL_REPO") or Path(__file__).resolve().parents[2])
FIXTURES = REPO / "tests" / "fixtures" / "specs"
EXAMPLES = REPO / "examples"
TEAM = EXAMPLES / "team.toml"


def cli_binary() -> Optional[Path]:
    """The dsvmpool CLI binary to compare against: $DSVMPOOL_CLI, else a built one."""
    env = os.environ.get("DSVMPOOL_CLI")
    if env:
        return Path(env)
    built = [
        p
        for p in list(REPO.glob("target/*/dsvmpool")) + list(REPO.glob("target/*/*/dsvmpool"))
        if p.is_file() and os.access(p, os.X_OK)
    ]
    if built:
        return max(built, key=lambda p: p.stat().st_mtime)  # the most recent build
    found = shutil.which("dsvmpool")
    return Path(found) if found else None


@pytest.fixture(scope="session")
def cli() -> Path:
    path = cli_binary()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("the dsvmpool CLI is not built (set DSVMPOOL_CLI)")
        pytest.skip("the dsvmpool CLI is not built (set DSVMPOOL_CLI)")
    return path


@pytest.fixture()
def team_text() -> str:
    return TEAM.read_text(encoding="utf-8")
