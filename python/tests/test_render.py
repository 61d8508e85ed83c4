"""Pool.render / dsvmpool.Artifacts (core: render/)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import dsvmpool

from conftest import EXAMPLES, FIXTURES, TEAM

SPECS = sorted(EXAMPLES.glob("*.toml")) + sorted((FIXTURES / "valid").iterdir())


@pytest.fixture(scope="module")
def art() -> dsvmpool.Artifacts:
    return dsvmpool.Pool.load(TEAM).render()


def test_files(art: dsvmpool.Artifacts) -> None:
    names = list(art.files)
    assert names[:2] == ["azuredeploy.json", "azuredeploy.parameters.json"]
    assert json.loads(art.files["azuredeploy.json"]) == art.template
    assert json.loads(art.files["azuredeploy.parameters.json"]) == art.parameters
    assert art.files["azuredeploy.json"] == art.template_json()
    assert art.files["azuredeploy.parameters.json"] == art.parameters_json()
    for f in art.provisioning_files:
        assert art.files[f["path"]] == f["content"] and f["description"]
    assert art.user_data is not None and art.user_data.startswith("#cloud-config")
    assert art.names["scale_set"] == "team-vmss"
    types = {r["type"] for r in art.template["resources"]}
    assert "Microsoft.Compute/virtualMachineScaleSets" in types


def test_render_is_deterministic(art: dsvmpool.Artifacts) -> None:
    assert dsvmpool.Pool.load(TEAM).render().files == art.files


def test_options() -> None:
    pool = dsvmpool.Pool.load(TEAM)
    bare = pool.render(generator_metadata=False)
    assert "_generator" not in json.dumps(bare.template.get("metadata", {}))
    assert "_generator" in json.dumps(pool.render().template.get("metadata", {}))
    # the tag goes on the scale set's extensions (the Windows pool provisions with one)
    windows = dsvmpool.Pool.load(EXAMPLES / "windows.toml")
    tagged = windows.render(force_update_tag="rerun-42").template_json()
    assert '"forceUpdateTag": "rerun-42"' in tagged
    assert "forceUpdateTag" not in windows.render().template_json()


def test_write(tmp_path: Path, art: dsvmpool.Artifacts) -> None:
    out = tmp_path / "out" / "nested"
    written = art.write(out)
    assert [p.relative_to(out).as_posix() for p in written] == list(art.files)
    for rel, content in art.files.items():
        assert (out / rel).read_text(encoding="utf-8") == content
    assert not list(out.rglob("*.dsvmpool-tmp"))


def test_write_failure_is_an_io_error(tmp_path: Path, art: dsvmpool.Artifacts) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    with pytest.raises(dsvmpool.IoError) as info:
        art.write(blocker)
    assert isinstance(info.value, OSError) and info.value.path


def test_secrets_stay_references(team_text: str) -> None:
    text = team_text.replace(
        'admin_user = "dsvmadmin"', 'admin_user = "dsvmadmin"\npassword = { env = "TEAM_ADMIN_PASSWORD" }'
    )
    art = dsvmpool.Pool.from_toml(text).render()
    assert {"name": "adminPassword", "env": "TEAM_ADMIN_PASSWORD"} in art.secure_parameters or any(
        p["env"] == "TEAM_ADMIN_PASSWORD" for p in art.secure_parameters
    )
    assert "TEAM_ADMIN_PASSWORD" in art._repr_html_()


def test_repr_and_html(art: dsvmpool.Artifacts) -> None:
    assert repr(art) == f"<Artifacts of scale set 'team-vmss': {len(art.files)} files>"
    html = art._repr_html_()
    assert html.startswith('<div class="dsvmpool-artifacts">')
    for name in art.files:
        assert name in html


def test_to_dict(art: dsvmpool.Artifacts) -> None:
    d = art.to_dict()
    assert d["template"] == art.template and d["names"] == art.names
    assert d["secure_parameters"] == art.secure_parameters
    assert d["resource_group"] == "rg-team-pool"


def test_deploy_command(art: dsvmpool.Artifacts, tmp_path: Path) -> None:
    cmd = art.deploy_command(tmp_path / "my out")
    assert cmd.startswith("az deployment group create -g rg-team-pool -n ")
    assert f"--template-file '{tmp_path}/my out/azuredeploy.json'" in cmd


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_same_files_as_the_cli(cli: Path, tmp_path: Path, path: Path) -> None:
    """Binding and CLI are shells over one core: byte-identical files."""
    art = dsvmpool.Pool.load(path).render()
    out = tmp_path / "cli"
    subprocess.run([str(cli), "render", str(path), "--out", str(out)], check=True, capture_output=True)
    on_disk = {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file()}
    assert on_disk == art.files


def test_render_of_an_invalid_pool_raises(team_text: str) -> None:
    with pytest.raises(dsvmpool.ValidationError):
        dsvmpool.Pool.from_toml(team_text.replace('name = "team"', 'name = "T"')).render()
