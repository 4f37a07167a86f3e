"""One analysis per text: the value every consumer (tagger, case index, batch engine) reads instead of
redoing.

An :class:`Analysis` holds the text as given, its normalised analysis form with the offset map back
(:func:`yanreform.text.normalize`, computed once when the analysis is made), and, filled in lazily and kept,
the segmentation (per segmenter), the lexicon matches (per lexicon) and the embedding (per embedding model).
An :class:`Analyzer` owns the injected :class:`~yanreform.text.segment.Segmenter` and encoder and makes and
fills analyses in batches: ``analyze_many`` normalises each text once; ``embed`` encodes, in one encoder call,
the normalised texts of the analyses that have no embedding from that encoder's model yet.

Public functions keep taking plain strings; they pass them through ``Analyzer.analyze_many``, which returns an
:class:`Analysis` unchanged, so a caller that already holds analyses (the case index asking the tagger for
category profiles of its query) hands them on and nothing is normalised or encoded twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np

from ..errors import ModelError, check_batch_size
from .normalize import Normalized, normalize

if TYPE_CHECKING:
    from .segment import Segmenter, Token

__all__ = ["Analysis", "Analyzer", "Embedder", "TextLike", "analyses_of"]

M = TypeVar("M")


class Embedder(Protocol):
    """What an analyser needs of an encoder (:class:`yanreform.embed.Encoder` has it)."""

    model_id: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str], *, batch_size: int | None = ...) -> np.ndarray: ...


class Analysis:
    """A text analysed once. Make one with :meth:`Analyzer.analyze` (or ``Analysis.of(text)``).

    Attributes:
        original: the text as given (never altered).
        normalized: its :class:`~yanreform.text.normalize.Normalized` form (``.text`` and the offset map).
    """

    __slots__ = ("_embeddings", "_memo", "normalized", "original")

    def __init__(self, normalized: Normalized) -> None:
        self.normalized = normalized
        self.original = normalized.original
        self._embeddings: dict[str, np.ndarray] = {}
        self._memo: dict[tuple[str, int], Any] = {}

    @classmethod
    def of(cls, text: str) -> Analysis:
        """Normalise ``text`` (TypeError if it is not a str)."""
        return cls(normalize(text))

    @property
    def text(self) -> str:
        """The normalised analysis form."""
        return self.normalized.text

    @property
    def empty(self) -> bool:
        """True when the text holds nothing but whitespace."""
        return not self.normalized.text.strip()

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of :attr:`text` to the original text."""
        return self.normalized.span(start, end)

    def memo(self, kind: str, owner: object, make: Callable[[], M]) -> M:
        """``make()`` computed once per (kind, owner object) and kept with this analysis (tokens per
        segmenter, matches per lexicon, ...)."""
        key = (kind, id(owner))
        try:
            return self._memo[key][1]
        except KeyError:
            value = make()
            # the owner is kept alive with the value so its id cannot be reused while the entry exists
            self._memo[key] = (owner, value)
            return value

    def segmentation(self, segmenter: Segmenter) -> list[str]:
        """The segmenter's tokens of :attr:`text`, whitespace tokens included (lengths add up to
        ``len(text)``)."""
        return self.memo("segmentation", segmenter, lambda: segmenter.segmentation(self.text))

    def words(self, segmenter: Segmenter) -> list[str]:
        """The normalised tokens (what ``segmenter.cut(original)`` returns: whitespace tokens dropped)."""
        return self.memo(
            "words", segmenter, lambda: [w for w in self.segmentation(segmenter) if not w.isspace()]
        )

    def boundaries(self, segmenter: Segmenter) -> frozenset[int]:
        """Token boundaries in :attr:`text` (0 and ``len(text)`` included)."""

        def make() -> frozenset[int]:
            return frozenset([0, *accumulate(map(len, self.segmentation(segmenter)))])

        return self.memo("boundaries", segmenter, make)

    def tokens(self, segmenter: Segmenter) -> list[Token]:
        """:class:`~yanreform.text.segment.Token` s with offsets into the original text."""
        return self.memo("tokens", segmenter, lambda: segmenter.tokenize_normalized(self.normalized))

    def embedding(self, model_id: str) -> np.ndarray | None:
        """The embedding made with the model ``model_id``, or None when none was made yet."""
        return self._embeddings.get(model_id)

    def set_embedding(self, model_id: str, vector: np.ndarray) -> None:
        """Store the embedding of :attr:`text` made with ``model_id`` (float32 (d,))."""
        self._embeddings[model_id] = vector

    def __repr__(self) -> str:
        t = self.original if len(self.original) <= 24 else self.original[:23] + "…"
        return f"Analysis({t!r}, embeddings={sorted(self._embeddings)})"


