"""Batch input and output: readers (files -> records), the record, writers (records -> files).

:mod:`.readers` streams :class:`Record` s from collections, .docx, JSONL, CSV/TSV and .xlsx; :mod:`.writers`
writes JSONL or CSV output atomically or appends to it for ``--resume``.
"""

from .readers import INPUT_KINDS, InputSource, decode_bytes, input_kind, open_input, read_text_file
from .records import META_FIELDS, Record
from .writers import OutputFormat, RecordWriter, open_output, read_done_ids

__all__ = [
    "INPUT_KINDS",
    "META_FIELDS",
    "InputSource",
    "OutputFormat",
    "Record",
    "RecordWriter",
    "decode_bytes",
    "input_kind",
    "open_input",
    "open_output",
    "read_done_ids",
    "read_text_file",
]
