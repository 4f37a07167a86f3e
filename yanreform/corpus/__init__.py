"""Reform case collections: parse them into :class:`Case` / :class:`Initiative` records with exact offsets.

A collection (政法改革案例汇编) is plain text: an optional header, then per case an agency line, a title line,
an overview (the *lead*), initiative paragraphs and sometimes a closing result (the *outcome*). The only
changes made to the text are decoding, BOM removal and line-ending normalisation: every stored string is an
exact slice of the input.

Modules: :mod:`.records` (Initiative, Case, Corpus), :mod:`.parse` (:func:`parse_collection`; its docstring
states the recovery rules), :mod:`.load` (:func:`decode_collection`, :func:`read_collection`,
:func:`load_corpus`), :mod:`.agency` (agency and place names, kinds of agency); ``_patterns``, ``_headlines``
and ``_layout`` are the parser's private layers.
"""

from __future__ import annotations

from ._layout import is_page_number
from .load import available_corpora, collection_id_prefix, decode_collection, load_corpus, read_collection
from .parse import parse_collection
from .records import Case, Corpus, Initiative

__all__ = [
    "Case",
    "Corpus",
    "Initiative",
    "available_corpora",
    "collection_id_prefix",
    "decode_collection",
    "is_page_number",
    "load_corpus",
    "parse_collection",
    "read_collection",
]
