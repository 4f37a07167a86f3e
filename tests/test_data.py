"""Checks of the shipped data files: taxonomy.toml, yancheng-2024-labels.jsonl, devset.jsonl, longform.jsonl.

These tests read the files directly (tomllib, json) so that a broken data file is reported as such, not as a
tagger failure. One test cross-checks the bundled labels against the corpus parser.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TAXONOMY = REPO / "models" / "taxonomy.toml"
BUNDLED_TEXT = REPO / "corpus" / "yancheng-2024-reform-cases.txt"
BUNDLED_LABELS = REPO / "corpus" / "yancheng-2024-labels.jsonl"
DEVSET = REPO / "corpus" / "devset.jsonl"
LONGFORM = REPO / "corpus" / "longform.jsonl"
STRESS = REPO / "corpus" / "stress.jsonl"

CODES = (
    ("digitalisation", "数字赋能"),
    ("one_stop_service", "一站式服务"),
    ("coordination", "协同联动"),
    ("supervision", "监督制约"),
    ("dispute_resolution", "多元解纷"),
    ("vulnerable_groups", "特殊群体保护"),
    ("fast_track", "轻案快办与繁简分流"),
    ("legal_publicity", "普法宣传"),
    ("business_environment", "营商环境"),
    ("grassroots_governance", "基层治理"),
    ("ecological_protection", "生态环境保护"),
)
CODE_SET = {c for c, _ in CODES}
PER_CASE = (4, 3, 3, 4, 3, 3, 3, 4, 3, 4)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _jsonl(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{path.name}:{n}: blank line"
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:  # pragma: no cover - reported as a failure
            pytest.fail(f"{path.name}:{n}: invalid JSON: {e}")
    return rows


@pytest.fixture(scope="module")
def taxonomy() -> dict:
    with TAXONOMY.open("rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def bundled_labels() -> list[dict]:
    return _jsonl(BUNDLED_LABELS)


@pytest.fixture(scope="module")
def devset() -> list[dict]:
    return _jsonl(DEVSET)


@pytest.fixture(scope="module")
def longform() -> list[dict]:
    return _jsonl(LONGFORM)


@pytest.fixture(scope="module")
def bundled_text() -> str:
    return BUNDLED_TEXT.read_text(encoding="utf-8")


# ---------------------------------------------------------------- taxonomy.toml


def test_taxonomy_codes_names_and_order(taxonomy):
    assert taxonomy["version"] == 1
    cats = taxonomy["category"]
    assert [(c["code"], c["name"]) for c in cats] == list(CODES)


def test_taxonomy_fields(taxonomy):
    allowed = {
        "code", "name", "name_en", "definition", "definition_en", "seeds", "weak_seeds", "exemplars",
        "not_qualifying",
    }  # fmt: skip
    for c in taxonomy["category"]:
        code = c["code"]
        assert set(c) <= allowed, (code, set(c) - allowed)
        for key in ("name_en", "definition", "definition_en"):
            assert isinstance(c[key], str) and c[key].strip(), (code, key)
        assert CJK.search(c["definition"]), code
        assert 25 <= len(c["seeds"]) <= 60, (code, len(c["seeds"]))
        assert 6 <= len(c["exemplars"]) <= 10, (code, len(c["exemplars"]))
        for key in ("seeds", "weak_seeds", "exemplars", "not_qualifying"):
            vals = c.get(key, [])
            assert all(isinstance(v, str) and v.strip() == v and v for v in vals), (code, key)
            assert len(set(vals)) == len(vals), (code, key, [v for v, k in Counter(vals).items() if k > 1])
        # a term is either strong or weak evidence for a category, not both
        assert not set(c["seeds"]) & set(c.get("weak_seeds", [])), code


def test_taxonomy_seeds_are_simplified(taxonomy):
    opencc = pytest.importorskip("opencc")
    t2s = opencc.OpenCC("t2s")
    for c in taxonomy["category"]:
        for term in c["seeds"] + c.get("weak_seeds", []):
            assert t2s.convert(term) == term, (c["code"], term)


def test_taxonomy_outside(taxonomy):
    out = taxonomy["outside"]
    assert CJK.search(out["definition"])
    assert 10 <= len(out["exemplars"]) <= 15
    for word in ("练兵", "表彰", "党建", "经费", "编制"):
        assert word in out["definition"], word


# ---------------------------------------------------------------- bundled labels


def test_bundled_labels_schema(bundled_labels):
    for r in bundled_labels:
        assert set(r) == {"id", "case_id", "kind", "heading", "labels", "note"}, r.get("id")
        assert r["kind"] in ("lead", "initiative")
        assert isinstance(r["labels"], list) and set(r["labels"]) <= CODE_SET, r["id"]
        assert len(set(r["labels"])) == len(r["labels"]), r["id"]
        assert isinstance(r["note"], str) and r["note"].strip(), r["id"]
    ids = [r["id"] for r in bundled_labels]
    assert len(ids) == len(set(ids))


def test_bundled_labels_cover_every_passage(bundled_labels):
    assert len(bundled_labels) == 44
    case_ids = [f"yc2024-{n:02d}" for n in range(1, 11)]
    leads = [r for r in bundled_labels if r["kind"] == "lead"]
    assert [r["id"] for r in leads] == [f"{c}-lead" for c in case_ids]
    assert all(r["heading"] == "" for r in leads)
    inits = [r for r in bundled_labels if r["kind"] == "initiative"]
    assert len(inits) == 34
    per_case = Counter(r["case_id"] for r in inits)
    assert tuple(per_case[c] for c in case_ids) == PER_CASE
    for r in inits:
        assert re.fullmatch(r"yc2024-\d\d-i\d", r["id"]) and r["id"].startswith(r["case_id"] + "-i")
    for c, k in zip(case_ids, PER_CASE, strict=True):
        got = [r["id"] for r in inits if r["case_id"] == c]
        assert got == [f"{c}-i{n}" for n in range(1, k + 1)]


def test_bundled_headings_verbatim_and_in_order(bundled_labels, bundled_text):
    pos = 0
    for r in bundled_labels:
        if r["kind"] != "initiative":
            continue
        h = r["heading"]
        assert h and bundled_text.count(h) == 1, r["id"]
        at = bundled_text.index(h)
        assert at >= pos, f"{r['id']}: heading out of file order"
        pos = at


def test_bundled_labels_agree_with_parser(bundled_labels):
    yanreform = pytest.importorskip("yanreform")
    try:
        corpus = yanreform.load_corpus()
    except (AttributeError, NotImplementedError):  # pragma: no cover - parser not available
        pytest.skip("corpus parser not available")
    by_id = {r["id"]: r for r in bundled_labels}
    parsed = [
        (pid, kind) for case in corpus for pid, kind, _ in case.passages() if kind in ("lead", "initiative")
    ]
    assert {pid for pid, _ in parsed} == set(by_id)
    for case in corpus:
        for ini in case.initiatives:
            assert by_id[ini.id]["heading"] == ini.heading, ini.id


def test_bundled_labels_every_category_seen(bundled_labels):
    seen = Counter(c for r in bundled_labels for c in r["labels"])
    # the ten cases cover most of the taxonomy; ecological_protection is deliberately absent (slogans only)
    assert set(seen) >= CODE_SET - {"ecological_protection"}
    assert "ecological_protection" not in seen


# ---------------------------------------------------------------- devset


def test_devset_schema(devset):
    keys = {"id", "text", "labels", "split", "region", "agency", "script", "note"}
    for n, r in enumerate(devset, 1):
        assert set(r) == keys, r.get("id")
        assert r["id"] == f"dev-{n:04d}"
        assert isinstance(r["text"], str) and 40 <= len(r["text"]) <= 250, r["id"]
        assert r["text"] == r["text"].strip()
        assert isinstance(r["labels"], list) and set(r["labels"]) <= CODE_SET, r["id"]
        assert len(set(r["labels"])) == len(r["labels"]), r["id"]
        assert r["split"] in ("train", "dev"), r["id"]
        assert r["script"] in ("simplified", "traditional"), r["id"]
        assert r["region"] and r["agency"], r["id"]


def test_devset_unique(devset):
    assert len({r["id"] for r in devset}) == len(devset)
    assert len({r["text"] for r in devset}) == len(devset)


def test_devset_size_and_split(devset):
    assert len(devset) >= 240
    n_dev = sum(r["split"] == "dev" for r in devset)
    assert 0.25 <= n_dev / len(devset) <= 0.35


def test_devset_category_counts(devset):
    pos = Counter(c for r in devset for c in r["labels"])
    dev = Counter(c for r in devset if r["split"] == "dev" for c in r["labels"])
    for code in CODE_SET:
        assert pos[code] >= 25, (code, pos[code])
        assert dev[code] >= 7, (code, dev[code])


def test_devset_no_category_passages(devset):
    empty = [r for r in devset if not r["labels"]]
    assert len(empty) >= 45
    n_dev = sum(r["split"] == "dev" for r in empty)
    assert 7 <= n_dev <= len(empty) - 25


def test_devset_variety(devset):
    trad = [r for r in devset if r["script"] == "traditional"]
    assert len(trad) >= 0.08 * len(devset)
    try:
        import opencc
    except ImportError:  # pragma: no cover
        opencc = None
    if opencc is not None:
        t2s = opencc.OpenCC("t2s")
        for r in trad:
            assert t2s.convert(r["text"]) != r["text"], r["id"]
    ascii_punct = [r for r in devset if re.search(r"[\u4e00-\u9fff][,;:(\"]", r["text"])]
    assert len(ascii_punct) >= 0.08 * len(devset)
    assert any(re.search(r"[\uff10-\uff19]", r["text"]) for r in devset)  # full-width digits
    assert len({r["region"] for r in devset}) >= 150
    assert len({r["agency"] for r in devset}) >= 10
    multi = [r for r in devset if len(r["labels"]) >= 2]
    assert len(multi) >= 0.25 * len(devset)


def test_devset_not_copied_from_bundled(devset, bundled_text):
    n = 20
    grams = {bundled_text[i : i + n] for i in range(len(bundled_text) - n + 1)}
    for r in devset:
        t = r["text"]
        hit = next((t[i : i + n] for i in range(len(t) - n + 1) if t[i : i + n] in grams), None)
        assert hit is None, f"{r['id']} shares {hit!r} with the bundled file"


# ---------------------------------------------------------------- longform (training only)


def _shared_gram(text: str, grams: set[str], n: int = 20) -> str | None:
    return next((text[i : i + n] for i in range(len(text) - n + 1) if text[i : i + n] in grams), None)


def _grams(texts, n: int = 20) -> set[str]:
    return {t[i : i + n] for t in texts for i in range(len(t) - n + 1)}


def test_longform_schema(longform):
    keys = {"id", "text", "labels", "split", "region", "agency", "script", "note"}
    for n, r in enumerate(longform, 1):
        assert set(r) == keys, r.get("id")
        assert r["id"] == f"long-{n:04d}"
        assert isinstance(r["text"], str) and 150 <= len(r["text"]) <= 450, r["id"]
        assert r["text"] == r["text"].strip() and "\n" not in r["text"], r["id"]
        assert isinstance(r["labels"], list) and set(r["labels"]) <= CODE_SET, r["id"]
        assert len(set(r["labels"])) == len(r["labels"]), r["id"]
        assert r["split"] == "train", r["id"]
        assert r["script"] in ("simplified", "traditional"), r["id"]
        assert r["region"] and r["agency"], r["id"]
        assert isinstance(r["note"], str) and r["note"].strip(), r["id"]


def test_longform_unique(longform, devset):
    assert len({r["id"] for r in longform}) == len(longform)
    texts = {r["text"] for r in longform}
    assert len(texts) == len(longform)
    assert not texts & {r["text"] for r in devset}


def test_longform_size_and_mix(longform):
    assert 120 <= len(longform) <= 150
    pos = Counter(c for r in longform for c in r["labels"])
    assert set(pos) == CODE_SET
    assert pos["supervision"] >= 30
    assert 20 <= sum(not r["labels"] for r in longform) <= 35  # outside-taxonomy passages
    assert sum(len(r["labels"]) >= 2 for r in longform) >= 0.4 * len(longform)
    trad = [r for r in longform if r["script"] == "traditional"]
    assert len(trad) >= 0.08 * len(longform)
    ascii_punct = [r for r in longform if re.search(r"[\u4e00-\u9fff][,;:(\"]", r["text"])]
    assert len(ascii_punct) >= 0.08 * len(longform)
    assert len({r["region"] for r in longform}) >= 100


def test_longform_traditional_rows_are_traditional(longform):
    opencc = pytest.importorskip("opencc")
    t2s = opencc.OpenCC("t2s")
    for r in longform:
        if r["script"] == "traditional":
            assert t2s.convert(r["text"]) != r["text"], r["id"]


def test_longform_not_copied(longform, devset, bundled_text):
    """No 20-character overlap with the bundled file, the devset or the held-out stress set."""
    stress = _jsonl(STRESS)
    for name, grams in (
        ("the bundled file", _grams([bundled_text])),
        ("the devset", _grams(r["text"] for r in devset)),
        ("the stress set", _grams(r["text"] for r in stress)),
    ):
        for r in longform:
            hit = _shared_gram(r["text"], grams)
            assert hit is None, f"{r['id']} shares {hit!r} with {name}"
