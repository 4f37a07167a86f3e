"""The related-case index: :class:`CaseIndex` and its parts.

:mod:`.config` (options), :mod:`.lexical` (TF-IDF side), :mod:`.fusion` (z-scores, passage mix, fused score),
:mod:`.explain` (shared terms), :mod:`.records` (Hit, Explanation), :mod:`.store` (save/load),
:mod:`.case_index` (the class composing them).
"""

from .case_index import CaseIndex
from .config import IndexConfig
from .records import Explanation, Hit, HitList

__all__ = ["CaseIndex", "Explanation", "Hit", "HitList", "IndexConfig"]
