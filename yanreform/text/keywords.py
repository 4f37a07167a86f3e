"""Keyword statistics: the domain IDF table, stopwords, and which tokens can be keywords.

The IDF is jieba's general-news table (read from the installed jieba package's data file, without importing
jieba) overlaid with the domain table ``models/idf.txt``: domain terms weigh more, reform boilerplate less;
unknown words get the table's lower quartile.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path

from .. import _resources
from ..errors import InputError
from ._protect import _RE_DATE_OR_COUNT
from .normalize import normalize_text

__all__ = ["domain_idf", "keyword_candidates", "stopwords"]

_RE_NUMBERISH = re.compile(r"[0-9.,%‰]+")
_RE_WORDCHAR = re.compile(r"[^\W_]")  # a letter, digit or ideograph


def _jieba_idf_file() -> Path:
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("jieba is not installed: its general IDF table is needed for keywords")
    return Path(next(iter(spec.submodule_search_locations))) / "analyse" / "idf.txt"


@lru_cache(maxsize=4)
def _load_idf(path: str) -> tuple[Mapping[str, float], float]:
    """Base IDF (jieba's general-news table) overlaid with the domain table; returns (idf, default idf)."""
    idf: dict[str, float] = {}
    base = _jieba_idf_file()
    for line in base.read_text(encoding="utf-8").splitlines():
        w, _, v = line.partition(" ")
        if v:
            idf[w] = float(v)
    values = sorted(idf.values())
    # Unknown words (often HMM-found fragments) get the lower quartile, below the domain terms' floor of 11.5.
    default = values[len(values) // 4] if values else 10.0
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        try:
            idf[parts[0]] = float(parts[1])
        except (IndexError, ValueError) as exc:
            raise InputError(f"{path}:{lineno}: expected 'word idf', got {line!r}") from exc
    return idf, default


@lru_cache(maxsize=4)
def _load_stopwords(path: str) -> frozenset[str]:
    words = set()
    for line in Path(path).read_text(encoding="utf-8-sig").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(normalize_text(line))
    return frozenset(words)


def domain_idf() -> tuple[Mapping[str, float], float]:
    """``(idf table, idf of an unknown word)``: jieba's table overlaid with ``models/idf.txt`` (read once)."""
    return _load_idf(str(_resources.model_file("idf.txt")))


def stopwords() -> frozenset[str]:
    """The normalised stopwords of ``models/stopwords.txt`` (loaded once)."""
    return _load_stopwords(str(_resources.model_file("stopwords.txt")))


def keyword_candidates(tokens: Iterable[str]) -> Iterator[str]:
    """The tokens that can be keywords: 2+ characters, not a stopword, punctuation, number, date or count."""
    stop = stopwords()
    for w in tokens:
        if len(w) < 2 or w in stop or not _RE_WORDCHAR.search(w):
            continue
        if _RE_NUMBERISH.fullmatch(w) or _RE_DATE_OR_COUNT.fullmatch(w):
            continue
        yield w
