"""The example notebook (examples/notebooks/pool.ipynb) runs headless without an error."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES

NOTEBOOK = EXAMPLES / "notebooks" / "pool.ipynb"


def test_notebook_runs_and_displays_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import nbclient
        import nbformat
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("nbclient is not installed")
    # The kernel is this interpreter (the one with dsvmpool installed), whatever other
    # "python3" kernels this machine has: JUPYTER_PATH comes first in the kernelspec search.
    spec_dir = tmp_path / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    nb: Any = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()  # raises CellExecutionError on any failing cell
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any('class="dsvmpool-pool"' in h for h in html), "the pool displays as a table"
    assert any('class="dsvmpool-plan"' in h for h in html), "the plan displays as tables"
    assert any('class="dsvmpool-artifacts"' in h for h in html), "the artifacts display as a table"
    assert any('class="dsvmpool-simreport"' in h and "<svg" in h for h in html), "the report plots"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "users[1].uid" in text and "duplicate-uid" in text
    assert "azuredeploy.json" in text and "#cloud-config" in text
    assert "fixed" in text and "sessions" in text  # the comparison table
