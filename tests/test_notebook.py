"""Execute examples/quickstart.ipynb with nbclient and check what it shows.

The kernel is this test's own interpreter: a kernelspec named ``python3`` is written to a temporary folder
that ``JUPYTER_PATH`` puts first, so the notebook runs in the same virtual environment (and, through the
inherited ``YANREFORM_HOME``, shares the session's model and embedding cache) whatever kernels exist.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


@pytest.fixture()
def venv_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    spec_dir = tmp_path / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (yanreform tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    from jupyter_client.kernelspec import KernelSpecManager

    found = KernelSpecManager().get_kernel_spec("python3")
    assert found.argv[0] == sys.executable
    return "python3"


def _outputs(cell) -> tuple[str, str, list[str]]:
    """(stdout text, html, output mime types) of one executed cell."""
    text, html, kinds = "", "", []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            text += out.get("text", "")
        if out.get("output_type") == "error":
            raise AssertionError(f"{out.get('ename')}: {out.get('evalue')}")
        data = out.get("data", {})
        kinds.extend(data)
        html += "".join(data.get("text/html", ""))
        if out.get("output_type") == "execute_result" and "text/plain" in data and "text/html" not in data:
            text += "".join(data["text/plain"])
    return text, html, kinds


@pytest.mark.slow
def test_quickstart_notebook_runs(repo_root: Path, venv_kernel: str) -> None:
    path = repo_root / "examples" / "quickstart.ipynb"
    nb = nbformat.read(path, as_version=4)
    # the notebook must not reach outside the installed package
    assert not any("sys.path" in c.source for c in nb.cells if c.cell_type == "code")
    client = nbclient.NotebookClient(
        nb, kernel_name=venv_kernel, timeout=600, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    results = [_outputs(c) for c in code]
    texts = "".join(t for t, _, _ in results)
    htmls = [h for _, h, _ in results]
    kinds = [k for _, _, ks in results for k in ks]

    assert "10 cases, 34 initiatives" in texts
    # rich displays: the corpus table, a case, tag chips with highlighted evidence, hits
    assert any("yanreform-corpus" in h and h.count("<tr>") == 11 for h in htmls)
    assert any("yanreform-case" in h and "盐城市公安局" in h for h in htmls)
    tag_html = next(h for h in htmls if "yanreform-tags" in h)
    assert "<mark" in tag_html and "dispute_resolution" in tag_html
    assert any("yanreform-hits" in h and h.count("<tr>") == 4 for h in htmls)
    # recommend + explain printed three related cases, none of them the case itself
    related = [line for line in texts.splitlines() if line.startswith("yc2024-")]
    assert len(related) == 3 and not any(line.startswith("yc2024-01 ") for line in related)
    # tag_frame and the heatmap
    assert "image/png" in kinds
    assert "heatmap: 10 cases x 11 categories" in texts
