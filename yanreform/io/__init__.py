"""Batch input and output: readers (files -> records), the record, writers (records -> files).

:mod:`.readers` streams :class:`Record` s from collections, Word (.docx, .doc, .wps), PDF, JSONL, CSV/TSV and
spreadsheets (.xlsx, .xls); :mod:`.writers` renders output records as JSONL, CSV (UTF-8 with BOM), TSV or
.xlsx. Crash-safe output (committed parts, resume) is :mod:`yanreform.batch.output`.
"""

from .readers import (
    DOCUMENT_KINDS,
    INPUT_KINDS,
    LEVELS,
    TABLE_KINDS,
    InputSource,
    collection_id_prefix,
    decode_bytes,
    input_kind,
    open_input,
    read_document_text,
    read_text_file,
)
from .records import META_FIELDS, Record
from .writers import OUTPUT_FORMATS, OutputFormat, output_format, write_output

__all__ = [
    "DOCUMENT_KINDS",
    "INPUT_KINDS",
    "LEVELS",
    "META_FIELDS",
    "OUTPUT_FORMATS",
    "TABLE_KINDS",
    "InputSource",
    "OutputFormat",
    "Record",
    "collection_id_prefix",
    "decode_bytes",
    "input_kind",
    "open_input",
    "output_format",
    "read_document_text",
    "read_text_file",
    "write_output",
]
