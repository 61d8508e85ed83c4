"""dsvmpool.json_schema (core: spec/schema.rs)."""

from __future__ import annotations

import json

import dsvmpool

from conftest import REPO


def test_schema_is_the_committed_one() -> None:
    committed = (REPO / "core" / "schema" / "pool.schema.json").read_text(encoding="utf-8")
    assert dsvmpool.json_schema() == committed


def test_schema_describes_the_spec() -> None:
    schema = json.loads(dsvmpool.json_schema())
    assert {"name", "location", "resource_group"} <= set(schema["required"])
    assert "storage" in schema["properties"]
