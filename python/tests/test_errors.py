"""dsvmpool.errors (core: error.rs): hierarchy, builtins, attributes, pickling."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

import dsvmpool
from dsvmpool import errors

# class, builtin it must also be, stable kind code of the core
CLASSES: list[tuple[type[dsvmpool.DsvmpoolError], type[BaseException], str]] = [
    (dsvmpool.ValidationError, ValueError, "VALIDATION"),
    (dsvmpool.NotFoundError, LookupError, "NOT_FOUND"),
    (dsvmpool.AuthError, PermissionError, "AUTH"),
    (dsvmpool.IoError, OSError, "IO"),
    (dsvmpool.RenderError, RuntimeError, "RENDER"),
    (dsvmpool.InternalError, RuntimeError, "INTERNAL"),
    (dsvmpool.ThrottledError, dsvmpool.AzureError, "THROTTLED"),
    (dsvmpool.ConflictError, dsvmpool.AzureError, "CONFLICT"),
    (dsvmpool.AzureError, dsvmpool.DsvmpoolError, "AZURE"),
]

HTTP_DETAILS = {
    "operation": "PUT deployment dsvmpool-team",
    "status": 429,
    "code": "TooManyRequests",
    "message": "slow down",
    "request_id": "0d1c9a2e-0000-4000-8000-000000000001",
}


def test_every_class_is_exported() -> None:
    for name in errors.__all__:
        assert getattr(dsvmpool, name) is getattr(errors, name)


@pytest.mark.parametrize("cls,builtin,kind", CLASSES, ids=lambda x: getattr(x, "__name__", x))
def test_hierarchy_and_kind(cls: type[dsvmpool.DsvmpoolError], builtin: type[BaseException], kind: str) -> None:
    err = cls("boom")
    assert isinstance(err, dsvmpool.DsvmpoolError)
    assert isinstance(err, builtin)
    assert isinstance(err, Exception)
    assert err.kind == kind == cls.KIND
    assert str(err) == "boom"
    assert err.message == "boom"
    assert err.details == {}


@pytest.mark.parametrize("cls,builtin,kind", CLASSES, ids=lambda x: getattr(x, "__name__", x))
def test_pickles_with_every_attribute(cls: type[dsvmpool.DsvmpoolError], builtin: type[BaseException], kind: str) -> None:
    details: dict[str, Any] = dict(HTTP_DETAILS)
    details["path"] = "/x/pool.toml"
    details["errors"] = [{"severity": "error", "path": "name", "rule": "pool-name", "message": "bad", "hint": None}]
    err = cls("boom", details)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(err, protocol))
        assert type(back) is cls
        assert vars(back) == vars(err)
        assert str(back) == "boom"
        assert back.args == err.args
    assert vars(copy.deepcopy(err)) == vars(err)


def test_azure_error_attributes() -> None:
    err = dsvmpool.ThrottledError("throttled", HTTP_DETAILS)
    assert err.status == 429
    assert err.code == "TooManyRequests"
    assert err.request_id == HTTP_DETAILS["request_id"]
    assert err.operation == HTTP_DETAILS["operation"]
    bare = dsvmpool.AuthError("no credential")
    assert bare.status is None and bare.code is None and bare.request_id is None


def test_validation_error_from_the_core_pickles(team_text: str) -> None:
    bad = team_text.replace('name = "team"', 'name = "Team"').replace("uid = 2002", "uid = 2001")
    with pytest.raises(dsvmpool.ValidationError) as info:
        dsvmpool.Pool.from_toml(bad).validate()
    err = info.value
    assert err.kind == "VALIDATION"
    assert err.paths == ["name", "users[1].uid"]
    assert set(err.errors[0]) == {"severity", "path", "rule", "message", "hint"}
    assert err.details == {"errors": err.errors, "warnings": err.warnings}
    assert str(err).startswith("invalid pool spec: 2 errors")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is dsvmpool.ValidationError
    assert back.errors == err.errors and back.paths == err.paths and str(back) == str(err)


def test_catching_by_builtin(team_text: str) -> None:
    try:
        dsvmpool.Pool.from_toml(team_text.replace('name = "team"', 'name = "-"')).validate()
    except ValueError as e:
        assert isinstance(e, dsvmpool.ValidationError)
    else:
        pytest.fail("no ValueError")
    with pytest.raises(OSError):
        dsvmpool.Pool.load("/nonexistent/dir/pool.toml")
