"""The golden spec fixtures shared by every suite (tests/fixtures/specs).

Every invalid case must raise ValidationError with exactly the error paths and rules the Rust
suite checks (invalid/expected.json); every valid case must validate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest

import dsvmpool

from conftest import EXAMPLES, FIXTURES

INVALID = FIXTURES / "invalid"
VALID = FIXTURES / "valid"
EXPECTED: dict[str, dict[str, list[str]]] = json.loads(
    (INVALID / "expected.json").read_text(encoding="utf-8")
)
FORMATS: dict[str, Literal["toml", "yaml", "json"]] = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}


def test_every_fixture_file_has_an_expectation() -> None:
    on_disk = {p.name for p in INVALID.iterdir() if p.name != "expected.json"}
    assert on_disk == set(EXPECTED)
    assert len(EXPECTED) >= 150


def check(err: dsvmpool.ValidationError, want: dict[str, list[str]]) -> None:
    assert sorted(e["path"] for e in err.errors) == want["paths"], err
    assert sorted(e["rule"] for e in err.errors) == want["rules"], err
    for e in err.errors:
        assert e["severity"] == "error"
        assert e["message"], e
        assert e["hint"], e
        assert e["path"] in str(err)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_fixture_gives_the_expected_paths(name: str) -> None:
    with pytest.raises(dsvmpool.ValidationError) as info:
        dsvmpool.Pool.load(INVALID / name).validate()
    check(info.value, EXPECTED[name])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_fixture_from_text_gives_the_same_paths(name: str) -> None:
    path = INVALID / name
    with pytest.raises(dsvmpool.ValidationError) as info:
        dsvmpool.Pool.parse(path.read_text(encoding="utf-8"), FORMATS[path.suffix]).validate()
    check(info.value, EXPECTED[name])


def json_cases() -> list[str]:
    out = []
    for name in sorted(EXPECTED):
        if name.endswith(".json"):
            try:
                json.loads((INVALID / name).read_text(encoding="utf-8"))
            except ValueError:
                continue  # a syntax-error case: there is no dict to pass
            out.append(name)
    return out


@pytest.mark.parametrize("name", json_cases())
def test_invalid_json_fixture_from_dict_gives_the_same_paths(name: str) -> None:
    data: Any = json.loads((INVALID / name).read_text(encoding="utf-8"))
    with pytest.raises(dsvmpool.ValidationError) as info:
        dsvmpool.Pool.from_dict(data).validate()
    check(info.value, EXPECTED[name])


@pytest.mark.parametrize("path", sorted(VALID.iterdir()), ids=lambda p: p.name)
def test_valid_fixture_validates_and_plans(path: Path) -> None:
    pool = dsvmpool.Pool.load(path)
    warnings = pool.validate()
    assert isinstance(warnings, list)
    plan = pool.plan()
    assert plan.pool == pool.name
    assert plan.resources


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_examples_validate_without_warnings(path: Path) -> None:
    assert dsvmpool.Pool.load(path).validate() == []
