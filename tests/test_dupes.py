"""Near-duplicates and re-submissions (yanreform.library.dupes): the vectorised MinHash against a reference,
LSH candidates, alignment back to the original text, precision/recall on corpus/dupes-dev.jsonl, and the
library-level pairs with their kinds."""

from __future__ import annotations

import itertools
import json
import random
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from yanreform.corpus.agency import agency_place
from yanreform.errors import InputError
from yanreform.library import Library
from yanreform.library import dupes as D
from yanreform.library import minhash as M

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "corpus" / "yancheng-2024-reform-cases.txt"
DEV = REPO / "corpus" / "dupes-dev.jsonl"

_CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]


def _random_text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_CJK) for _ in range(n))


# ---------------------------------------------------------------------------------------------- signatures


def _reference_signature(key: np.ndarray, bins: int = M.BINS, k: int = M.SHINGLE) -> list[int]:
    """One text's signature, one shingle at a time in Python integers (the definition the fast path must
    follow)."""
    m64 = (1 << 64) - 1

    def mix(h: int) -> int:
        h ^= h >> 30
        h = (h * 0xBF58476D1CE4E5B9) & m64
        h ^= h >> 27
        h = (h * 0x94D049BB133111EB) & m64
        return h ^ (h >> 31)

    bits = bins.bit_length() - 1
    sig = [m64] * bins
    for i in range(len(key) - k + 1):
        h = 0
        for j in range(k):
            h = (h * 0x100000001B3 + int(key[i + j])) & m64
        h = mix(h)
        b, v = h >> (64 - bits), h & (m64 >> bits)
        sig[b] = min(sig[b], v)
    if all(v == m64 for v in sig):
        return sig
    out = []
    for b in range(bins):
        d = 0
        while sig[(b + d) % bins] == m64:
            d += 1
        out.append((sig[(b + d) % bins] + d * 0x9E3779B97F4A7C15) & m64 if d else sig[b])
    return out


def test_vectorised_signatures_equal_the_reference():
    rng = random.Random(3)
    texts = [_random_text(rng, n) for n in (0, 3, 5, 6, 40, 200, 1200)] + ["建设执法办案管理中心2024年"]
    keys = [M.key_text(t).key for t in texts]
    cat, lens = M.batch_keys(texts)
    assert lens.tolist() == [len(k) for k in keys] and cat.tolist() == np.concatenate(keys).tolist()
    h, doc, _ = M.shingles(cat, lens)
    sig = M.signatures(h, doc, len(keys))
    for i, key in enumerate(keys):
        assert sig[i].tolist() == _reference_signature(key), i


def test_agreeing_bins_estimate_jaccard():
    rng = random.Random(7)
    errors = []
    for share in (0.2, 0.5, 0.8):
        for _ in range(6):
            common = _random_text(rng, int(600 * share))
            a = common + _random_text(rng, 600 - len(common))
            b = common + _random_text(rng, 600 - len(common))
            ka, kb = M.key_text(a).key, M.key_text(b).key
            sa = {tuple(ka[i : i + 5]) for i in range(len(ka) - 4)}
            sb = {tuple(kb[i : i + 5]) for i in range(len(kb) - 4)}
            exact = len(sa & sb) / len(sa | sb)
            h, doc, _ = M.shingles(np.concatenate([ka, kb]), np.array([len(ka), len(kb)]))
            sig = M.signatures(h, doc, 2)
            errors.append(M.estimate_jaccard(sig, np.array([[0, 1]]))[0] - exact)
    assert abs(float(np.mean(errors))) < 0.03 and float(np.max(np.abs(errors))) < 0.15


def test_lsh_proposes_the_planted_pair_only():
    rng = random.Random(11)
    texts = [_random_text(rng, 300) for _ in range(400)]
    texts.append(texts[17][:250] + _random_text(rng, 60))  # shares 250 of 300 characters with text 17
    sig, _, _ = M.text_signatures(texts, chunk=128)  # chunked: several passes, sampled boilerplate
    assert M.candidate_pairs(sig).tolist() == [[17, 400]]
    whole, _, _ = M.text_signatures(texts, chunk=1000)
    assert (whole == sig).all()  # chunking changes nothing


