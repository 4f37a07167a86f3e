"""yanreform: analyse Chinese political-legal reform case collections.

Segment case text with domain terms intact, tag each initiative with reform categories (with evidence), and
recommend related model cases. Heavy dependencies (torch, sentence-transformers) load only when an encoder is
first used: ``import yanreform`` stays light.

Top-level API::

    load_corpus, parse_collection, read_collection   # corpus.py
    Segmenter                                        # segment.py
    Encoder                                          # embed.py
    topk                                             # vector.py (numpy only)
    CaseIndex                                        # index.py
    Tagger                                           # tagger.py
    tag_frame                                        # apps/frame.py (pandas extra)
    tag_documents, DocumentTags                      # tagging/documents.py: long texts in passages
    open_input, write_output, Record                 # io: readers and writers of batch files
    tag_records, tag_partition, run_partitions,      # batch: the engine
    TagOptions, PartStore                            # batch: crash-safe output in committed parts
    run_parallel, TaggerSpec, tag_dask               # batch: worker processes, Dask (dask extra)
    Library, LibraryCase, NearDuplicate              # library/: SQLite case library across years
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

from .errors import (
    FormatError,
    IndexFormatError,
    InputError,
    LibraryBusyError,
    LibraryFormatError,
    ModelError,
    ParseError,
    TaxonomyError,
    YanreformError,
)

__version__ = "0.1.0"

logging.getLogger("yanreform").addHandler(logging.NullHandler())

# public name -> submodule that defines it; imported on first access so `import yanreform` stays light.
_LAZY: dict[str, str] = {
    "load_corpus": "corpus",
    "parse_collection": "corpus",
    "read_collection": "corpus",
    "Corpus": "corpus",
    "Case": "corpus",
    "Initiative": "corpus",
    "normalize": "text.normalize",
    "normalize_text": "text.normalize",
    "Segmenter": "text.segment",
    "Token": "text.segment",
    "Encoder": "embed.encoder",
    "HashingModel": "embed.fake",
    "Analysis": "text.analysis",
    "Analyzer": "text.analysis",
    "topk": "search.vector",
    "ApproxIndex": "search.approx",
    "CaseIndex": "search.index",
    "Hit": "search.index",
    "HitList": "search.index",
    "Explanation": "search.index",
    "IndexConfig": "search.index",
    "Taxonomy": "tagging.taxonomy",
    "Category": "tagging.taxonomy",
    "Tagger": "tagging.tagger",
    "Tag": "tagging.records",
    "TagList": "tagging.records",
    "Evidence": "tagging.records",
    "CaseTags": "tagging.records",
    "EvalReport": "tagging.evaluate",
    "tag_frame": "apps.frame",
    "tag_documents": "tagging.documents",
    "DocumentTags": "tagging.documents",
    "open_input": "io",
    "write_output": "io",
    "Record": "io",
    "PartStore": "batch",
    "TagOptions": "batch",
    "tag_records": "batch",
    "tag_partition": "batch",
    "run_partitions": "batch",
    "run_parallel": "batch.parallel",
    "TaggerSpec": "batch.parallel",
    "tag_dask": "batch.dask",
    "Library": "library",
    "LibraryCase": "library",
    "LibraryInitiative": "library",
    "LibraryHit": "library",
    "Collection": "library",
    "NearDuplicate": "library",
    "SharedSpan": "library",
    "RetagStats": "library",
}

__all__ = [
    "FormatError",
    "IndexFormatError",
    "InputError",
    "LibraryBusyError",
    "LibraryFormatError",
    "ModelError",
    "ParseError",
    "TaxonomyError",
    "YanreformError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    modname = _LAZY.get(name)
    if modname is None:
        raise AttributeError(f"module 'yanreform' has no attribute {name!r}")
    try:
        module = importlib.import_module(f".{modname}", __name__)
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{modname}":
            raise AttributeError(f"module 'yanreform' has no attribute {name!r}") from exc
        raise
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if "IPython" in sys.modules:  # in a notebook: richer HTML for cases, tag lists and hits
    from .apps.display import register_formatters

    register_formatters()
