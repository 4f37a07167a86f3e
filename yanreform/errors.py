"""One exception family for the whole library, and the validators every module shares.

Every error raised on purpose by yanreform derives from :class:`YanreformError`; each subclass also derives
from the builtin a caller would naturally catch (``ValueError``, ``KeyError``, ``RuntimeError``), so
``except ValueError`` keeps working for code that does not know about yanreform. The same mistake raises the
same type everywhere: a bad ``k`` or ``batch_size`` is an :class:`InputError` from every function that takes
one (through :func:`check_k` / :func:`check_batch_size`), an unknown case id is an :class:`UnknownCaseError`
from a corpus, an index or a library.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any


class YanreformError(Exception):
    """Base class of all errors raised by yanreform."""


class ParseError(YanreformError, ValueError):
    """A collection text could not be decoded or has no recognisable case structure."""


class TaxonomyError(YanreformError, ValueError):
    """A taxonomy file is malformed (message names the file, line and field)."""


class InputError(YanreformError, ValueError):
    """A user-supplied input (file, column, record, argument) cannot be used; the message says what, where."""


class _KeyMessage:
    # KeyError's str() would repr() the message (quotes around it); keep the plain text
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""  # type: ignore[attr-defined]


class UnknownCaseError(_KeyMessage, InputError, KeyError):
    """A case id not in the corpus, index or library (an InputError, so a ValueError, and a KeyError)."""


class MissingColumnError(_KeyMessage, InputError, KeyError):
    """A column or field named by the caller is absent (an InputError and a KeyError, like pandas raises)."""


class FormatError(YanreformError, ValueError):
    """A saved artefact (index, tagger head, library) is corrupt, incomplete or of an unknown version."""


class IndexFormatError(FormatError):
    """A saved case index is corrupt, of an unknown version, or made with another model."""


class TaggerFormatError(FormatError):
    """A saved tagger (``tagger.json`` + ``tagger.npz``) is corrupt, of an unknown version or inconsistent."""


class LibraryFormatError(FormatError):
    """A case library file is not a yanreform library, is damaged, or was written by a newer yanreform."""


class LibraryBusyError(YanreformError, TimeoutError):
    """Another process held a case library's write lock for longer than the wait allowed."""


class ModelError(YanreformError, RuntimeError):
    """A model could not be built or loaded, or does not match what a saved artefact expects."""


def check_k(k: Any, name: str = "k") -> int:
    """``k`` as an int >= 1; InputError (naming ``name``) for anything else, bools included."""
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
        raise InputError(f"{name} must be a positive integer, got {k!r}")
    return int(k)


def check_batch_size(batch_size: Any, name: str = "batch_size") -> int:
    """``batch_size`` as an int >= 1; InputError (naming ``name``) for anything else, bools included."""
    return check_k(batch_size, name)


def check_fraction(value: Any, name: str, *, upper: float | None = 1.0) -> float:
    """A number in ``[0, upper]`` (``upper=None``: any number >= 0) as a float; InputError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not (v >= 0.0 and (upper is None or v <= upper)):
        rng = f"[0, {upper:g}]" if upper is not None else ">= 0"
        raise InputError(f"{name} must be in {rng}, got {value!r}")
    return v


__all__ = [
    "FormatError",
    "IndexFormatError",
    "InputError",
    "LibraryBusyError",
    "LibraryFormatError",
    "MissingColumnError",
    "ModelError",
    "ParseError",
    "TaggerFormatError",
    "TaxonomyError",
    "UnknownCaseError",
    "YanreformError",
    "check_batch_size",
    "check_fraction",
    "check_k",
]
