"""Encoding in local worker processes: :class:`PoolEncoder`, what ``yanreform index build --workers N`` uses.

A :class:`PoolEncoder` is an encoder (the :class:`~yanreform.text.analysis.Embedder` interface: ``model_id``,
``dim``, ``encode``) whose every ``encode`` call is cut into chunks spread over N ``spawn`` worker processes,
each holding the shared default encoder (loaded once per process, its embedding cache on unless
``YANREFORM_CACHE=0``; torch limited to ``cores // N`` threads per worker unless ``OMP_NUM_THREADS`` is set).
Rows come back in input order, so anything built on an encoder — ``CaseIndex.from_texts(...,
encoder=PoolEncoder(2))``, a tagger — works unchanged. The vectors are the default encoder's (equal up to
float rounding: a different thread count can change the last bits of a sum).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from types import TracebackType

import numpy as np

from ..errors import InputError, check_batch_size
from .parallel import _init_worker, _stop, _threads_per_worker

__all__ = ["PoolEncoder"]

log = logging.getLogger("yanreform")


def _encoder_info() -> tuple[str, int, str | None]:
    from .._defaults import default_encoder

    enc = default_encoder()
    return enc.model_id, int(enc.dim), enc.prompt


def _encode_chunk(texts: list[str]) -> np.ndarray:
    from .._defaults import default_encoder

    return np.asarray(default_encoder().encode(texts), dtype=np.float32)


class PoolEncoder:
    """The default encoder in ``workers`` local processes (see the module docstring).

    Args:
        workers: worker processes (>= 1).
        chunk_size: texts per task (default 64): small enough to keep every worker busy, large enough for
            full model batches.

    Use it as a context manager, or call :meth:`close`, to end the workers. Raises InputError for bad
    arguments; ModelError (from a worker) when the default model cannot be loaded.
    """

    def __init__(self, workers: int, *, chunk_size: int = 64) -> None:
        if workers < 1:
            raise InputError(f"workers must be at least 1, not {workers}")
        self.workers = workers
        self.chunk_size = check_batch_size(chunk_size, "chunk_size")
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=_init_worker,
            initargs=(_threads_per_worker(workers),),
        )
        try:
            self.model_id, self._dim, self.prompt = self._pool.submit(_encoder_info).result()
        except BaseException:
            _stop(self._pool)
            raise
        self.n_calls = 0

    @property
    def dim(self) -> int:
        """Embedding dimension of the default model."""
        return self._dim

    def encode(
        self, texts: str | Iterable[str], *, batch_size: int | None = None, show_progress: bool | None = None
    ) -> np.ndarray:
        """Embed ``texts`` like :meth:`yanreform.embed.Encoder.encode` (an (n, dim) float32 array of
        L2-normalised rows, or (dim,) for one str), the chunks encoded in parallel. ``batch_size`` and
        ``show_progress`` are accepted for compatibility (the workers use their encoder's)."""
        single = isinstance(texts, str)
        items = [texts] if isinstance(texts, str) else list(texts)
        for i, t in enumerate(items):
            if not isinstance(t, str):
                raise TypeError(f"encode(texts): texts[{i}] is {type(t).__name__}, expected str")
        self.n_calls += 1
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        step = self.chunk_size
        futures = [self._pool.submit(_encode_chunk, items[s : s + step]) for s in range(0, len(items), step)]
        try:
            out = np.vstack([f.result() for f in futures])
        except BaseException:
            for f in futures:
                f.cancel()
            raise
        return out[0] if single else out

    def close(self) -> None:
        """End the worker processes."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> PoolEncoder:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None:
            _stop(self._pool)
        else:
            self.close()

    def __repr__(self) -> str:
        return f"PoolEncoder({self.workers} workers, model {self.model_id!r})"
