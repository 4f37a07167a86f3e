"""Text analysis: normalisation with offset maps, domain segmentation, keywords, and the one-pass Analysis.

``normalize`` / ``normalize_text`` (:mod:`.normalize`), :class:`Segmenter` (:mod:`.segment`), keyword
statistics (:mod:`.keywords`) and :class:`Analysis` / :class:`Analyzer` (:mod:`.analysis`): every text is
normalised once, and its tokens, lexicon matches and embedding are kept with it.
"""

from .analysis import Analysis, Analyzer
from .normalize import Normalized, normalize, normalize_text

__all__ = ["Analysis", "Analyzer", "Normalized", "normalize", "normalize_text"]
