"""Batch tagging as library code: the engine the command line, ``tag_frame`` and runners call.

* :mod:`.engine`: :func:`tag_partition` (records -> output records, the unit of work per partition),
  :func:`tag_records` (streaming to a callback), :func:`run_partitions` (committing into a part store),
  :func:`mark_duplicates`, :class:`TagStats`, :class:`TagOptions`.
* :mod:`.output`: crash-safe output in committed parts with a journal (:class:`PartStore`,
  :func:`write_part`), assembled into the final file at the end; ``--resume`` continues from it.
"""

from .engine import (
    TagOptions,
    TagStats,
    mark_duplicates,
    output_record,
    plural,
    run_partitions,
    tag_partition,
    tag_records,
)
from .output import PartInfo, PartStore, fingerprint_inputs, partial_dir, write_part

__all__ = [
    "PartInfo",
    "PartStore",
    "TagOptions",
    "TagStats",
    "fingerprint_inputs",
    "mark_duplicates",
    "output_record",
    "partial_dir",
    "plural",
    "run_partitions",
    "tag_partition",
    "tag_records",
    "write_part",
]