TextLike = str | Analysis


def analyses_of(texts: Iterable[TextLike], name: str = "texts") -> list[Analysis]:
    """One :class:`Analysis` per item (made for a str, passed through for an Analysis).

    Raises TypeError naming the position of an item that is neither, and for a str or bytes ``texts``.
    """
    if isinstance(texts, str | bytes) or not isinstance(texts, Iterable):
        raise TypeError(f"{name} must be a sequence of str, got {type(texts).__name__}")
    out: list[Analysis] = []
    for i, t in enumerate(texts):
        if isinstance(t, Analysis):
            out.append(t)
        elif isinstance(t, str):
            out.append(Analysis(normalize(t)))
        else:
            raise TypeError(f"{name}[{i}] must be str, got {type(t).__name__}")
    return out


class Analyzer:
    """Makes and fills :class:`Analysis` values with its injected segmenter and encoder.

    Args:
        segmenter: used for tokens (None: analyses get no tokens from this analyser).
        encoder: used for embeddings (None: :meth:`embed` raises ModelError).
    """

    def __init__(self, *, segmenter: Segmenter | None = None, encoder: Embedder | None = None) -> None:
        self.segmenter = segmenter
        self.encoder = encoder

    def analyze(self, text: TextLike) -> Analysis:
        """The analysis of one text (an Analysis is returned as it is)."""
        return self.analyze_many([text])[0]

    def analyze_many(self, texts: Iterable[TextLike]) -> list[Analysis]:
        """One analysis per text, in order; each str is normalised once."""
        return analyses_of(texts)

    def embed(
        self,
        analyses: Sequence[Analysis],
        *,
        batch_size: int = 256,
        show_progress: bool | None = None,
    ) -> np.ndarray:
        """Embeddings (n, d) float32 of the analyses' normalised texts with this analyser's encoder.

        Analyses that already hold an embedding of the encoder's model are not encoded again; the others are
        encoded in batches of ``batch_size`` (one encoder call each) and keep their embedding. Empty or
        whitespace-only texts get a zero row and are never encoded. Raises ModelError without an encoder or
        when the encoder returns the wrong shape, InputError for a bad ``batch_size``.
        """
        enc = self.encoder
        if enc is None:
            raise ModelError("this analyser has no encoder: pass encoder= to embed texts")
        step = check_batch_size(batch_size)
        mid = enc.model_id
        d = int(enc.dim)
        todo = [a for a in analyses if a.embedding(mid) is None and not a.empty]
        # the same text twice in a batch is encoded once (the encoder also dedupes; this keeps batches small)
        starts: Iterable[int] = range(0, len(todo), step)
        if show_progress:
            from tqdm import tqdm  # text bar on stderr; tqdm.auto warns in notebooks without ipywidgets

            starts = tqdm(starts, desc="encoding", unit="batch")
        for s in starts:
            chunk = todo[s : s + step]
            X = np.asarray(enc.encode([a.text for a in chunk]), dtype=np.float32)
            if X.ndim != 2 or X.shape != (len(chunk), d):
                raise ModelError(f"encoder returned shape {X.shape}, expected ({len(chunk)}, {d})")
            for a, row in zip(chunk, X, strict=True):
                a.set_embedding(mid, row)
        E = np.zeros((len(analyses), d), dtype=np.float32)
        for i, a in enumerate(analyses):
            v = a.embedding(mid)
            if v is not None:
                E[i] = v
        return E
