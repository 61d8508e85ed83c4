"""dsvmpool.Pool (core: pool.rs and spec/parse.rs)."""

from __future__ import annotations

import json
import pathlib
import pickle
from pathlib import Path

import pytest

import dsvmpool

from conftest import EXAMPLES, FIXTURES, TEAM

VALID = FIXTURES / "valid"


def test_load_from_path_and_str() -> None:
    a = dsvmpool.Pool.load(TEAM)
    b = dsvmpool.Pool.load(str(TEAM))
    assert a.name == b.name == "team"
    assert a.source == TEAM
    assert isinstance(a.source, pathlib.Path)


def test_load_each_format() -> None:
    yaml = dsvmpool.Pool.load(VALID / "generic-nfs.yaml")
    js = dsvmpool.Pool.load(VALID / "windows.json")
    assert yaml.to_dict()["storage"]["kind"] == "nfs"
    assert js.to_dict()["vm"]["os"] == "windows"


def test_load_with_explicit_format(tmp_path: Path, team_text: str) -> None:
    f = tmp_path / "pool.spec"
    f.write_text(team_text, encoding="utf-8")
    with pytest.raises(dsvmpool.ValidationError) as info:
        dsvmpool.Pool.load(f)
    assert info.value.errors[0]["rule"] == "format"
    assert dsvmpool.Pool.load(f, format="toml").name == "team"


def test_unknown_format_name_is_a_value_error(team_text: str) -> None:
    with pytest.raises(ValueError, match="unknown spec format"):
        dsvmpool.Pool.parse(team_text, "xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown spec format"):
        dsvmpool.Pool.load(TEAM, format="ini")  # type: ignore[arg-type]


def test_missing_file_raises_io_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(dsvmpool.IoError) as info:
        dsvmpool.Pool.load(missing)
    err = info.value
    assert isinstance(err, OSError)
    assert isinstance(err, dsvmpool.DsvmpoolError)
    assert err.kind == "IO"
    assert err.path == str(missing)
    assert str(missing) in str(err)


def test_text_constructors_agree(team_text: str) -> None:
    toml = dsvmpool.Pool.from_toml(team_text)
    as_dict = toml.to_dict()
    from_json = dsvmpool.Pool.from_json(json.dumps(as_dict))
    from_dict = dsvmpool.Pool.from_dict(as_dict)
    assert from_json.to_dict() == as_dict == from_dict.to_dict()
    assert dsvmpool.Pool.parse(team_text, "toml").to_dict() == as_dict


def test_from_yaml() -> None:
    text = (VALID / "generic-nfs.yaml").read_text(encoding="utf-8")
    assert dsvmpool.Pool.from_yaml(text).to_dict() == dsvmpool.Pool.parse(text, "yml").to_dict()


def test_parse_error_names_the_field(team_text: str) -> None:
    bad = team_text.replace("[storage]\n", "[storage]\nnmae = 1\n")
    with pytest.raises(dsvmpool.ValidationError) as info:
        dsvmpool.Pool.from_toml(bad)
    assert [e["path"] for e in info.value.errors] == ["storage.nmae"]


def test_syntax_errors_are_validation_errors() -> None:
    cases = [
        (dsvmpool.Pool.from_toml, 'name = "team'),
        (dsvmpool.Pool.from_json, '{"name": '),
        (dsvmpool.Pool.from_yaml, "name: team\n  location: [westeurope"),
    ]
    for make, text in cases:
        with pytest.raises(dsvmpool.ValidationError) as info:
            make(text)
        assert [(e["path"], e["rule"]) for e in info.value.errors] == [("", "syntax")]


def test_from_dict_rejects_values_json_cannot_hold() -> None:
    with pytest.raises(TypeError, match="from_dict"):
        dsvmpool.Pool.from_dict({"name": object()})
    with pytest.raises(dsvmpool.ValidationError):
        dsvmpool.Pool.from_dict({"name": 3})


def test_from_dict_error_paths_match_the_file_path(team_text: str) -> None:
    d = dsvmpool.Pool.from_toml(team_text).to_dict()
    d["users"][1]["uid"] = d["users"][0]["uid"]
    with pytest.raises(dsvmpool.ValidationError) as info:
        dsvmpool.Pool.from_dict(d).validate()
    assert [e["path"] for e in info.value.errors] == ["users[1].uid"]


def test_secrets_never_appear(tmp_path: Path, team_text: str) -> None:
    secret = "Sup3r-S3cret-Passw0rd!"
    text = team_text.replace('admin_user = "dsvmadmin"', f'admin_user = "dsvmadmin"\npassword = "{secret}"')
    pool = dsvmpool.Pool.from_toml(text)
    assert secret not in repr(pool)
    assert secret not in pool._repr_html_()
    assert secret not in json.dumps(pool.to_dict())
    with pytest.raises(dsvmpool.ValidationError) as info:
        pool.validate()
    err = info.value
    assert "access.password" in err.paths
    assert secret not in str(err)
    assert secret not in repr(err)
    assert secret not in json.dumps(err.details)
    assert secret not in str(pickle.dumps(err))


def test_repr_and_html(team_text: str) -> None:
    pool = dsvmpool.Pool.load(TEAM)
    r = repr(pool)
    assert r.startswith("Pool(name='team', location='westeurope'")
    assert f"source={str(TEAM)!r}" in r
    assert "source=" not in repr(dsvmpool.Pool.from_toml(team_text))
    html = pool._repr_html_()
    assert html.startswith('<div class="dsvmpool-pool">') and html.endswith("</div>")
    assert "Standard_D4s_v5" in html and "alice" in html


def test_html_escapes_spec_text(team_text: str) -> None:
    pool = dsvmpool.Pool.from_toml(team_text.replace('location = "westeurope"', 'location = "<b>x</b>"'))
    assert "&lt;b&gt;x&lt;/b&gt;" in pool._repr_html_()
    assert "<b>x</b>" not in pool._repr_html_()


def test_pool_has_no_public_constructor() -> None:
    with pytest.raises(TypeError):
        dsvmpool.Pool()


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_to_dict_round_trips(path: Path) -> None:
    d = dsvmpool.Pool.load(path).to_dict()
    assert dsvmpool.Pool.from_dict(d).to_dict() == d


def test_threads_share_pools_safely(team_text: str) -> None:
    """The parsing and validation release the GIL; shared pools are safe across threads."""
    from concurrent.futures import ThreadPoolExecutor

    shared = dsvmpool.Pool.from_toml(team_text)

    def work(i: int) -> int:
        own = dsvmpool.Pool.from_toml(team_text.replace('name = "team"', f'name = "team{i}"'))
        assert own.validate() == [] and shared.validate() == []
        return own.plan().capacity[2] + shared.plan().capacity[2]

    with ThreadPoolExecutor(max_workers=4) as ex:
        assert list(ex.map(work, range(32))) == [24] * 32