def test_key_text_and_alignment_map_back_to_the_original():
    a = "一、推进“智慧法鹰”建设。2024年共办理案件1,234件，同比上升12.5%！"
    b = "（二）推進“智慧法鷹”建設，2025年共辦理案件1,560件，同比上升15%。另有新内容若干。"
    ka, kb = M.key_text(a), M.key_text(b)
    assert "".join(chr(c) for c in ka.key) == "一推进智慧法鹰建设0年共办理案件0件同比上升0"
    for k, t in ((ka, a), (kb, b)):
        assert all(t[s:e].strip() for s, e in zip(k.start.tolist(), k.end.tolist(), strict=True))
    blocks = D.align(ka.key, kb.key, seed=4, min_block=8)
    assert blocks
    for a0, a1, b0, b1 in blocks:
        ta, tb = a[int(ka.start[a0]) : int(ka.end[a1 - 1])], b[int(kb.start[b0]) : int(kb.end[b1 - 1])]
        assert ta.startswith("推进") and tb.startswith("推進")  # traditional and simplified align
        assert "1,234" in ta and "1,560" in tb  # a number is one key character, whatever its digits


def test_pair_kind_rules():
    u = D.Unit
    assert (
        D.pair_kind(u("a", "", "盐城市公安局", "盐城市", 2023), u("b", "", "盐城市公安局", "盐城市", 2024))
        == "resubmission"
    )
    assert (
        D.pair_kind(u("a", "", "盐城市公安局", "盐城市", 2024), u("b", "", "鹽城市公安局", "盐城市", 2024))
        == "duplicate"
    )
    assert (
        D.pair_kind(u("a", "", "盐城市公安局", "盐城市", 2023), u("b", "", "盐城市委政法委", "盐城市", 2024))
        == "resubmission"
    )
    assert (
        D.pair_kind(u("a", "", "盐城市公安局", "盐城市", 2024), u("b", "", "南通市公安局", "南通市", 2024))
        == "reuse"
    )


# ---------------------------------------------------------------------------------------------- the dev set


def _dev_units(vectors: np.ndarray | None) -> tuple[list[dict], list[D.Unit]]:
    rows = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines()]
    units = [
        D.Unit(r["uid"], r["text"], r["agency"], agency_place(r["agency"]), r["year"], "",
               None if vectors is None else vectors[i])
        for i, r in enumerate(rows)
    ]  # fmt: skip
    return rows, units


def evaluate_dev(vectors: np.ndarray | None, threshold: float | None = None) -> dict[str, float]:
    """Precision and recall of find_near_duplicates on the dev set (pairs of one group are the duplicates)."""
    rows, units = _dev_units(vectors)
    found = D.find_near_duplicates(units, threshold=threshold)
    groups = defaultdict(list)
    for r in rows:
        if r["group"]:
            groups[r["group"]].append(r["uid"])
    truth = {frozenset(p) for m in groups.values() for p in itertools.combinations(m, 2)}
    got = {frozenset((d.a, d.b)) for d in found}
    practice = {r["uid"]: r["practice"] for r in rows}
    same_practice = sum(1 for d in found if practice[d.a] and practice[d.a] == practice[d.b])
    kinds = {frozenset((d.a, d.b)): d.kind for d in found}
    origin = [(r["uid"], r["origin"], r["expect"]) for r in rows if r["origin"]]
    kind_ok = [kinds[frozenset((u, o))] == e for u, o, e in origin if frozenset((u, o)) in kinds]
    return {
        "precision": len(got & truth) / max(1, len(got)),
        "recall": len(got & truth) / len(truth),
        "pairs": len(truth),
        "same_practice_reported": same_practice,
        "kind_accuracy": sum(kind_ok) / max(1, len(kind_ok)),
    }


def test_dev_set_is_reproducible():
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_dupes_set.py"), "--check", "--out", str(DEV)],
        capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": ""},
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr


def test_dev_set_precision_and_recall_with_the_fake_encoder(fake_encoder):
    from yanreform.text.analysis import Analyzer, analyses_of

    rows = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines()]
    vectors = Analyzer(encoder=fake_encoder).embed(analyses_of([r["text"] for r in rows]))
    m = evaluate_dev(vectors)
    assert m["pairs"] == 208
    assert m["precision"] >= 0.95 and m["recall"] >= 0.90, m
    assert m["same_practice_reported"] == 0 and m["kind_accuracy"] >= 0.95, m


