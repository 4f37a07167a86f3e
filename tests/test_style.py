"""The code base stays ruff-clean (lint + format), as configured in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _ruff() -> list[str]:
    exe = Path(sys.executable).with_name("ruff")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("ruff")
    if not found:
        pytest.skip("ruff is not installed (it comes with the dev extra)")
    return [found]


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]])
def test_ruff_clean(args: list[str]) -> None:
    r = subprocess.run([*_ruff(), *args], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-1000:]


@pytest.mark.slow  # a whole-program check (about a minute of CPU cold), not logic: in the full tier, like CI
def test_mypy_clean() -> None:
    """Public signatures are typed and the package type-checks (mypy, configured in pyproject.toml)."""
    exe = Path(sys.executable).with_name("mypy")
    if not exe.exists():
        pytest.skip("mypy is not installed (it comes with the dev extra)")
    r = subprocess.run([str(exe)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-1000:]
