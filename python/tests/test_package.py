"""The package itself: exports, version, docstrings from the Rust docs, help()."""

from __future__ import annotations

import inspect
import pydoc

import dsvmpool
from dsvmpool import _native


def test_exports() -> None:
    for name in dsvmpool.__all__:
        assert hasattr(dsvmpool, name), name
    assert dsvmpool.Pool is _native.Pool
    assert dsvmpool.Plan is _native.Plan
    assert dsvmpool.Pool.__module__ == "dsvmpool"
    assert dsvmpool.Plan.__module__ == "dsvmpool"


def test_version_is_the_crate_version() -> None:
    parts = dsvmpool.__version__.split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)


def public_members() -> list[tuple[str, object]]:
    out = []
    for cls in (dsvmpool.Pool, dsvmpool.Plan):
        for name, member in vars(cls).items():
            if not name.startswith("_"):
                out.append((f"{cls.__name__}.{name}", member))
    out.append(("json_schema", dsvmpool.json_schema))
    return out


def test_every_public_member_has_a_docstring() -> None:
    missing = [name for name, m in public_members() if not (getattr(m, "__doc__", None) or "").strip()]
    assert missing == []
    assert dsvmpool.Pool.__doc__ and "pool spec" in dsvmpool.Pool.__doc__


def test_signatures_are_introspectable() -> None:
    sig = inspect.signature(dsvmpool.Pool.load)
    assert list(sig.parameters) == ["path", "format"]
    assert sig.parameters["format"].default is None


def test_help_is_useful() -> None:
    text = pydoc.render_doc(dsvmpool.Pool, renderer=pydoc.plaintext)  # type: ignore[attr-defined]
    for verb in ("load", "from_toml", "from_dict", "validate", "plan"):
        assert verb in text
    assert "ValidationError" in text