@pytest.mark.slow
def test_dev_set_precision_and_recall_with_the_real_encoder(encoder):
    from yanreform.text.analysis import Analyzer, analyses_of

    rows = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines()]
    for name, vectors in (
        ("e5", Analyzer(encoder=encoder).embed(analyses_of([r["text"] for r in rows]))),
        ("no embeddings (alignment alone)", None),
    ):
        m = evaluate_dev(vectors)
        print(f"\ndupes-dev, {name}: {m}")
        assert m["precision"] >= 0.95 and m["recall"] >= 0.90, m
        assert m["same_practice_reported"] == 0


# ---------------------------------------------------------------------------------------------- in a library


def _resubmitted(text: str) -> str:
    """The bundled collection re-submitted a year later: titles changed, the measures of each case reordered,
    numbers updated, one case dropped."""
    out = text.replace("打造“智慧法鹰”持续深化法治公安建设", "深化“智慧法鹰”应用 建设法治公安")
    out = out.replace("打造“N+辅助”集约化新模式", "深化“N+辅助”集约化改革").replace("28名", "35名")
    out = out.replace("2024", "2025").replace("556个", "612个")
    return out


def test_library_finds_resubmissions_reuse_and_initiative_reuse(tmp_path, fake_tagger):
    text = BUNDLED.read_text(encoding="utf-8")
    nxt = tmp_path / "yancheng-2025.txt"
    nxt.write_text(_resubmitted(text), encoding="utf-8")
    with Library(tmp_path / "lib.sqlite", tagger=fake_tagger) as lib:
        lib.add(BUNDLED, year=2024)
        lib.add(nxt, year=2025)
        c24, c25 = lib.cases(year=2024), lib.cases(year=2025)
        # another city re-uses the police case's first measure inside a case of its own
        reuse = tmp_path / "nantong.jsonl"
        borrowed = c24[0].initiatives[0].text.replace("盐城", "南通")
        rows = [{"id": "x", "agency": "南通市公安局", "title": "数字警务",
                 "text": "南通市公安局推进数字警务改革，成效明显。" * 3 + "\n\n" + borrowed}]  # fmt: skip
        reuse.write_text(json.dumps(rows[0], ensure_ascii=False) + "\n", encoding="utf-8")
        lib.add(reuse, year=2025)
        found = lib.near_duplicates()
        case_pairs = {(d.a, d.b): d for d in found if d.level == "case"}
        assert set(case_pairs) == {(a.id, b.id) for a, b in zip(c24, c25, strict=True)}
        for d in case_pairs.values():
            assert d.kind == "resubmission" and 0.5 <= d.score <= 1.0 and (d.year_a, d.year_b) == (2024, 2025)
            ta = lib.case(d.a).text
            tb = lib.case(d.b).text
            assert d.spans and all(
                ta[s.a_start : s.a_end] == s.a_text and tb[s.b_start : s.b_end] == s.b_text for s in d.spans
            )
        ini = [d for d in found if d.level == "initiative"]
        assert ini and all(d.kind == "reuse" and "nantong-x" in (d.case_a, d.case_b) for d in ini)
        assert {d.a for d in ini} >= {c24[0].initiatives[0].id}
        assert all(d.case_a != d.case_b for d in found)
        assert lib.near_duplicates(year=2023) == []
        assert len(lib.near_duplicates(level="case")) == 10
        assert lib.near_duplicates(threshold=1.0) == [d for d in found if d.score >= 1.0]
        with pytest.raises(InputError, match="threshold"):
            lib.near_duplicates(threshold=1.5)
        with pytest.raises(InputError, match="level"):
            lib.near_duplicates(level="word")  # type: ignore[arg-type]


def test_same_practice_texts_of_different_places_are_not_duplicates(tmp_path, fake_tagger):
    rows = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines()]
    practice = [r for r in rows if r["practice"]]
    path = tmp_path / "practice.jsonl"
    path.write_text(
        "".join(json.dumps({"id": r["uid"].split(":")[1], "text": r["text"], "agency": r["agency"]},
                           ensure_ascii=False) + "\n" for r in practice),
        encoding="utf-8",
    )  # fmt: skip
    with Library(tmp_path / "lib.sqlite", tagger=fake_tagger) as lib:
        lib.add(path, year=2022)
        assert len(lib) == len(practice) == 66
        assert lib.near_duplicates() == []
