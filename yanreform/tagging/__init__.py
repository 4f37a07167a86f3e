"""Reform-category tagging: the taxonomy, the seed lexicon, the tagger, its result records and evaluation.

:class:`Taxonomy` (:mod:`.taxonomy`) defines the categories; :class:`Lexicon` (:mod:`.lexicon`) finds their
seeds; :class:`Tagger` (:mod:`.tagger`) scores passages with the pair model of :mod:`.features` and returns
:class:`Tag` records (:mod:`.records`); :mod:`.evaluate` measures it; :mod:`.persist` saves it.
"""

from .evaluate import EvalReport, evaluate_sets, expected_calibration_error
from .lexicon import Lexicon, Match
from .records import CaseTags, CategorySummary, Evidence, Tag, TagList
from .tagger import Tagger
from .taxonomy import Category, Taxonomy

__all__ = [
    "CaseTags",
    "Category",
    "CategorySummary",
    "EvalReport",
    "Evidence",
    "Lexicon",
    "Match",
    "Tag",
    "TagList",
    "Tagger",
    "Taxonomy",
    "evaluate_sets",
    "expected_calibration_error",
]
