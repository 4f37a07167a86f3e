"""Saving and loading a fitted tagger: ``tagger.json`` (metadata, taxonomy, parameters) + ``tagger.npz``
(arrays).

Format version 2 (the ridge-signal head; version 1 heads must be retrained). A full head holds the arrays of
:data:`ARRAYS`, a fast head (``features="fast"``, no encoder) those of :data:`FAST_ARRAYS`; the n-gram
vocabulary is a fixed-width unicode array in the npz (no pickle).

No pickle: the arrays are read with ``allow_pickle=False`` and checked against the sha256 recorded in the
JSON; every field is validated and a bad one raises :class:`~yanreform.errors.TaggerFormatError` naming the
file and field.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, TaggerFormatError, TaxonomyError
from .features import FAST_FEATURES, PAIR_FEATURES
from .ngrams import CharNgrams
from .taxonomy import Taxonomy

__all__ = [
    "ARRAYS",
    "FAST_ARRAYS",
    "FORMAT",
    "FORMAT_VERSION",
    "SavedTagger",
    "evidence_mode",
    "read",
    "restore",
    "state_of",
    "write",
]

FORMAT = "yanreform-tagger"
FORMAT_VERSION = 2
JSON_NAME = "tagger.json"
NPZ_NAME = "tagger.npz"
#: learned arrays of a fast head, stored as ``<name>`` in the npz and held as ``<name>_`` on the tagger
FAST_ARRAYS = ("coef", "intercept", "mean", "scale", "platt", "thresholds", "ngram_W", "ngram_mu")
#: learned arrays of a full head
ARRAYS = (
    *FAST_ARRAYS,
    "proto_mean",
    "proto_std",
    "proto_emb",
    "proto_cat",
    "outside_emb",
    "embedding_W",
    "embedding_mu",
)
_DTYPES = {"proto_cat": np.int64}


def evidence_mode(value: bool | str | None) -> str:
    """The canonical ``require_evidence`` mode (``"lexicon"``, ``"seed"`` or ``"none"``); ValueError
    otherwise."""
    if value is True or value == "lexicon":
        return "lexicon"
    if value is False or value in ("none", None):
        return "none"
    if value == "seed":
        return "seed"
    raise ValueError(f"require_evidence must be True/'lexicon', 'seed' or False/'none', got {value!r}")


@dataclass(frozen=True)
class SavedTagger:
    """What a saved tagger folder holds, validated."""

    taxonomy: Taxonomy
    features: str
    ngrams: CharNgrams
    model_id: str | None
    params: dict[str, Any]
    require_evidence: str
    proto_text: list[str]
    n_train: int
    info: dict[str, Any]
    arrays: dict[str, np.ndarray]


def write(path: str | Path, meta: dict[str, Any], arrays: dict[str, Any]) -> Path:
    """Write ``meta`` (without format fields) and ``arrays`` to the folder ``path``; returns the folder.

    The folder is created if needed; an existing one must be empty or already hold a saved tagger, whose two
    files are then replaced. Raises InputError for a file path or a non-empty folder that is not a tagger.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"{p} is a file; Tagger.save writes a folder")
    if p.exists() and not (p / JSON_NAME).is_file() and any(p.iterdir()):
        raise InputError(f"{p} exists and is not a saved tagger; refusing to write into it")
    p.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    contiguous: dict[str, Any] = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    np.savez_compressed(buf, **contiguous)
    blob = buf.getvalue()
    full = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        **meta,
        "npz_sha256": hashlib.sha256(blob).hexdigest(),
    }
    (p / NPZ_NAME).write_bytes(blob)
    (p / JSON_NAME).write_text(json.dumps(full, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return p


def read(path: str | Path, *, taxonomy: Taxonomy | None = None) -> SavedTagger:
    """Read and validate a saved tagger folder (or its ``tagger.json``).

    ``taxonomy``, if given, must equal the stored one (content hash). Raises TaggerFormatError for a missing,
    corrupt, inconsistent or unknown-version file, naming the file and field.
    """
    p = Path(path)
    if p.name == JSON_NAME:
        p = p.parent
    jpath, npath = p / JSON_NAME, p / NPZ_NAME
    if not jpath.is_file() or not npath.is_file():
        raise TaggerFormatError(f"{p}: not a saved tagger (expected {JSON_NAME} and {NPZ_NAME} in it)")
    try:
        meta = json.loads(jpath.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TaggerFormatError(f"{jpath}: corrupt tagger metadata ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise TaggerFormatError(f"{jpath}: field 'format' is not {FORMAT!r}; not a yanreform tagger")
    if meta.get("version") != FORMAT_VERSION:
        raise TaggerFormatError(
            f"{jpath}: field 'version' is {meta.get('version')!r}; this yanreform reads version "
            f"{FORMAT_VERSION} (a head saved by an older yanreform must be retrained: Tagger.fit)"
        )
    feats = meta.get("features")
    if feats not in ("full", "fast"):
        raise TaggerFormatError(f"{jpath}: field 'features' is {feats!r}, expected 'full' or 'fast'")
    fast = feats == "fast"
    want = list(FAST_FEATURES if fast else PAIR_FEATURES)
    if meta.get("pair_features") != want:
        raise TaggerFormatError(f"{jpath}: field 'pair_features' does not match this yanreform's features")
    blob = npath.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta.get("npz_sha256"):
        raise TaggerFormatError(f"{npath}: checksum does not match {jpath.name} (file corrupt or replaced)")
    names = FAST_ARRAYS if fast else ARRAYS
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            arrays = {name: z[name] for name in (*names, "ngram_idf", "ngram_vocab")}
    except (KeyError, ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise TaggerFormatError(f"{npath}: corrupt tagger arrays ({exc})") from exc
    for key in ("taxonomy", "params", "model_id", "proto_text", "dim", "ngram_max", "ngram_min_df"):
        if key not in meta:
            raise TaggerFormatError(f"{jpath}: missing field {key!r}")
    try:
        stored = Taxonomy.from_dict(meta["taxonomy"], source=f"{jpath} (stored taxonomy)")
    except TaxonomyError as exc:
        raise TaggerFormatError(f"{jpath}: field 'taxonomy' is malformed ({exc})") from exc
    params = meta["params"]
    if not isinstance(params, dict):
        raise TaggerFormatError(f"{jpath}: field 'params' is {type(params).__name__}, expected an object")
    model_id = meta["model_id"]
    if not fast and (not isinstance(model_id, str) or not model_id):
        raise TaggerFormatError(f"{jpath}: field 'model_id' is {model_id!r}, expected a non-empty string")
    if fast and model_id is not None:
        raise TaggerFormatError(f"{jpath}: field 'model_id' is {model_id!r}; a fast head has none (null)")
    proto_text = meta["proto_text"]
    if not isinstance(proto_text, list) or not all(isinstance(t, str) for t in proto_text):
        raise TaggerFormatError(f"{jpath}: field 'proto_text' is not a list of strings")
    d = meta["dim"]
    if not fast and (isinstance(d, bool) or not isinstance(d, int) or d < 1):
        raise TaggerFormatError(f"{jpath}: field 'dim' is {d!r}, expected an integer >= 1")
    n_train = meta.get("n_train", 0)
    if isinstance(n_train, bool) or not isinstance(n_train, int) or n_train < 0:
        raise TaggerFormatError(f"{jpath}: field 'n_train' is {n_train!r}, expected an integer >= 0")
    info = meta.get("info", {})
    if not isinstance(info, dict):
        raise TaggerFormatError(f"{jpath}: field 'info' is {type(info).__name__}, expected an object")
    try:
        require_evidence = evidence_mode(meta.get("require_evidence", "lexicon"))
    except ValueError as exc:
        raise TaggerFormatError(f"{jpath}: field 'require_evidence': {exc}") from exc
    if stored.hash != meta.get("taxonomy_hash"):
        raise TaggerFormatError(f"{jpath}: field 'taxonomy_hash' does not match the stored taxonomy")
    if taxonomy is not None and taxonomy.hash != stored.hash:
        raise TaggerFormatError(
            f"{jpath}: the tagger was trained with a different taxonomy (hash {stored.hash[:12]}, given "
            f"{taxonomy.hash[:12]} from {taxonomy.source}); retrain it or load without taxonomy="
        )
    k, f = len(stored), len(want)
    v = arrays["ngram_vocab"].shape[0] if arrays["ngram_vocab"].ndim == 1 else -1
    shapes = {
        "coef": (f,),
        "intercept": (k,),
        "mean": (f,),
        "scale": (f,),
        "platt": (k, 2),
        "thresholds": (k,),
        "ngram_W": (v, k),
        "ngram_mu": (k,),
        "ngram_idf": (v,),
    }
    if not fast:
        m = len(proto_text)
        shapes.update(
            {
                "proto_mean": (k,),
                "proto_std": (k,),
                "proto_emb": (m, d),
                "proto_cat": (m,),
                "outside_emb": (arrays["outside_emb"].shape[0], d),
                "embedding_W": (d, k),
                "embedding_mu": (k,),
            }
        )
    for name, shape in shapes.items():
        if arrays[name].shape != shape:
            got = arrays[name].shape
            raise TaggerFormatError(f"{npath}: array {name!r} has shape {got}, expected {shape}")
    if arrays["ngram_vocab"].dtype.kind != "U":
        raise TaggerFormatError(f"{npath}: array 'ngram_vocab' is not text")
    try:
        state = {"n_max": meta["ngram_max"], "min_df": meta["ngram_min_df"]}
        ngrams = CharNgrams.from_state(
            {**state, "vocab": arrays["ngram_vocab"].tolist()}, arrays["ngram_idf"]
        )
    except (TypeError, ValueError) as exc:
        raise TaggerFormatError(f"{jpath}: fields 'ngram_max'/'ngram_min_df' are malformed ({exc})") from exc
    typed = {}
    for name in names:
        a = arrays[name].astype(_DTYPES.get(name, np.float32))
        a.flags.writeable = False  # learned state is shared between copies of a tagger: never written
        typed[name] = a
    return SavedTagger(
        taxonomy=taxonomy or stored,
        features=feats,
        ngrams=ngrams,
        model_id=model_id,
        params=params,
        require_evidence=require_evidence,
        proto_text=proto_text,
        n_train=n_train,
        info=info,
        arrays=typed,
    )


def state_of(tagger: Any, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(meta, arrays)`` of a fitted tagger for :func:`write`: the JSON metadata (``params``: its
    constructor parameters without the components) and the learned arrays, the n-gram vocabulary included."""
    fast = tagger.fast
    meta = {
        "features": "fast" if fast else "full",
        "pair_features": list(FAST_FEATURES if fast else PAIR_FEATURES),
        "model_id": tagger.model_id_,
        "dim": None if fast else int(tagger.proto_emb_.shape[1]),
        "ngram_max": tagger.ngrams_.n_max,
        "ngram_min_df": tagger.ngrams_.min_df,
        "taxonomy_hash": tagger.taxonomy_.hash,
        "taxonomy": tagger.taxonomy_.to_dict(),
        "params": params,
        "require_evidence": tagger.require_evidence_,
        "uses_segmenter": tagger.segmenter is not None,
        "proto_text": [] if fast else tagger.proto_text_,
        "n_train": int(getattr(tagger, "n_train_", 0)),
        "info": getattr(tagger, "info_", {}),
    }
    arrays: dict[str, Any] = {name: getattr(tagger, name + "_") for name in (FAST_ARRAYS if fast else ARRAYS)}
    vocab = list(tagger.ngrams_.vocab)
    arrays["ngram_vocab"] = np.array(vocab, dtype=f"<U{max(1, max(map(len, vocab), default=1))}")
    arrays["ngram_idf"] = tagger.ngrams_.idf
    return meta, arrays


def restore(tagger: Any, saved: SavedTagger) -> None:
    """Set the learned state (attributes ending in ``_``) of a freshly constructed tagger from ``saved``."""
    tagger.taxonomy_ = saved.taxonomy
    tagger.ngrams_ = saved.ngrams
    tagger.model_id_ = saved.model_id
    tagger.require_evidence_ = saved.require_evidence
    tagger.proto_text_ = saved.proto_text
    tagger.n_train_ = saved.n_train
    tagger.info_ = saved.info
    for name, a in saved.arrays.items():
        setattr(tagger, name + "_", a)
