"""One exception family for the whole library.

Every error raised on purpose by yanreform derives from :class:`YanreformError`; each subclass also
derives from the builtin a caller would naturally catch (``ValueError``, ``RuntimeError``, ...), so
``except ValueError`` keeps working for code that does not know about yanreform.
"""

from __future__ import annotations


class YanreformError(Exception):
    """Base class of all errors raised by yanreform."""


class ParseError(YanreformError, ValueError):
    """A collection text could not be decoded or has no recognisable case structure."""


class TaxonomyError(YanreformError, ValueError):
    """A taxonomy file is malformed (message names the file, line and field)."""


class ModelError(YanreformError, RuntimeError):
    """A model could not be built, loaded, or does not match what a saved artefact expects."""


class IndexFormatError(YanreformError, ValueError):
    """A saved index or tagger is corrupt, of an unknown version, or made with another model."""


class InputError(YanreformError, ValueError):
    """A user-supplied input (file, column, record) cannot be used; the message says what and where."""


__all__ = [
    "IndexFormatError",
    "InputError",
    "ModelError",
    "ParseError",
    "TaxonomyError",
    "YanreformError",
]
