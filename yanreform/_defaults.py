"""The shared default components (encoder, segmenter, taxonomy, tagger), each built once per process.

Everything goes through :func:`shared`, one re-entrant lock around one dict, so two threads asking for the
same default get one object and a default that needs another (the tagger needs the encoder) builds it
through the same helper. Defaults that hold user-settable parameters (the tagger) are handed out as copies
of the shared one, whose heavy learned arrays are read-only and shared: ``Tagger.default().set_params(...)``
changes that caller's tagger only.

The embedding cache is on for the shared default encoder (the command line and ``Tagger.default()`` use it,
so re-running on the same texts encodes nothing) unless ``YANREFORM_CACHE`` is ``0``, ``false``, ``no`` or
``off``; ``Encoder.default(cache=False)`` gives the shared encoder without it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .embed.encoder import Encoder
    from .tagging.taxonomy import Taxonomy
    from .text.segment import Segmenter

T = TypeVar("T")

_LOCK = threading.RLock()
_SHARED: dict[Hashable, Any] = {}


def shared(key: Hashable, factory: Callable[[], T]) -> T:
    """The object stored under ``key``, made by ``factory()`` on first request (once per process)."""
    with _LOCK:
        if key not in _SHARED:
            _SHARED[key] = factory()
        value: T = _SHARED[key]
        return value


def cache_enabled(cache: bool | None = None) -> bool:
    """``cache`` if given, else what ``YANREFORM_CACHE`` says (on by default)."""
    if cache is not None:
        return bool(cache)
    return os.environ.get("YANREFORM_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def default_encoder(*, cache: bool | None = None) -> Encoder:
    """The shared embedded-model encoder (cache per :func:`cache_enabled`), on the backend and device that
    ``YANREFORM_BACKEND`` / ``YANREFORM_DEVICE`` name (default: torch, device chosen by
    sentence-transformers).

    One shared encoder per (cache, backend, device): changing the variables mid-process gives a new one.

    Raises:
        InputError: a variable holds an unknown value; ModelError: ``YANREFORM_DEVICE`` asks for CUDA that
            this machine does not have.
    """
    from .embed._runtime import resolve_backend, resolve_device
    from .embed.encoder import Encoder

    flag = cache_enabled(cache)
    backend = resolve_backend(None, default_model=True)
    device = resolve_device(None)
    return shared(
        ("encoder", flag, backend, device), lambda: Encoder(cache=flag, backend=backend, device=device)
    )


def default_segmenter() -> Segmenter:
    """The shared segmenter with the bundled domain dictionary."""
    from .text.segment import Segmenter

    return shared(("segmenter",), Segmenter)


def default_taxonomy() -> Taxonomy:
    """The shipped taxonomy (``models/taxonomy.toml``)."""
    from .tagging.taxonomy import Taxonomy

    return shared(("taxonomy",), Taxonomy.load)


def reset() -> None:
    """Forget every shared default (tests that change ``YANREFORM_HOME`` use it)."""
    with _LOCK:
        _SHARED.clear()
