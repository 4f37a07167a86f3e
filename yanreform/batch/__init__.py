"""Batch tagging as library code: the streaming engine the command line, ``tag_frame`` and runners call.

:func:`tag_records` (records in, one output record per input record, error records, resume by skipping done
ids) and :class:`TagStats` live in :mod:`.engine`.
"""

from .engine import TagStats, output_record, plural, tag_records

__all__ = ["TagStats", "output_record", "plural", "tag_records"]
