"""The persistent embedding cache: (model id, prompt, text) -> float32 vector, in one SQLite file.

Explicit, never implied: an :class:`~yanreform.embed.Encoder` uses it only when made with ``cache=True`` (the
location ``cache_dir()/embeddings/``) or ``cache=<path>``. The command line and ``Tagger.default()`` turn it
on, so re-tagging or re-indexing the same texts encodes nothing; ``YANREFORM_CACHE=0`` turns it off there.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .._resources import cache_dir

__all__ = ["EmbeddingCache", "text_hash"]

log = logging.getLogger("yanreform.embed")


def text_hash(text: str) -> bytes:
    """sha1 of the UTF-8 text (the text part of a cache key)."""
    return hashlib.sha1(text.encode("utf-8")).digest()


class EmbeddingCache:
    """A persistent (model id, prompt, text sha1) -> float32 vector store in one SQLite file.

    WAL journaling lets several processes read while one writes; writers wait (busy timeout) instead of
    failing.
    A cache that cannot be opened or written (read-only disk, corrupt file) logs one warning and turns itself
    off: the cache only ever saves work, it never makes ``encode`` fail.
    """

    FILENAME = "embeddings.sqlite3"
    _CHUNK = 500  # SQLite host-parameter budget per query

    def __init__(self, path: str | os.PathLike[str] | None = None):
        if path is None:
            p = cache_dir() / "embeddings" / self.FILENAME
        else:
            p = Path(path).expanduser()
            if p.is_dir() or str(path).endswith(("/", os.sep)):
                p = p / self.FILENAME
        self.path = p
        self.enabled = True
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None

    # connection per process (a forked child must not reuse its parent's handle)
    def _connect(self) -> sqlite3.Connection | None:
        if not self.enabled:
            return None
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                str(self.path), timeout=60.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA busy_timeout=60000")
            with contextlib.suppress(sqlite3.OperationalError):
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS embeddings ("
                " key BLOB PRIMARY KEY,"  # sha1(model id \0 prompt \0 text sha1)
                " model TEXT NOT NULL,"
                " dim INTEGER NOT NULL,"
                " vec BLOB NOT NULL"
                ") WITHOUT ROWID"
            )
        except (sqlite3.Error, OSError) as exc:
            self._disable(exc)
            return None
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _disable(self, exc: BaseException) -> None:
        log.warning("embedding cache %s disabled: %s", self.path, exc)
        self.enabled = False
        self._conn = None

    @staticmethod
    def key(model_id: str, prompt: str | None, text_hash: bytes) -> bytes:
        h = hashlib.sha1()
        h.update(model_id.encode("utf-8") + b"\0" + (prompt or "").encode("utf-8") + b"\0")
        h.update(text_hash)
        return h.digest()

    def get_many(self, keys: Sequence[bytes], dim: int | None = None) -> dict[bytes, np.ndarray]:
        """Vectors for those of ``keys`` that are stored (and have dimension ``dim`` when given)."""
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            conn = self._connect()
            if conn is None or not keys:
                return found
            try:
                for i in range(0, len(keys), self._CHUNK):
                    chunk = list(keys[i : i + self._CHUNK])
                    qs = ",".join("?" * len(chunk))
                    for key, d, blob in conn.execute(
                        f"SELECT key, dim, vec FROM embeddings WHERE key IN ({qs})", chunk
                    ):
                        if (dim is None or d == dim) and len(blob) == 4 * d:
                            found[bytes(key)] = np.frombuffer(blob, dtype="<f4").astype(np.float32)
            except sqlite3.Error as exc:
                self._disable(exc)
        return found

    def put_many(self, model_id: str, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        rows = [
            (k, model_id, int(v.shape[-1]), np.ascontiguousarray(v, dtype="<f4").tobytes()) for k, v in items
        ]
        if not rows:
            return
        with self._lock:
            conn = self._connect()
            if conn is None:
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "INSERT OR REPLACE INTO embeddings(key, model, dim, vec) VALUES (?,?,?,?)", rows
                )
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                self._disable(exc)

    def count(self, model_id: str | None = None) -> int:
        with self._lock:
            conn = self._connect()
            if conn is None:
                return 0
            if model_id is None:
                return conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
            return conn.execute("SELECT COUNT(*) FROM embeddings WHERE model = ?", (model_id,)).fetchone()[0]

    def clear(self, model_id: str | None = None) -> None:
        with self._lock:
            conn = self._connect()
            if conn is None:
                return
            if model_id is None:
                conn.execute("DELETE FROM embeddings")
            else:
                conn.execute("DELETE FROM embeddings WHERE model = ?", (model_id,))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                with contextlib.suppress(sqlite3.Error):
                    self._conn.close()
            self._conn = None

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.path)!r}{'' if self.enabled else ', disabled'})"
