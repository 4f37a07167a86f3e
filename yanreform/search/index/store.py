"""Saving and loading a :class:`~yanreform.search.index.CaseIndex` (a directory; no pickle).

Format version 2: ``index.json`` (format name and version, model id, dimension, config, ids, titles, texts,
passage ids, lexical vocabulary, category codes) + ``lexical.npz`` (term-count matrices as CSR arrays, passage
owners) + ``embeddings.npy`` and ``passage_embeddings.npy`` (float32, with a semantic side) +
``categories.npy`` and ``passage_categories.npy`` (float32 profiles, with a category side). All read with
``allow_pickle=False``. Version-1 directories (before the token and category options) load with their own
behaviour: character n-grams, no category side. A directory is written beside the target and renamed into
place, so a reader never sees a half-written index.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ...errors import IndexFormatError, InputError, ModelError
from .config import IndexConfig
from .lexical import LexicalStore, widen

if TYPE_CHECKING:
    from ...embed.encoder import Encoder
    from ...tagging.tagger import Tagger
    from ...text.segment import Segmenter
    from .case_index import CaseIndex

__all__ = ["FORMAT", "FORMAT_VERSION", "load", "save"]

FORMAT = "yanreform-case-index"
FORMAT_VERSION = 2  # 2: token/boilerplate/category options, category profiles; 1 is still read
_READ_VERSIONS = (1, 2)
_JSON = "index.json"
_LEX = "lexical.npz"
_EMB = "embeddings.npy"
_PEMB = "passage_embeddings.npy"
_CAT = "categories.npy"
_PCAT = "passage_categories.npy"


def save(index: CaseIndex, path: str | os.PathLike[str]) -> Path:
    """Write ``index`` to the directory ``path`` (created or replaced atomically); returns the path.

    Raises InputError if ``path`` is a file or a non-empty directory that is not a saved index.
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise InputError(f"{target} is a file; CaseIndex.save writes a directory")
    if target.exists() and not (target / _JSON).is_file() and any(target.iterdir()):
        raise InputError(f"{target} exists and is not a saved CaseIndex; refusing to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "model_id": index._model_id,
            "dim": None if index._case_emb is None else int(index._case_emb.shape[1]),
            "config": index.config.to_dict(),
            "ids": index._ids,
            "titles": index._titles,
            "texts": index._texts,
            "passage_ids": index._pids,
            "vocab": list(index._lex.vocab),
            "category_codes": index._category_codes if index._case_cat is not None else None,
        }
        (tmp / _JSON).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        v = len(index._lex.vocab)
        cc, pc = widen(index._case_counts, v), widen(index._pass_counts, v)
        np.savez(
            tmp / _LEX,
            case_data=cc.data, case_indices=cc.indices, case_indptr=cc.indptr,
            pass_data=pc.data, pass_indices=pc.indices, pass_indptr=pc.indptr,
            owner=index._owner,
        )  # fmt: skip
        if index._case_emb is not None and index._pass_emb is not None:
            np.save(tmp / _EMB, index._case_emb, allow_pickle=False)
            np.save(tmp / _PEMB, index._pass_emb, allow_pickle=False)
        if index._case_cat is not None and index._pass_cat is not None:
            np.save(tmp / _CAT, index._case_cat, allow_pickle=False)
            np.save(tmp / _PCAT, index._pass_cat, allow_pickle=False)
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _read_meta(root: Path) -> dict[str, Any]:
    jpath = root / _JSON
    try:
        meta = json.loads(jpath.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexFormatError(f"{root}: not a saved CaseIndex (no {_JSON})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexFormatError(f"{jpath}: corrupt index metadata ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise IndexFormatError(
            f"{jpath}: not a yanreform case index "
            f"(format {meta.get('format') if isinstance(meta, dict) else None!r})"
        )
    version = meta.get("version")
    if version not in _READ_VERSIONS:
        raise IndexFormatError(
            f"{jpath}: unknown index format version {version!r} (this yanreform reads versions "
            f"{', '.join(map(str, _READ_VERSIONS))}); rebuild the index or upgrade yanreform"
        )
    if "model_id" not in meta:
        raise IndexFormatError(f"{jpath}: missing field 'model_id' (null for an index without embeddings)")
    model_id = meta["model_id"]
    if model_id is not None and not isinstance(model_id, str):
        raise IndexFormatError(
            f"{jpath}: malformed field 'model_id' ({model_id!r}, expected a string or null)"
        )
    return meta


def load(
    cls: type[CaseIndex],
    path: str | os.PathLike[str],
    *,
    encoder: Encoder | None = None,
    segmenter: Segmenter | None = None,
    tagger: Tagger | None = None,
) -> CaseIndex:
    """Read an index written by :func:`save` (see :meth:`CaseIndex.load`)."""
    from .components import resolve_components

    root = Path(path)
    jpath = root / _JSON
    meta = _read_meta(root)
    version = meta["version"]
    model_id = meta["model_id"]
    if encoder is not None and model_id is not None and encoder.model_id != model_id:
        raise ModelError(
            f"{root}: index built with embedding model {model_id!r}, but the encoder given is "
            f"{encoder.model_id!r}; load it with that model or rebuild the index"
        )
    try:
        config = IndexConfig.from_dict(dict(meta["config"]), version=version)
        ids = [str(x) for x in meta["ids"]]
        titles = list(meta["titles"])
        texts = [str(x) for x in meta["texts"]]
        pids = [str(x) for x in meta["passage_ids"]]
        vocab = [str(x) for x in meta["vocab"]]
        codes = meta.get("category_codes")
        codes = None if codes is None else [str(x) for x in codes]
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexFormatError(f"{jpath}: missing or malformed field ({exc})") from None
    n, p, v = len(ids), len(pids), len(vocab)
    dim = meta.get("dim")
    if n and config.semantic_weight > 0 and (model_id is None or dim is None):
        # an index with a semantic side names its embedding model and dimension
        raise IndexFormatError(
            f"{jpath}: field 'model_id' or 'dim' is null but semantic_weight is {config.semantic_weight} "
            f"for {n} cases (an index with a semantic side names its embedding model)"
        )
    try:
        with np.load(root / _LEX, allow_pickle=False) as z:
            cc = sp.csr_matrix((z["case_data"], z["case_indices"], z["case_indptr"]), shape=(n, v))
            pc = sp.csr_matrix((z["pass_data"], z["pass_indices"], z["pass_indptr"]), shape=(p, v))
            owner = np.asarray(z["owner"], np.int64)
        # the saved matrices carry no shape: their widest column must be a term of the vocabulary
        cols = max((int(m.indices.max()) + 1 for m in (cc, pc) if m.indices.size), default=0)
        case_emb = pass_emb = None
        if config.semantic_weight > 0 and dim is not None:
            case_emb = np.load(root / _EMB, allow_pickle=False)
            pass_emb = np.load(root / _PEMB, allow_pickle=False)
        case_cat = pass_cat = None
        if config.category_weight > 0:
            if codes is None:
                raise IndexFormatError(f"{jpath}: category_weight > 0 but no category_codes")
            case_cat = np.load(root / _CAT, allow_pickle=False)
            pass_cat = np.load(root / _PCAT, allow_pickle=False)
    except FileNotFoundError as exc:
        raise IndexFormatError(f"{root}: incomplete index, missing {Path(exc.filename).name}") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise IndexFormatError(f"{root}: corrupt index arrays ({type(exc).__name__}: {exc})") from None
    bad = None
    if len(titles) != n or len(texts) != n or owner.shape != (p,):
        bad = "ids, titles, texts and passage owners disagree in length"
    elif cols > v:
        bad = f"index.json field 'vocab' has {v} terms but {_LEX} has {cols} columns"
    elif p and (owner.min() < 0 or owner.max() >= n or (np.diff(owner) < 0).any()):
        bad = "passage owners out of range"
    elif case_emb is not None and (
        case_emb.shape != (n, dim)
        or pass_emb is None
        or pass_emb.shape != (p, dim)
        or case_emb.dtype != np.float32
    ):
        pshape = None if pass_emb is None else pass_emb.shape
        bad = f"embedding shapes {case_emb.shape} / {pshape} != {n} cases, {p} passages, dim {dim}"
    elif case_cat is not None and (
        case_cat.shape != (n, len(codes or ()))
        or pass_cat is None
        or pass_cat.shape != (p, len(codes or ()))
        or case_cat.dtype != np.float32
    ):
        bad = f"category profiles {case_cat.shape} != {n} cases x {len(codes or ())} categories"
    elif len(set(ids)) != n:
        bad = "duplicate ids"
    if bad:
        raise IndexFormatError(f"{root}: inconsistent index ({bad})")
    if encoder is not None and dim is not None and encoder.dim != dim:
        raise ModelError(
            f"{root}: index dimension {dim} but encoder {encoder.model_id!r} gives {encoder.dim}"
        )
    if config.semantic_weight > 0 and encoder is None and model_id is not None:
        from ..._defaults import default_encoder

        encoder = default_encoder()
        if encoder.model_id != model_id:
            raise ModelError(
                f"{root}: index built with embedding model {model_id!r} but the default encoder is "
                f"{encoder.model_id!r}; pass encoder=Encoder(...) with that model to CaseIndex.load"
            )
    cfg, encoder, segmenter, tagger = resolve_components(config, encoder, segmenter, tagger)
    if tagger is not None and codes is not None and list(tagger.codes) != codes:
        raise ModelError(
            f"{root}: the tagger's categories {list(tagger.codes)} differ from the index's {codes}; use the "
            "tagger the index was built with (or rebuild the index)"
        )
    index = cls(config=cfg, encoder=encoder, segmenter=segmenter, tagger=tagger)
    index._model_id = model_id if case_emb is not None else None
    index._ids, index._titles, index._texts, index._pids = ids, titles, texts, pids
    index._pos = {x: i for i, x in enumerate(ids)}
    index._owner = owner
    index._lex = LexicalStore(
        cfg.ngram_max,
        vocab,
        segmenter=index._lex.segmenter,
        strip_boilerplate=index._lex.strip_boilerplate,
    )
    index._case_counts, index._pass_counts = cc, pc
    index._case_emb, index._pass_emb = case_emb, pass_emb
    index._case_cat, index._pass_cat = case_cat, pass_cat
    index._category_codes = codes
    return index
