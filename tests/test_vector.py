"""yanreform.search.vector: chunked top-k vs its reference, memory bound, errors, ApproxIndex."""

from __future__ import annotations

import ast
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from yanreform.search import vector
from yanreform.search.approx import ApproxIndex
from yanreform.search.vector import topk, topk_reference

VECTOR_PY = Path(vector.__file__)


def _dyadic(rng: np.random.Generator, shape: tuple[int, ...], levels: int = 2) -> np.ndarray:
    """Entries in {-levels..levels}/4: every dot product is exact in float32 whatever the summation order, so
    the chunked product and the full product agree bit for bit and score ties are real ties."""
    return (rng.integers(-levels, levels + 1, shape) / 4).astype(np.float32)


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _assert_same(got: tuple[np.ndarray, np.ndarray], want: tuple[np.ndarray, np.ndarray]) -> None:
    assert got[0].dtype == np.float32 and got[1].dtype == np.int64
    assert got[0].shape == want[0].shape == got[1].shape == want[1].shape
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[0], want[0])


# ------------------------------------------------------------------------------------------ fast == reference


@pytest.mark.parametrize("seed", range(8))
def test_matches_reference_on_random_cases(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for case in range(40):
        n = int(rng.integers(1, 2500))
        d = int(rng.integers(1, 48))
        q = int(rng.integers(1, 40))
        k = int(rng.integers(1, 40))
        D = _dyadic(rng, (n, d), levels=int(rng.integers(1, 4)))
        if case % 3 == 0:  # many duplicated rows: exact score ties across the corpus and across chunks
            D[rng.integers(0, n, n // 2)] = D[rng.integers(0, n, n // 2)]
        Q = _dyadic(rng, (q, d))
        if case % 4 == 1:
            Q[: q // 2] = D[rng.integers(0, n, q // 2)]
        corpus = D.astype(np.float16) if case % 4 == 0 else D
        queries = Q.astype(np.float16) if case % 8 == 0 else Q
        exclude = None
        if case % 5 == 1:
            exclude = rng.integers(-1, n, q)
        elif case % 5 == 2:
            exclude = rng.integers(-1, n, (q, int(rng.integers(1, 5))))
        chunk = int(rng.integers(1, 700)) if case % 2 else None
        budget = int(rng.integers(2_000, 400_000)) if case % 7 == 3 else None
        got = topk(queries, corpus, k, exclude=exclude, chunk_size=chunk, memory_budget=budget)
        want = topk_reference(queries, corpus, k, exclude=exclude)
        _assert_same(got, want)


def test_reference_is_a_full_stable_sort() -> None:
    rng = np.random.default_rng(3)
    D = _dyadic(rng, (300, 8), levels=1)
    Q = _dyadic(rng, (5, 8))
    s, i = topk_reference(Q, D, 300)
    S = Q @ D.T
    for r in range(5):
        keys = sorted(range(300), key=lambda j, r=r: (-S[r, j], j))
        assert i[r].tolist() == keys
        np.testing.assert_array_equal(s[r], S[r, keys])


def test_gaussian_embeddings_agree_up_to_rounding() -> None:
    # Real-valued scores: BLAS may round a dot product differently in a chunk than in the full product, so
    # only near-ties (gap ~1e-7) may swap; everything else must agree exactly.
    rng = np.random.default_rng(11)
    D = _unit(rng, 20_000, 64)
    Q = np.vstack([_unit(rng, 30, 64), D[:10]])
    s, i = topk(Q, D, 10, chunk_size=1500)
    rs, ri = topk_reference(Q, D, 10)
    np.testing.assert_allclose(s, rs, atol=1e-6)
    S = Q @ D.T
    for r in range(len(Q)):
        if not np.array_equal(i[r], ri[r]):
            assert np.abs(S[r, i[r]] - S[r, ri[r]]).max() < 1e-5
    assert (i[30:, 0] == np.arange(10)).all()  # corpus rows find themselves first


def test_tie_rule_lower_index_first_across_chunks() -> None:
    d = 4
    D = np.zeros((50, d), np.float32)
    D[:, 0] = 0.5
    D[[7, 13, 31, 44], 0] = 1.0  # four rows share the best score, spread over several chunks
    q = np.array([1.0, 0, 0, 0], np.float32)
    for chunk in (None, 1, 3, 10, 16):
        s, i = topk(q, D, 6, chunk_size=chunk)
        assert i.tolist() == [7, 13, 31, 44, 0, 1]
        assert s.tolist() == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]


def test_scores_sorted_descending_and_are_inner_products() -> None:
    rng = np.random.default_rng(5)
    D, Q = _unit(rng, 3000, 32), _unit(rng, 7, 32)
    s, i = topk(Q, D, 25)
    assert (np.diff(s, axis=1) <= 0).all()
    np.testing.assert_allclose(s, np.einsum("qd,qkd->qk", Q, D[i]), atol=1e-6)


def test_float16_corpus_is_scored_in_float32() -> None:
    rng = np.random.default_rng(6)
    D = _unit(rng, 4000, 48).astype(np.float16)
    Q = _unit(rng, 9, 48)
    s, i = topk(Q, D, 5, chunk_size=700)
    rs, ri = topk_reference(Q, D.astype(np.float32), 5)
    np.testing.assert_allclose(s, rs, atol=1e-6)
    assert (i == ri).mean() > 0.95


def test_memmap_corpus(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    D = _dyadic(rng, (5000, 16))
    mm = np.lib.format.open_memmap(tmp_path / "d.npy", mode="w+", dtype=np.float32, shape=D.shape)
    mm[:] = D
    mm.flush()
    Q = _dyadic(rng, (4, 16))
    _assert_same(topk(Q, np.load(tmp_path / "d.npy", mmap_mode="r"), 8), topk_reference(Q, D, 8))


def _spy_whole(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the calls of the whole-matrix fast path."""
    calls: list[int] = []
    real = vector._topk_whole

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(vector, "_topk_whole", spy)
    return calls


@pytest.mark.parametrize("seed", range(6))
def test_whole_matrix_path_matches_chunked_path(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small problems take the whole-matrix path (one product, one selection); forcing the chunk loop with a
    # chunk_size below n must give the same arrays, and both must equal the reference.
    calls = _spy_whole(monkeypatch)
    rng = np.random.default_rng(100 + seed)
    for case in range(30):
        n = int(rng.integers(2, 6000))
        d = int(rng.integers(1, 24))
        q = int(rng.choice([1, 1, 2, 5, 40]))
        k = int(rng.choice([1, 3, 10, 64, n - 1, n, n + 5]))
        D = _dyadic(rng, (n, d), levels=int(rng.integers(1, 4)))
        Q = _dyadic(rng, (q, d))
        kind = case % 6
        if kind == 1:  # duplicated rows: ties across the corpus
            D[rng.integers(0, n, n // 2)] = D[rng.integers(0, n, n // 2)]
        elif kind == 2:  # sorted by the first query's score: the prefix bound of a single query is useless
            D = D[np.argsort(D @ Q[0], kind="stable")]
        elif kind == 3:  # every score ties
            D[:] = D[0]
        corpus = D.astype(np.float16) if case % 5 == 0 else D
        queries = Q[0] if q == 1 and case % 2 else Q
        exclude = None
        if case % 4 == 1:
            exclude = rng.integers(-1, n, q) if queries.ndim == 2 else int(rng.integers(-1, n))
        elif case % 4 == 2:
            m = int(rng.integers(1, 4))
            exclude = rng.integers(-1, n, (q, m)) if queries.ndim == 2 else rng.integers(-1, n, m)
        before = len(calls)
        whole = topk(queries, corpus, k, exclude=exclude)
        assert len(calls) == before + 1  # the fast path served it
        chunked = topk(queries, corpus, k, exclude=exclude, chunk_size=int(rng.integers(1, n)))
        assert len(calls) == before + 1  # ... and the chunk loop this one
        _assert_same(whole, chunked)
        _assert_same(whole, topk_reference(queries, corpus, k, exclude=exclude))


def test_large_problems_take_the_chunked_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _spy_whole(monkeypatch)
    rng = np.random.default_rng(16)
    D, Q = _dyadic(rng, (20_000, 8)), _dyadic(rng, (64, 8))
    _assert_same(topk(Q, D, 5), topk_reference(Q, D, 5))  # 1.3M scores: chunked
    assert not calls
    _assert_same(topk(Q[0], D, 5), topk_reference(Q[0], D, 5))  # a single query: one product
    assert len(calls) == 1
    # a budget too small for the whole score row: chunked
    _assert_same(topk(Q[0], D, 5, memory_budget=50_000), topk_reference(Q[0], D, 5))
    assert len(calls) == 1


def _brute(s: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((np.arange(s.size), -s))[:k]
    return s[order], order


@pytest.mark.parametrize(
    "make",
    [
        lambda rng, n: rng.standard_normal(n).astype(np.float32),
        lambda rng, n: rng.integers(0, 3, n).astype(np.float32),  # heavy ties
        lambda rng, n: np.sort(rng.standard_normal(n)).astype(np.float32),  # ascending: poor prefix bound
        lambda rng, n: np.zeros(n, np.float32),  # all equal
        # the best entries sit far beyond the prefix, the k-th best ties with many early entries
        lambda rng, n: (
            np.r_[np.ones(n - n // 3), np.full(n // 3, 2.0)].astype(np.float32) * (rng.random(n) < 0.999)
        ),
    ],
)
def test_single_query_selection_is_exact(make) -> None:
    rng = np.random.default_rng(17)
    for n in (1, 2, 9, 1000, 1025, 5000, 70_000, 200_000):
        s = make(rng, n)
        for k in {1, 3, 10, 100, n - 1, n} - {0}:
            if k <= n:
                got = vector._select_one(s, k)
                want = _brute(s, k)
                np.testing.assert_array_equal(got[1], want[1])
                np.testing.assert_array_equal(got[0], want[0])
    s = np.zeros(1000, np.float32)
    s[[5, 300, 301, 999]] = 2
    assert vector._first_equal(s, np.float32(2), 3, block=64).tolist() == [5, 300, 301]
    assert vector._first_equal(s, np.float32(2), 4, block=7).tolist() == [5, 300, 301, 999]


# ------------------------------------------------------------------------------------------------ shapes, k


def test_one_dimensional_query_gives_one_dimensional_results() -> None:
    rng = np.random.default_rng(1)
    D = _dyadic(rng, (100, 8))
    s, i = topk(D[3], D, 4)
    assert s.shape == (4,) and i.shape == (4,)
    s2, i2 = topk(D[3:4], D, 4)
    np.testing.assert_array_equal(i, i2[0])
    np.testing.assert_array_equal(s, s2[0])


def test_k_larger_than_corpus_is_clamped() -> None:
    rng = np.random.default_rng(2)
    D = _dyadic(rng, (6, 8))
    Q = _dyadic(rng, (3, 8))
    s, i = topk(Q, D, 50)
    assert s.shape == i.shape == (3, 6)
    assert sorted(i[0].tolist()) == list(range(6))
    _assert_same((s, i), topk_reference(Q, D, 50))


def test_empty_queries_and_empty_corpus() -> None:
    D = np.ones((5, 3), np.float32)
    s, i = topk(np.empty((0, 3), np.float32), D, 2)
    assert s.shape == i.shape == (0, 2)
    s, i = topk(np.ones((2, 3), np.float32), np.empty((0, 3), np.float32), 2)
    assert s.shape == i.shape == (2, 0)


# -------------------------------------------------------------------------------------------------- exclude


def test_exclude_self_matches() -> None:
    rng = np.random.default_rng(4)
    D = _unit(rng, 2000, 24)
    Q = D[:50]
    _, i = topk(Q, D, 5)
    assert (i[:, 0] == np.arange(50)).all()
    _, i = topk(Q, D, 5, exclude=np.arange(50), chunk_size=300)
    assert not (i == np.arange(50)[:, None]).any()
    _, ref = topk(Q, D, 6)
    np.testing.assert_array_equal(i, ref[:, 1:])


def test_exclude_minus_one_means_none_and_several_rows_per_query() -> None:
    rng = np.random.default_rng(9)
    D = _dyadic(rng, (400, 12))
    Q = _dyadic(rng, (3, 12))
    _, full = topk(Q, D, 10)
    ex = np.array([-1, full[1, 0], full[2, 3]])
    _, i = topk(Q, D, 9, exclude=ex)
    np.testing.assert_array_equal(i[0], full[0, :9])
    np.testing.assert_array_equal(i[1], full[1, 1:10])
    np.testing.assert_array_equal(i[2], np.delete(full[2], 3)[:9])
    ex2 = np.array([[full[0, 0], full[0, 1]], [-1, -1], [full[2, 5], -1]])
    _, i = topk(Q, D, 5, exclude=ex2, chunk_size=64)
    np.testing.assert_array_equal(i[0], full[0, 2:7])
    np.testing.assert_array_equal(i[1], full[1, :5])
    assert full[2, 5] not in i[2]


def test_exclude_with_one_dimensional_query() -> None:
    rng = np.random.default_rng(10)
    D = _dyadic(rng, (300, 8))
    _, full = topk(D[0], D, 6)
    _, i = topk(D[0], D, 4, exclude=int(full[0]))
    np.testing.assert_array_equal(i, full[1:5])
    _, i = topk(D[0], D, 4, exclude=[full[0], full[2]])
    np.testing.assert_array_equal(i, full[[1, 3, 4, 5]])


def test_exclude_clamps_k_to_eligible_rows() -> None:
    D = np.eye(4, dtype=np.float32)
    s, i = topk(D, D, 10, exclude=np.arange(4))
    assert i.shape == (4, 3)
    assert all(r not in row for r, row in enumerate(i.tolist()))
    # duplicates in a row count once
    s, i = topk(D[:1], D, 10, exclude=np.array([[2, 2, -1]]))
    assert sorted(i[0].tolist()) == [0, 1, 3]
    assert np.isfinite(s).all()


def test_exclude_everything_gives_empty_results() -> None:
    D = np.eye(2, dtype=np.float32)
    s, i = topk(D[0], D, 3, exclude=[0, 1])
    assert s.shape == i.shape == (0,)


# ---------------------------------------------------------------------------------------------------- memory


def _scratch_peak(fn) -> int:
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_scratch_memory_stays_within_the_budget_whatever_n() -> None:
    rng = np.random.default_rng(12)
    d, q, k = 64, 64, 10
    big = _unit(rng, 200_000, d)
    Q = _unit(rng, q, d)
    budget = 4 * 2**20
    peak_big = _scratch_peak(lambda: topk(Q, big, k, memory_budget=budget))
    peak_small = _scratch_peak(lambda: topk(Q, big[:20_000], k, memory_budget=budget))
    outputs = q * k * (4 + 8)
    assert peak_big <= budget * 1.1 + outputs, peak_big
    assert peak_big <= peak_small * 1.2 + 64 * 1024  # independent of N
    # the full score matrix would be 50 MB: the default budget is what bounds the default call
    peak_default = _scratch_peak(lambda: topk(Q, big, k))
    assert peak_default <= vector.DEFAULT_MEMORY_BUDGET * 1.1
    # a float16 corpus is converted chunk by chunk, never as a whole (a whole float32 copy would be 51 MB)
    big16 = big.astype(np.float16)
    peak16 = _scratch_peak(lambda: topk(Q, big16, k, memory_budget=budget))
    assert peak16 <= budget * 1.1 + outputs, peak16


def test_massive_ties_stay_exact_and_within_the_budget() -> None:
    D = np.ones((100_000, 8), np.float32)  # every score ties
    Q = np.ones((32, 8), np.float32)
    budget = 2 * 2**20
    peak = _scratch_peak(lambda: topk(Q, D, 10, memory_budget=budget))
    assert peak <= budget * 1.1 + 32 * 10 * 12, peak
    s, i = topk(Q, D, 10, memory_budget=budget, exclude=np.full(32, 3))
    assert (i == [0, 1, 2, 4, 5, 6, 7, 8, 9, 10]).all() and (s == 8).all()


def test_single_query_scratch_stays_within_the_budget() -> None:
    # One query: the whole score row (4 bytes per corpus row) is kept, and the selection adds at most 5 more
    # per row, even when the prefix bound fails (ascending scores) or every score ties.
    n = 600_000
    q = np.ones(4, np.float32) / 2
    ties = np.ones((n, 4), np.float32) / 2
    ascending = np.zeros((n, 4), np.float32)
    ascending[:, 0] = np.arange(n) / 2**20  # exact, distinct scores
    for D, want in ((ties, np.arange(10)), (ascending, np.arange(n - 1, n - 11, -1))):
        peak = _scratch_peak(lambda D=D: topk(q, D, 10))
        assert peak <= 9 * n + 64 * 1024, peak
        np.testing.assert_array_equal(topk(q, D, 10)[1], want)
        budget = 9 * n // 4  # too small for the whole row: chunked, within that budget
        peak = _scratch_peak(lambda D=D, budget=budget: topk(q, D, 10, memory_budget=budget))
        assert peak <= budget * 1.1, peak


def test_many_queries_are_split_into_blocks_within_the_budget() -> None:
    rng = np.random.default_rng(13)
    D = _dyadic(rng, (20_000, 16))
    Q = _dyadic(rng, (1_000, 16))
    budget = 2 * 2**20  # 1000 queries x 20000 rows of float32 scores would be 80 MB
    peak = _scratch_peak(lambda: topk(Q, D, 5, memory_budget=budget))
    assert peak <= budget * 1.1 + 1_000 * 5 * 12, peak
    _assert_same(topk(Q[:300], D, 5, memory_budget=budget), topk_reference(Q[:300], D, 5))


# ---------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0}, "k must be a positive integer"),
        ({"k": -3}, "k must be a positive integer"),
        ({"k": 2.5}, "k must be a positive integer"),
        ({"k": True}, "k must be a positive integer"),
        ({"queries": np.ones((2, 2, 4), np.float32)}, "queries must be a 1-D"),
        ({"corpus": np.ones(4, np.float32)}, "corpus must be a 2-D"),
        ({"queries": np.ones((2, 5), np.float32)}, "dimension mismatch.*5.*4"),
        ({"queries": np.array([[1, 0, np.nan, 0]], np.float32)}, "queries contains NaN.*row 0"),
        ({"queries": np.ones((2, 4), np.int64)}, "queries must be a floating-point"),
        ({"corpus": np.ones((5, 4), np.int32)}, "corpus must be a floating-point"),
        ({"exclude": np.array([0, 9])}, r"exclude\[1\] = 9 is not a corpus row"),
        ({"exclude": np.array([[0], [-2]])}, r"exclude\[1, 0\] = -2"),
        ({"exclude": np.array([0, 1, 2])}, "exclude must have one entry per query"),
        ({"exclude": np.array([0.0, 1.0])}, "exclude must be an integer array"),
        ({"chunk_size": 0}, "chunk_size must be a positive integer"),
        ({"memory_budget": -1}, "memory_budget must be a positive"),
    ],
)
def test_clear_errors(kwargs: dict, match: str) -> None:
    args = {"queries": np.ones((2, 4), np.float32), "corpus": np.ones((5, 4), np.float32), "k": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        topk(**args)
    if not {"chunk_size", "memory_budget"} & kwargs.keys():
        with pytest.raises(ValueError, match=match):
            topk_reference(**args)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_corpus_row_is_named(bad: float) -> None:
    D = np.ones((3000, 4), np.float32) / 2
    D[2345, 1] = bad
    for queries in (np.ones((3, 4), np.float32) / 2, np.ones(4, np.float32) / 2):
        for chunk in (None, 1000):  # the whole-matrix path and the chunk loop
            with pytest.raises(ValueError, match="corpus row 2345 contains NaN or infinite"):
                topk(queries, D, 2, chunk_size=chunk)
    with pytest.raises(ValueError, match=r"corpus contains NaN or infinite values.*row 2345"):
        topk_reference(np.ones((3, 4), np.float32) / 2, D, 2)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_single_query_is_named(bad: float) -> None:
    # The error names the query, not a corpus row (every score of a non-finite query is non-finite), on both
    # paths and for both query shapes.
    D = np.ones((3000, 4), np.float32) / 2
    D[:, 2] = 0  # inf * 0 = NaN
    for col in (0, 2):
        q = np.ones(4, np.float32) / 2
        q[col] = bad
        for queries in (q, q[None]):
            for chunk in (None, 700):
                with pytest.raises(
                    ValueError, match=r"queries contains NaN or infinite values \(first in row 0\)"
                ):
                    topk(queries, D, 2, chunk_size=chunk)
    # also when nothing is left to return
    with pytest.raises(ValueError, match="queries contains NaN"):
        topk(np.array([bad, 0], np.float32), np.eye(2, dtype=np.float32), 3, exclude=[0, 1])


# ------------------------------------------------------------------------------------------------- isolation


def test_vector_imports_nothing_from_yanreform_and_never_torch() -> None:
    # the one import from yanreform allowed: the dependency-free error family (same mistake, same error)
    tree = ast.parse(VECTOR_PY.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module == "errors":
            continue
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("yanreform"), ast.dump(node)
            assert (node.module or "").split(".")[0] in {
                "__future__",
                "collections",
                "typing",
                "numpy",
                "usearch",
            }
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.split(".")[0] in {"logging", "os", "numpy"}, alias.name
    code = (
        "import sys, numpy as np, yanreform.search.vector as v; "
        "v.topk(np.eye(3, dtype=np.float32), np.eye(3, dtype=np.float32), 2); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'torch', 'sentence_transformers', 'transformers', 'sklearn', 'usearch', 'faiss'}); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# ----------------------------------------------------------------------------------------------- ApproxIndex


def _clustered(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    centres = rng.standard_normal((n // 50, d)).astype(np.float32)
    x = centres[rng.integers(0, len(centres), n)] + rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.slow
def test_approx_index_recall_on_a_small_set() -> None:
    pytest.importorskip("usearch")
    rng = np.random.default_rng(14)
    X = _clustered(rng, 20_000 + 100, 96)
    D, Q = X[:20_000], X[20_000:]
    index = ApproxIndex(96)
    ids = index.add(D)
    assert len(index) == 20_000 and ids.tolist() == list(range(20_000))
    s, i = index.search(Q, 10)
    assert s.shape == i.shape == (100, 10) and s.dtype == np.float32 and i.dtype == np.int64
    assert (np.diff(s, axis=1) <= 0).all()
    _, exact = topk(Q, D, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(i.tolist(), exact.tolist(), strict=True)])
    assert recall >= 0.95, recall
    # scores are inner products, like topk's
    np.testing.assert_allclose(s, np.einsum("qd,qkd->qk", Q, D[i]), atol=1e-4)


def test_approx_index_api(tmp_path: Path) -> None:
    pytest.importorskip("usearch")
    rng = np.random.default_rng(15)
    D = _unit(rng, 500, 16)
    index = ApproxIndex(16, expansion_search=200)
    index.add(D[:300])
    index.add(D[300:])
    assert len(index) == 500
    s, i = index.search(D[42], 3)
    assert s.shape == i.shape == (3,) and i[0] == 42 and s[0] == pytest.approx(1.0, abs=1e-5)
    s, i = index.search(D[:2], 1000)  # k clamped to the index size
    assert i.shape == (2, 500)
    path = tmp_path / "ann.usearch"
    index.save(path)
    loaded = ApproxIndex.load(path)
    assert len(loaded) == 500 and loaded.dim == 16 and loaded.metric == "ip"
    np.testing.assert_array_equal(loaded.search(D[:5], 5)[1], index.search(D[:5], 5)[1])
    assert loaded.add(D[:1]).tolist() == [500]  # ids continue after the loaded ones
    custom = ApproxIndex(16)
    custom.add(D[:10], ids=np.arange(100, 110))
    assert custom.search(D[3], 1)[1].tolist() == [103]
    with pytest.raises(ValueError, match="dimension mismatch"):
        index.search(np.ones(8, np.float32), 1)
    with pytest.raises(ValueError, match="ids must be 2 integers"):
        custom.add(D[:2], ids=[1])
    (tmp_path / "junk").write_bytes(b"not an index" * 10)
    with pytest.raises(ValueError, match="not a readable usearch index"):
        ApproxIndex.load(tmp_path / "junk")


def test_approx_index_without_usearch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usearch", None)
    monkeypatch.setitem(sys.modules, "usearch.index", None)
    with pytest.raises(ImportError, match=r"yanreform\[ann\]"):
        ApproxIndex(8)
