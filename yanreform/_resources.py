"""Locate the data that ships with yanreform (``models/``, ``corpus/``) and the user cache directory.

In a source checkout or an editable install the data sits at the repository root beside the package; a wheel
carries it inside the package as ``yanreform/_data/``. Everything that reads shipped data goes through here.
"""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _data_root(name: str) -> Path:
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"yanreform data folder {name!r} not found (looked in {_PKG / '_data'} and {_PKG.parent}); "
        "reinstall the package"
    )


def models_dir() -> Path:
    """The folder of shipped model assets (taxonomy, dictionaries, trained heads)."""
    return _data_root("models")


def corpus_dir() -> Path:
    """The folder of bundled collections and their labels."""
    return _data_root("corpus")


def model_file(name: str) -> Path:
    """Path of a shipped model asset, e.g. ``model_file("userdict.txt")``.

    Raises FileNotFoundError if absent.
    """
    p = models_dir() / name
    if not p.exists():
        raise FileNotFoundError(f"shipped model asset not found: {p}")
    return p


def corpus_file(name: str) -> Path:
    """Path of a bundled corpus file; raises FileNotFoundError if absent."""
    p = corpus_dir() / name
    if not p.exists():
        raise FileNotFoundError(f"bundled corpus file not found: {p}")
    return p


def cache_dir() -> Path:
    """The user cache directory: ``$YANREFORM_HOME`` or ``~/.cache/yanreform``.

    Only computes the path: whoever writes there creates what it needs (:func:`ensure_cache_dir`). Raises
    InputError, naming the variable, when ``YANREFORM_HOME`` points at something that is not a folder.
    """
    root = os.environ.get("YANREFORM_HOME")
    p = Path(root).expanduser() if root else Path.home() / ".cache" / "yanreform"
    if p.exists() and not p.is_dir():
        from .errors import InputError

        where = f"YANREFORM_HOME={root}" if root else str(p)
        raise InputError(f"{where} is a file, not a folder: point YANREFORM_HOME at a folder to use")
    return p


def ensure_cache_dir(*parts: str) -> Path:
    """``cache_dir()/parts...``, created (with parents) if absent; InputError naming YANREFORM_HOME if that
    cannot be done."""
    p = cache_dir().joinpath(*parts)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from .errors import InputError

        raise InputError(
            f"cannot create {p} ({exc.strerror or exc}); set YANREFORM_HOME to a writable folder"
        ) from None
    return p
