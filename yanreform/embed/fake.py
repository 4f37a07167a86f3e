"""A small deterministic sentence model with sentence-transformers' ``encode`` interface (no torch, no
weights).

:class:`HashingModel` embeds a text as a fixed random projection of its hashed character 1-2-grams (crc32, so
the same in every process and on every machine), L2-normalised. Texts that share wording get similar vectors,
which is all the fast test tier needs to exercise the tagger, the index and the batch engine in milliseconds;
it knows nothing of meaning. Wrap it in an encoder: ``Encoder(HashingModel())``.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["HashingModel"]


class HashingModel:
    """Hashed character n-grams -> random projection -> unit vector.

    Args:
        dim: embedding dimension.
        buckets: number of hash buckets for the n-grams.
        seed: seed of the projection matrix.
    """

    def __init__(self, dim: int = 64, *, buckets: int = 4096, seed: int = 0) -> None:
        if dim < 1 or buckets < 1:
            raise ValueError("dim and buckets must be positive")
        self.dim = dim
        self.buckets = buckets
        self.model_id = f"yanreform/hashing-model-d{dim}-b{buckets}-s{seed}"
        rng = np.random.default_rng(seed)
        self._proj = rng.standard_normal((buckets, dim)).astype(np.float32) / np.sqrt(dim)
        self.n_texts = 0  # texts encoded over the model's life (tests count model work with it)

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    def _row(self, text: str) -> np.ndarray:
        counts: dict[int, float] = {}
        for n in (1, 2):
            for i in range(len(text) - n + 1):
                h = zlib.crc32(text[i : i + n].encode("utf-8")) % self.buckets
                counts[h] = counts.get(h, 0.0) + 1.0
        if not counts:
            return np.zeros(self.dim, np.float32)
        idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
        w = np.log1p(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
        return (w @ self._proj[idx]).astype(np.float32)

    def encode(
        self,
        sentences: str | Sequence[str],
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
        convert_to_numpy: bool = True,
        normalize_embeddings: bool = False,
        prompt: str | None = None,
        **kwargs: Any,
    ) -> np.ndarray:
        """Embeddings (n, dim) float32 (or (dim,) for one str), as ``SentenceTransformer.encode`` returns."""
        single = isinstance(sentences, str)
        items: list[str] = [sentences] if isinstance(sentences, str) else list(sentences)
        out = np.zeros((len(items), self.dim), np.float32)
        for i, s in enumerate(items):
            out[i] = self._row((prompt or "") + s)
        if normalize_embeddings:
            n = np.linalg.norm(out, axis=1, keepdims=True)
            out = out / np.maximum(n, 1e-12)
        self.n_texts += len(items)
        return out[0] if single else out
