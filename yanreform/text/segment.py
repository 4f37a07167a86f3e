"""Domain-aware Chinese word segmentation with offsets into the original text.

:class:`Segmenter` owns its own jieba dictionary (never the global ``jieba.dt``) loaded with the bundled
political-legal reform dictionary ``models/userdict.txt``; it cuts the *normalised* text
(:mod:`yanreform.text`: width folding, traditional -> simplified, Chinese punctuation) and maps every token
back to the original, so ``Token.text`` is always an exact slice of what the user gave.

Pipeline for one text::

    original --normalize--> analysis text --protected spans--> pieces --backend.cut--> tokens --offset map-->
    Token

Protected spans are found with one regular expression on the analysis text and become single tokens whatever
the dictionary says; the text between them goes to the backend:

- quoted names: ``“智慧法鹰”``, ``「…」``, ``"…"``, ``‘…’`` (after normalisation all are ``“…”``/``‘…’``)
  whose content is 1..``quote_max_len`` (default 12) characters without whitespace or sentence punctuation:
  the quotes stay separate punctuation tokens, the name is one token (``“智慧法鹰”`` -> ``“``, ``智慧法鹰``,
  ``”``). Longer quoted passages are segmented normally.
- numeric model formulas: ``1+3+11``, ``4×3``, ``1+1+N``, ``N+辅助``, ``1+2+N`` (digits or N joined by ``+ × x
  *``, optionally ending in ``+`` and two ideographs).
- dates: ``2023年11月17日``, ``2023年``, ``2023年度``, ``11月17日``, ``11月``, ``2023-11-17``, ``二〇二三年``.
- counts with units: ``556个``, ``725人``, ``100%``, ``370余件``, ``28名``, ``3.5亿元``, ``35人次``.
- Latin/digit runs joined by ``. _ -``: ``www.court.gov.cn``, ``COVID-19``, ``v1.2.3``.
- ideographs outside U+4E00-U+9FD5 (CJK Extension A-G, U+9FD6-U+9FFF, compatibility): one token each.

Backends. ``"rjieba"`` (jieba-rs, about 20-90x faster) is used automatically when installed; ``"jieba"``
forces the pure-Python reference. Both get the same dictionary entries with the same frequencies and both run
with HMM on. Raw, they disagree on exactly two things, both handled above so that the backends never see them:
jieba splits Latin/digit runs at ``. _ -`` (``x.com`` -> ``x . com``, ``v1.2.3`` -> ``v1.2 . 3``) where
jieba-rs keeps them whole, and jieba-rs treats more code points as ideographs (so HMM may join a rare
ideograph with its neighbours, where jieba emits it alone). We keep joined runs whole and emit rare ideographs
alone, for both. Also, jieba's ``add_word`` adds a re-added word's frequency to the dictionary total again,
while jieba-rs replaces it; our reference backend does what jieba-rs does. Tests hold the two backends equal
on the bundled corpus and on a generated ~1 MB text mixing Latin, digits, URLs, emoji, full-width and
traditional characters, rare ideographs, control characters and ASCII punctuation soup.

Dictionary files: one entry per line, ``word [freq] [tag]`` separated by whitespace; UTF-8 with or without
BOM, LF or CRLF, blank lines and ``#`` comment lines allowed, a line may hold only the word. A malformed line
(a frequency that is not a positive integer, a bad tag, extra fields) raises
:class:`~yanreform.errors.InputError` naming the file and line. Words are normalised like the text (so
traditional entries work).
"""

from __future__ import annotations

import logging
import os
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import accumulate, compress, repeat
from typing import Any, Literal, NamedTuple, overload

import numpy as np

from .. import _resources
from ..errors import InputError, ModelError, check_batch_size, check_k
from ._backends import _RE_TAG, _check_word, _make_backend, _rjieba_available, parse_userdict  # noqa: F401
from ._protect import (  # noqa: F401
    _NORM_SPACES,
    _RE_SPACE,
    _mark_spans,
    _protect_re,
    _protect_re_plain,
    _protect_split_re,
)
from .keywords import domain_idf, keyword_candidates
from .normalize import Normalized, normalize, normalize_text
from .normalize import _normalize as _normalize_with_map

