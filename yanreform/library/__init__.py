"""The case library: every year's collections in one embedded SQLite database.

:class:`Library` imports collections (a year each), keeps cases, initiatives with offsets, tags with evidence
and the model that made them, and embeddings; it searches them, finds re-submissions and near-duplicates
(:mod:`.dupes`), counts categories by year and kind of agency (:mod:`.trends`) and exports them
(:mod:`.export`). Records returned: :class:`Collection`, :class:`LibraryCase`, :class:`LibraryInitiative`,
:class:`LibraryHit`, :class:`NearDuplicate`, :class:`SharedSpan`, :class:`RetagStats`.
"""

from .core import Library
from .records import (
    Collection,
    LibraryCase,
    LibraryHit,
    LibraryInitiative,
    NearDuplicate,
    RetagStats,
    SharedSpan,
)
from .schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "Collection",
    "Library",
    "LibraryCase",
    "LibraryHit",
    "LibraryInitiative",
    "NearDuplicate",
    "RetagStats",
    "SharedSpan",
]
