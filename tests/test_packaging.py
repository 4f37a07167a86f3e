"""A non-editable install must ship models/ and corpus/ inside the package and find them from anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("hatchling")
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    wheels = list(out.glob("yanreform-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_carries_data_and_types(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(
        ["git", "ls-files", "models", "corpus"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked, "no tracked data files"
    for rel in tracked:
        assert f"yanreform/_data/{rel}" in names, f"{rel} missing from the wheel"
    assert "yanreform/py.typed" in names
    # the web app's templates and static files ship inside the package (no CDN, no source checkout needed)
    web = subprocess.run(
        ["git", "ls-files", "yanreform/apps/web/templates", "yanreform/apps/web/static"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert any(p.endswith(".html") for p in web) and any(p.endswith(".css") for p in web)
    for rel in web:
        assert rel in names, f"{rel} missing from the wheel"
    assert not any(n.endswith((".pkl", ".pickle", ".joblib")) for n in names)


def test_installed_wheel_finds_its_data(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    r = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    code = (
        "import yanreform, yanreform._resources as r, sys;"
        "c = yanreform.load_corpus();"
        "print(yanreform.__file__); print(r.models_dir()); print(len(c), sum(len(x.initiatives) for x in c));"
        "print('torch' in sys.modules);"
        "import yanreform.apps.web.app as w;"
        "print(w.TEMPLATES.joinpath('home.html').is_file() and w.STATIC.joinpath('style.css').is_file())"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    pkg_file, models, counts, torch_loaded, web_files = r.stdout.strip().splitlines()
    assert pkg_file.startswith(str(target))
    assert models.startswith(str(target)) and models.endswith("_data/models")
    assert counts == "10 34"
    assert torch_loaded == "False", "import yanreform + load_corpus must not import torch"
    assert web_files == "True", "the installed web app finds its templates and static files"