__all__ = ["Segmenter", "Token"]

log = logging.getLogger("yanreform")

Backend = Literal["auto", "rjieba", "jieba"]

# Frequency given to a word added without one (unless jieba's own suggestion is higher). In jieba's dictionary
# (total ~ 6e7) this sits with common content words: high enough to keep a domain term whole next to its
# neighbours, low enough not to glue across the boundary of a frequent word.
DEFAULT_FREQ = 3000


class Token(NamedTuple):
    """One token.

    Attributes:
        text: exact slice ``original[start:end]`` of the input.
        norm: the normalised token (what :meth:`Segmenter.cut` returns).
        start, end: character offsets into the original input (half-open).
    """

    text: str
    norm: str
    start: int
    end: int


# ------------------------------------------------------------------------------------------- parallel batches

_WORKER: Segmenter | None = None


def _worker_init(state: dict[str, Any]) -> None:
    global _WORKER
    seg = Segmenter.__new__(Segmenter)
    seg.__setstate__(state)
    _WORKER = seg


def _worker_cut(texts: list[str]) -> list[list[str]]:
    assert _WORKER is not None
    return _WORKER._cut_batch(texts)


# -------------------------------------------------------------------------------------------------- Segmenter


class Segmenter:
    """Domain-aware segmenter owning its own dictionary (see the module docstring for the pipeline).

    Args:
        user_dicts: extra dictionary files (``word [freq] [tag]`` lines), loaded after the bundled dictionary.
        words: extra words: a str, or a ``(word,)``/``(word, freq)``/``(word, freq, tag)`` tuple each.
        backend: ``"auto"`` (rjieba when installed, else jieba), ``"rjieba"`` or ``"jieba"`` (the reference).
        builtin_dict: load the bundled ``models/userdict.txt`` (default True).
        quote_max_len: longest quoted name kept as one token (0 disables quoted-name protection).

    Raises InputError for a bad backend name or malformed dictionary line, ModelError if ``backend="rjieba"``
    and rjieba is not installed, TypeError for non-str words. The object is not thread-safe while words are
    being added; cutting is read-only.
    """

    def __init__(
        self,
        *,
        user_dicts: Iterable[str | os.PathLike[str]] = (),
        words: Iterable[str | Sequence[Any]] = (),
        backend: Backend = "auto",
        builtin_dict: bool = True,
        quote_max_len: int = 12,
    ) -> None:
        if isinstance(user_dicts, str | os.PathLike):
            user_dicts = [user_dicts]
        if isinstance(words, str):
            words = [words]
        if not isinstance(quote_max_len, int) or quote_max_len < 0:
            raise InputError(f"quote_max_len must be a non-negative int, got {quote_max_len!r}")
        self._requested_backend = backend
        self._builtin_dict = bool(builtin_dict)
        self._quote_max_len = quote_max_len
        self._backend = _make_backend(backend)
        self._protect_split = _protect_split_re(quote_max_len)
        self._protect_split_nl = _protect_split_re(quote_max_len, newline=True)
        # word -> (freq, tag) for every dictionary word added on top of jieba's own dictionary (bundled +
        # user).
        self._entries: dict[str, tuple[int, str | None]] = {}
        # The user's additions in order (for pickling / worker processes); the bundled file is reloaded.
        self._user_entries: list[tuple[str, int, str | None]] = []
        if self._builtin_dict:
            self._add_entries(parse_userdict(_resources.model_file("userdict.txt")), record=False)
        for path in user_dicts:
            self.load_userdict(path)
        for i, item in enumerate(words):
            if isinstance(item, str):
                self.add_word(item)
            elif isinstance(item, Sequence) and 1 <= len(item) <= 3:
                self.add_word(*item)
            else:
                raise TypeError(f"words[{i}] must be a str or a (word, freq, tag) tuple, not {item!r}")

    # -------------------------------------------------------------------- configuration

    @classmethod
    def default(cls) -> Segmenter:
        """The process-wide shared segmenter with the bundled dictionary (built once; do not add words to it:
        make your own ``Segmenter(words=...)``)."""
        from .._defaults import default_segmenter

        return default_segmenter()

    @property
    def backend(self) -> str:
        """The backend in use: ``"rjieba"`` or ``"jieba"``."""
        return self._backend.name

    @property
    def user_words(self) -> Mapping[str, tuple[int, str | None]]:
        """Normalised word -> ``(freq, tag)`` for every word added on top of jieba's dictionary.

        The bundled domain dictionary is included. A read-only view.
        """
        from types import MappingProxyType

        return MappingProxyType(self._entries)

    def __repr__(self) -> str:
        return f"Segmenter(backend={self.backend!r}, user_words={len(self._entries)})"

    def add_word(self, word: str, freq: int | None = None, tag: str | None = None) -> int:
        """Add ``word`` (normalised) to this segmenter's dictionary; returns the frequency used.

        ``freq=None`` uses ``max(DEFAULT_FREQ, jieba's suggested frequency)``, which keeps the word whole in
        ordinary context. Raises TypeError for a non-str word, InputError for an empty word, one containing
        whitespace, a non-positive frequency or a tag that is not 1-8 ASCII letters.
        """
        return self._add(word, freq, tag, record=True, where="word")

    def _add(self, word: Any, freq: Any, tag: Any, *, record: bool, where: str) -> int:
        norm = _check_word(word, where)
        if freq is not None:
            if isinstance(freq, bool) or not isinstance(freq, int):
                raise TypeError(f"{where}: freq must be an int or None, not {type(freq).__name__}")
            if freq <= 0:
                raise InputError(f"{where}: freq must be positive, got {freq}")
        if tag is not None and (not isinstance(tag, str) or not _RE_TAG.fullmatch(tag)):
            raise InputError(f"{where}: tag must be 1-8 ASCII letters (a jieba POS tag), got {tag!r}")
        if freq is None:
            freq = max(DEFAULT_FREQ, self._backend.suggest_freq(norm))
        self._backend.add_word(norm, freq, tag)
        self._entries[norm] = (freq, tag)
        if record:
            self._user_entries.append((norm, freq, tag))
        return freq

    def _add_entries(self, entries: Iterable[tuple[str, int | None, str | None]], *, record: bool) -> None:
        for word, freq, tag in entries:
            self._add(word, freq, tag, record=record, where=f"dictionary word {word!r}")

    def load_userdict(self, path: str | os.PathLike[str]) -> int:
        """Load a dictionary file (format in the module docstring); returns the number of entries added.

        Raises FileNotFoundError if it does not exist, InputError naming file and line for a malformed line.
        """
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
        entries = parse_userdict(path)
        for word, freq, tag in entries:
            self._add(word, freq, tag, record=True, where=f"{path}: word {word!r}")
        return len(entries)

    # pickling rebuilds from configuration (backends hold native objects)
    def __getstate__(self) -> dict[str, Any]:
        return {
            "backend": self._requested_backend,
            "builtin_dict": self._builtin_dict,
            "quote_max_len": self._quote_max_len,
            "user_entries": list(self._user_entries),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            backend=state["backend"],
            builtin_dict=state["builtin_dict"],
            quote_max_len=state["quote_max_len"],
            words=state["user_entries"],
        )

    # -------------------------------------------------------------------- segmentation

    def _cut_norm(self, t: str) -> list[str]:
        """Tokens of an already normalised text (whitespace tokens included, so lengths add up to len(t)).

        Each protected span is replaced by one NUL character (normalised text never contains NUL or other
        control characters: they become spaces) and the text is cut in a single backend call: both backends
        emit a NUL as a token of its own and never join across it, so this equals cutting the pieces between
        protected spans one by one, without thousands of backend calls. The NUL tokens are then replaced by
        the protected tokens, in order, in place. A quoted name keeps its quotes in the text given to the
        backend (``“<NUL>”``): quotes, like NUL, are non-word characters that both backends emit alone and
        never join with anything, so they come back as the separate quote tokens we want.
        """
        parts = self._protect_split.split(t)  # [gap, span, gap, span, ..., gap]
        if len(parts) == 1:
            return self._backend.cut(t)
        marked, spans = _mark_spans(parts)
        toks = self._backend.cut(marked)
        index = toks.index
        i = -1
        for p in spans:
            i = index("\x00", i + 1)
            toks[i] = p
        return toks

    def cut(self, text: str) -> list[str]:
        """Normalised tokens of ``text``, whitespace-only tokens dropped.

        Raises TypeError if ``text`` is not a str; ``""`` gives ``[]``.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        if not text:
            return []
        t = normalize_text(text)
        toks = self._cut_norm(t)
        if _RE_SPACE.search(t) is None:  # no whitespace, so no whitespace token to drop
            return toks
        return [w for w in toks if not w.isspace()]

    def tokenize(self, text: str) -> list[Token]:
        """Tokens of ``text`` with exact original slices and offsets (whitespace-only tokens dropped).

        ``Token.text == text[Token.start:Token.end]``; ``Token.norm`` is what :meth:`cut` returns, in the same
        order. Where NFKC expanded one character into several (``㎡`` -> ``m2``) tokens inside the expansion
        share that character's span. Raises TypeError if ``text`` is not a str.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        if not text:
            return []
        return self.tokenize_normalized(normalize(text))

    def tokenize_normalized(self, nz: Normalized) -> list[Token]:
        """:meth:`tokenize` for a text already normalised (``nz = yanreform.text.normalize(text)``): the
        tokens of ``nz.text`` with offsets into ``nz.original``. Normalises nothing again."""
        text = nz.original
        toks = self._cut_norm(nz.text)
        if not toks:
            return []
        ends = list(accumulate(map(len, toks)))
        if ends[-1] != len(nz.text):  # pragma: no cover - would be a backend bug
            raise ModelError(
                f"{self.backend} tokens do not cover the text ({ends[-1:]} of {len(nz.text)} chars)"
            )
        starts = [0, *ends[:-1]]
        if _RE_SPACE.search(nz.text) is not None:
            keep = [not w.isspace() for w in toks]
            toks = list(compress(toks, keep))
            starts = list(compress(starts, keep))
            ends = list(compress(ends, keep))
        if not toks:
            return []
        if not nz.identity:
            starts, ends = nz.spans(starts, ends)
        new = tuple.__new__  # Token(...) goes through a Python-level __new__; this is ~30% faster
        if nz.text == text:  # nothing normalised (plain simplified text): share strings, halve allocations
            return [new(Token, (w, w, s, e)) for w, s, e in zip(toks, starts, ends, strict=True)]
        return [new(Token, (text[s:e], w, s, e)) for w, s, e in zip(toks, starts, ends, strict=True)]

    def cut_normalized(self, norm_text: str) -> list[str]:
        """:meth:`cut` for a text that is already normalised (``normalize_text`` output): no second pass."""
        toks = self._cut_norm(norm_text) if norm_text else []
        if _RE_SPACE.search(norm_text) is None:
            return toks
        return [w for w in toks if not w.isspace()]

    def cut_many_normalized(self, norm_texts: Sequence[str], *, batch_size: int = 256) -> list[list[str]]:
        """:meth:`cut_many` for already normalised texts (in process, in batches): no second normalisation."""
        check_batch_size(batch_size)
        out: list[list[str]] = []
        for i in range(0, len(norm_texts), batch_size):
            out += self._cut_batch(list(norm_texts[i : i + batch_size]), normalized=True)
        return out

    def segmentation(self, norm_text: str) -> list[str]:
        """The backend tokens of a normalised text, whitespace tokens included: their lengths add up to
        ``len(norm_text)``, so cumulative lengths are token boundaries in the normalised text."""
        return self._cut_norm(norm_text) if norm_text else []

    def normalize(self, text: str) -> Normalized:
        """The :func:`yanreform.text.normalize` result this segmenter cuts (for callers mapping offsets)."""
        return normalize(text)

    def cut_many(self, texts: Iterable[str], *, n_jobs: int = 1, batch_size: int = 256) -> list[list[str]]:
        """:meth:`cut` for many texts: one token list per input, in input order (``[]`` for no input).

        ``n_jobs > 1`` (or ``-1`` for all CPUs) cuts batches of ``batch_size`` texts in worker processes, each
        rebuilding this segmenter once (worth it only for large batches: start-up is about a second per
        worker). Raises TypeError if ``texts`` is a str or None or holds a non-str (named by index).
        """
        if texts is None or isinstance(texts, str | bytes):
            raise TypeError(f"texts must be an iterable of str, not {type(texts).__name__}")
        items = list(texts)
        if not all(map(isinstance, items, repeat(str))):  # one C-level pass; name the culprit only on error
            i, t = next((i, t) for i, t in enumerate(items) if not isinstance(t, str))
            raise TypeError(f"texts[{i}] must be str, not {type(t).__name__}")
        if not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
            raise InputError(f"n_jobs must be a positive int or -1, got {n_jobs!r}")
        check_batch_size(batch_size)
        if n_jobs == -1:
            n_jobs = os.cpu_count() or 1
        out: list[list[str]] = []
        if n_jobs == 1 or len(items) <= batch_size:
            for i in range(0, len(items), batch_size):
                out += self._cut_batch(items[i : i + batch_size])
            return out
        from concurrent.futures import ProcessPoolExecutor

        batches = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
        with ProcessPoolExecutor(
            max_workers=min(n_jobs, len(batches)), initializer=_worker_init, initargs=(self.__getstate__(),)
        ) as ex:
            for res in ex.map(_worker_cut, batches):
                out += res
        return out

    def _cut_batch(self, texts: list[str], normalized: bool = False) -> list[list[str]]:
        """:meth:`cut` for a batch in one pass: the texts joined by newlines are normalised and cut together.

        Equivalent to cutting each text on its own because a newline is a hard boundary for every step: no
        normalisation rule, protected span or dictionary word crosses a line break, and both backends emit it
        as its own token. (A text ending in CR would pair with the separator into one CRLF token: such batches
        are cut text by text.) Saves the per-call overhead, which dominates for short texts with the fast
        backend. When no text holds a newline of its own (the usual case) the separators are found with the
        protected spans and given to the backend as NUL markers, so a single scan of the tokens restores the
        protected tokens and splits the texts; otherwise the separators are located through the offset map.
        """
        joined = "\n".join(texts)
        if len(texts) < 2 or ("\r" in joined and any(t.endswith("\r") for t in texts)):
            return [self.cut_normalized(t) if normalized else self.cut(t) for t in texts]
        if normalized:
            t, starts = joined, None
        else:
            t, starts, _ = _normalize_with_map(joined, want_map=True)
        n = len(texts)
        if t.count("\n") == n - 1:
            # Common case: the only newlines are the separators (no normalisation step makes or removes one).
            # They are split off with the protected spans and marked like them (NUL, a hard boundary for both
            # backends just as a newline is), so one scan of the tokens for markers both puts the protected
            # tokens back and finds where each text ends.
            marked, spans = _mark_spans(self._protect_split_nl.split(t))
            toks = self._backend.cut(marked)
            out = []
            index = toks.index
            i = -1
            pos = 0
            for p in spans:
                i = index("\x00", i + 1)
                if p == "\n":
                    out.append(toks[pos:i])
                    pos = i + 1
                else:
                    toks[i] = p
            out.append(toks[pos:])
            # Only texts with whitespace inside need their tokens filtered (a pass over tokens is not free):
            # find them with a few str.find scans for the only whitespace characters normalised text can hold.
            if any(c in t for c in _NORM_SPACES):
                line_ends = list(accumulate(len(x) + 1 for x in t.split("\n")))  # where text k+1 starts
                for c in _NORM_SPACES:
                    at = t.find(c)
                    while at >= 0:
                        k = bisect_right(line_ends, at)
                        out[k] = [w for w in out[k] if not w.isspace()]
                        at = t.find(c, line_ends[k])  # on to the next text
            return out
        toks = self._cut_norm(t)
        tok_ends = list(accumulate(map(len, toks)))
        # offsets of the separators in the original, then in the normalised text
        seps = list(accumulate(len(x) + 1 for x in texts[:-1]))
        seps = [s - 1 for s in seps]
        if starts is not None:
            seps = np.searchsorted(starts, seps).tolist()
        out = []
        prev = 0  # first token of the current text
        prev_c = 0  # its first character in t
        space = _RE_SPACE.search
        for sep in [*seps, len(t)]:
            j = bisect_right(tok_ends, sep) if sep < len(t) else len(toks)  # the separator token
            if j < len(toks) and toks[j] != "\n":  # pragma: no cover - invariant failed: be correct, not fast
                return [self.cut_normalized(x) if normalized else self.cut(x) for x in texts]
            # only texts with whitespace inside need their tokens filtered (a pass over tokens is not free)
            out.append(
                toks[prev:j]
                if space(t, prev_c, sep) is None
                else [w for w in toks[prev:j] if not w.isspace()]
            )
            prev = j + 1
            prev_c = sep + 1
        return out

    # -------------------------------------------------------------------- keywords

    @overload
    def keywords(self, text_or_texts: str, k: int = 10) -> list[tuple[str, float]]: ...  # type: ignore[overload-overlap]
    @overload
    def keywords(self, text_or_texts: Sequence[str], k: int = 10) -> list[list[tuple[str, float]]]: ...

    def keywords(
        self, text_or_texts: str | Sequence[str], k: int = 10
    ) -> list[tuple[str, float]] | list[list[tuple[str, float]]]:
        """Top-``k`` TF-IDF keywords ``(word, score)``, best first, for a text (or a list per text).

        Score = (count / candidate count) * IDF, where IDF is jieba's general table overlaid with the domain
        table ``models/idf.txt`` (domain terms weigh more, reform boilerplate less; unknown words get the
        lower-quartile IDF). Candidates exclude stopwords (``models/stopwords.txt``), single characters,
        punctuation, numbers, dates and counts. Ties keep first-occurrence order. Raises TypeError for a
        non-str text, InputError if ``k`` is not a positive int.
        """
        check_k(k)
        if isinstance(text_or_texts, str):
            return self._keywords(text_or_texts, k)
        if text_or_texts is None or isinstance(text_or_texts, bytes):
            raise TypeError(f"text_or_texts must be str or a list of str, not {type(text_or_texts).__name__}")
        items = list(text_or_texts)
        for i, t in enumerate(items):
            if not isinstance(t, str):
                raise TypeError(f"text_or_texts[{i}] must be str, not {type(t).__name__}")
        return [self._keywords(toks, k) for toks in self.cut_many(items)]

    def _keywords(self, text_or_tokens: str | list[str], k: int) -> list[tuple[str, float]]:
        toks = self.cut(text_or_tokens) if isinstance(text_or_tokens, str) else text_or_tokens
        cands = list(keyword_candidates(toks))
        if not cands:
            return []
        idf, default = domain_idf()
        counts = Counter(cands)  # insertion order = first occurrence, so sorted() keeps ties in text order
        total = len(cands)
        scored = [(w, c / total * idf.get(w, default)) for w, c in counts.items()]
        scored.sort(key=lambda x: -x[1])
        return [(w, float(s)) for w, s in scored[:k]]
