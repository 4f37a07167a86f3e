"""The record of the batch engine: one input record to tag, with where it came from.

:class:`Record` is what every reader yields and what the batch engine consumes: an id, the text (None when the
record is bad), ``where`` (``file:line``), an ``error`` message for a bad record, ``meta`` (collection fields
carried to the output) and ``fields`` (every field of the input row or object, for callers that keep input
columns or read labels from them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["META_FIELDS", "Record"]

META_FIELDS: tuple[str, ...] = ("case_id", "agency", "title", "heading")


@dataclass(slots=True)
class Record:
    """One record to tag.

    ``id``: as given in the input (str, or a JSON number) or generated ``<file>:<line>``; ``text``: the exact
    text to tag, None when the record is bad; ``where``: ``<file>:<line>`` of the record; ``error``: what is
    wrong with the record, or None; ``meta``: extra fields carried to the output (collections: case_id,
    agency, title, heading); ``fields``: every field of the input object or row, as read.
    """

    id: Any
    text: str | None
    where: str
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """True when the record can be tagged."""
        return self.error is None and self.text is not None
